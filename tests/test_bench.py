"""The benchmark's own machinery: a smoke test of ``voicecoach bench --quick`` and the
scoring it rests on. Speed targets live in the benchmark (BENCHMARKS.md), never here."""

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach import PROSPECT, SELLER
from voicecoach.bench import (
    CALL_SET,
    Heard,
    TrueLine,
    _AgreementChannel,
    bench_command,
    compose,
    long_call,
    mark_turn_ends,
    number_words,
    score,
    simulate_chunks,
    words_of,
)

NUMBER = r"-?\d+\.\d+"


@pytest.mark.slow
def test_quick_bench_prints_every_table_with_numbers(tmp_path):
    saved = tmp_path / "bench.json"
    result = CliRunner().invoke(bench_command, ["--quick", "--json", str(saved)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(rf"^early \+ partials\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+\d+/\d+", out, re.M), out
    for system in ("5 s chunks", "LocalAgreement (whisper_streaming)"):
        row = rf"^{re.escape(system)}" + rf"\s+{NUMBER}" * 5
        assert re.search(row, out, re.M), out
    assert "computation-aware simulation" in out
    for command in ("run --input", "run --input --fast"):
        assert re.search(rf"Offline \(`{re.escape(command)}`, no pacing\): .* = {NUMBER}x real time", out), out
    assert re.search(rf"Start to listening: {NUMBER} s", out)
    assert re.search(r"machine: \d+ cores", out)

    figures = json.loads(saved.read_text())
    [ours] = figures["configurations"]
    assert ours["turn_ends"] >= 2 and ours["turn_p50"] is not None
    assert ours["objections"] == 1
    assert 0 <= ours["wer"] < 1
    assert ours["cpu_machine"] > 0 and ours["rss_peak_mb"] > 0
    assert {row["system"] for row in figures["baselines"]} >= {"5 s chunks", "LocalAgreement (whisper_streaming)"}
    assert figures["startup"]["listening_s"][0] > 0
    assert set(figures["offline"]) == {"run --input", "run --input --fast"}


def test_the_call_set_is_fixed_by_its_seeds():
    first = [compose(call) for call in CALL_SET]
    assert first == [compose(call) for call in CALL_SET]
    lines = [line for call in first for line in call]
    kinds = {line.kind for line in lines}
    assert {"backchannel", "objection", "monologue", "split"} <= kinds
    assert any(line.overlap > 0 and line.kind != "backchannel" for line in lines), "turns that overlap"
    assert long_call("offline", 10, seed=10) == long_call("offline", 10, seed=10)


def test_words_are_compared_without_case_punctuation_or_number_spelling():
    assert words_of("It's $49 a month, OK?") == "it is forty nine dollars a month okay".split()
    assert words_of("Mm-hmm.") == words_of("mm-hm") == ["mhm"]
    assert words_of("a 30-day trial") == "a thirty day trial".split()
    assert number_words(1205) == "one thousand two hundred five"


def line(speaker, text, start, end, **kind):
    return TrueLine(speaker, text, start, end, **kind)


def test_latency_runs_from_the_end_of_a_turn_to_the_text_holding_its_last_word():
    lines = mark_turn_ends([
        line(SELLER, "How is business this year?", 0.5, 2.0),
        line(PROSPECT, "It is too expensive,", 2.5, 4.0, objection="price", continues=True),
        line(PROSPECT, "for a shop like ours.", 4.6, 6.0),
        line(SELLER, "Right.", 5.0, 5.3, kind="backchannel"),
    ])
    assert [l.turn_end for l in lines] == [True, False, True, False]
    heard = [
        Heard(SELLER, 0.5, 2.0, "How is business this year", at=2.6),
        Heard(PROSPECT, 2.5, 6.0, "It's to expensive for a shop like ours", at=6.5),
    ]
    result = score(lines, heard)
    assert sorted(result.turns) == pytest.approx([0.5, 0.6])
    assert result.objection_text == pytest.approx([6.5 - 4.0])
    assert sorted(result.per_text) == pytest.approx([0.5, 0.6])  # one final transcript per speaker
    # "to" for "too" and the missed backchannel: 2 errors in 15 words.
    assert (result.errors, result.reference_words) == (2, 15)


def test_a_turn_nobody_heard_is_missed_not_measured():
    lines = mark_turn_ends([line(SELLER, "Hello there.", 0.5, 1.5), line(PROSPECT, "Hi.", 2.0, 2.3)])
    result = score(lines, [Heard(SELLER, 0.5, 1.5, "hello there", at=2.0)])
    assert result.turns == pytest.approx([0.5]) and result.missed == 1


def test_local_agreement_commits_what_two_consecutive_hypotheses_agree_on():
    channel = _AgreementChannel(PROSPECT, np.zeros(16000 * 10, np.float32))
    first = [(0.0, 0.4, " It"), (0.4, 0.8, " is"), (0.8, 1.2, " too")]
    assert channel._insert_and_flush(first) == []
    second = [(0.0, 0.4, " It"), (0.4, 0.8, " is"), (0.8, 1.2, " to"), (1.2, 1.8, " expensive")]
    assert [w for *_, w in channel._insert_and_flush(second)] == [" It", " is"]
    third = [(0.0, 0.4, " It"), (0.4, 0.8, " is"), (0.8, 1.2, " to"), (1.2, 1.8, " expensive.")]
    assert [w for *_, w in channel._insert_and_flush(third)] == [" to"]


class FakeModel:
    """Decodes take a fixed time; every chunk is heard as one word."""

    def __init__(self, seconds):
        self.seconds = seconds

    def transcribe(self, samples, **options):
        import time

        time.sleep(self.seconds)
        return [SimpleNamespace(text="word", start=0.0, end=len(samples) / 16000, words=[])], None


def test_fixed_chunks_queue_on_one_decoder_when_it_is_slower_than_speech():
    silence = np.zeros(16000 * 10, np.float32)
    call = SimpleNamespace(name="call", duration=10.0)
    run = simulate_chunks(call, FakeModel(0.2), {SELLER: silence, PROSPECT: silence})
    # Chunks end at 5 s and 10 s; the prospect's goes first, the seller's waits for it.
    heard = sorted(run.heard, key=lambda h: h.at)
    assert [h.speaker for h in heard] == [PROSPECT, SELLER, PROSPECT, SELLER]
    assert [h.at for h in heard] == pytest.approx([5.2, 5.4, 10.2, 10.4], abs=0.1)
