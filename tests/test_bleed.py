"""Speaker bleed: the prospect's voice leaking into the seller's microphone.

Real espeak-ng speech, leaked into the microphone channel the way loudspeakers do
(delayed, 12 dB down, optionally through a reverberant room), cleaned chunk by
chunk in the order a recorded file delivers them, and judged by the same Silero
endpointer the pipeline uses.
"""

import time

import numpy as np
import pytest

from voicecoach.bleed import BleedCanceller, SellerBleedFilter
from voicecoach.synth import ScriptLine, synthesize_call
from voicecoach.vad import Endpointer

RATE = 16000
CHUNK = RATE // 2  # what the file source delivers per speaker
DELAY = 0.040
LEAK_DB = -12.0

PROSPECT_ALONE = [
    ScriptLine("prospect", "Honestly the price is a lot higher than what we pay today.", pause_before=0.3),
    ScriptLine(
        "prospect", "We tried something like this two years ago and it did not work out.", pause_before=0.6
    ),
]
# The prospect talks alone, then the seller talks over her second line, then she
# talks alone again.
DOUBLE_TALK = [
    ScriptLine("prospect", "Honestly the price is a lot higher than what we pay today.", pause_before=0.3),
    ScriptLine(
        "prospect", "And I would need to talk to my husband about it before we sign anything.", pause_before=0.4
    ),
    ScriptLine("seller", "I completely understand, what matters most to you both?", overlap=2.0),
    ScriptLine("prospect", "We tried something like this two years ago.", pause_before=0.5),
]


@pytest.fixture(scope="module")
def monologue():
    return synthesize_call(PROSPECT_ALONE, tail=0.5)


@pytest.fixture(scope="module")
def overlap():
    return synthesize_call(DOUBLE_TALK, tail=0.5)


def leak(prospect, delay=DELAY, gain_db=LEAK_DB, room=None):
    """The prospect's audio as the seller's microphone hears it from a loudspeaker."""
    path = np.zeros(round(delay * RATE) + 1)
    path[-1] = 1.0
    if room is not None:
        path = np.convolve(path, room)
    path *= 10 ** (gain_db / 20) / np.sqrt(np.sum(path**2))
    return np.convolve(prospect.astype(np.float64), path)[: len(prospect)].astype(np.float32)


def room_response(rt60, direct_to_reverb_db, seed=1):
    """A direct path and an exponentially decaying diffuse tail (a synthetic room)."""
    n = round(rt60 * RATE)
    t = np.arange(n) / RATE
    tail = np.random.default_rng(seed).normal(0, 1, n) * np.exp(-6.9 * t / rt60)
    tail[: round(0.002 * RATE)] = 0.0  # the first reflection arrives a little after the direct sound
    tail *= 10 ** (-direct_to_reverb_db / 20) / np.sqrt(np.sum(tail**2))
    tail[0] = 1.0
    return tail


def clean(mic, loopback, canceller=None):
    """The microphone cleaned, fed the way the file source interleaves the channels
    (the seller's chunk first, then the prospect's for the same time)."""
    bleed_filter = SellerBleedFilter(canceller or BleedCanceller())
    pieces = []
    for start in range(0, len(mic), CHUNK):
        pieces += bleed_filter.seller(mic[start : start + CHUNK], start)
        pieces += bleed_filter.prospect(loopback[start : start + CHUNK], start)
    pieces += bleed_filter.flush()
    out = np.concatenate([piece for piece, _ in pieces])
    assert [start for _, start in pieces] == list(np.cumsum([0] + [len(piece) for piece, _ in pieces[:-1]]))
    assert len(out) == len(mic) and out.dtype == np.float32
    return out, bleed_filter.stats


def seller_segments(samples):
    """Where the pipeline's endpointer (default settings) hears the seller speak."""
    endpointer = Endpointer("seller")
    segments = []
    for start in range(0, len(samples), CHUNK):
        segments += endpointer.feed(samples[start : start + CHUNK], start / RATE, 0.0).segments
    segments += endpointer.flush(0.0).segments
    return [(segment.start, segment.end) for segment in segments]


def energy_db(samples):
    return 10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-30)


def span(call, line):
    return slice(round(line.start * RATE), round(line.end * RATE))


def leaked_spans(call):
    return [slice(round((line.start + DELAY) * RATE), round((line.end + DELAY) * RATE)) for line in call.lines]


def test_leaked_prospect_speech_is_removed_from_a_silent_mic(monologue):
    mic = leak(monologue.prospect)
    assert seller_segments(mic), "the raw leak should sound like the seller talking"

    cleaned, stats = clean(mic, monologue.prospect)

    assert seller_segments(cleaned) == []
    for where in leaked_spans(monologue):
        suppression = energy_db(mic[where]) - energy_db(cleaned[where])
        print(f"leak {energy_db(mic[where]):.1f} dBFS, suppressed by {suppression:.1f} dB")
        assert suppression >= 20.0
    print(stats.describe())
    assert stats.active
    assert stats.lag_ms == pytest.approx(DELAY * 1000, abs=1.0)
    assert stats.gain_db == pytest.approx(LEAK_DB, abs=1.0)


@pytest.mark.parametrize("room", [None, "small room"])
def test_double_talk_keeps_the_sellers_words(overlap, room):
    leaked = leak(overlap.prospect, room=room_response(rt60=0.2, direct_to_reverb_db=3.0) if room else None)
    mic = overlap.seller + leaked
    seller_line = overlap.lines[2]
    words = span(overlap, seller_line)
    raw = seller_segments(mic)
    assert raw[0][1] < seller_line.start - 1.0, "the prospect alone should be heard on the raw mic"

    cleaned, stats = clean(mic, overlap.prospect)

    # The seller's speech is found where it is, and nothing else is.
    segments = seller_segments(cleaned)
    alone = seller_segments(overlap.seller)
    assert len(segments) == len(alone)
    assert np.allclose(segments, alone, atol=0.1)
    assert all(seller_line.start - 0.1 <= start and end <= seller_line.end + 0.1 for start, end in segments)
    # Its level is untouched, and the leak under it is gone.
    assert abs(energy_db(cleaned[words]) - energy_db(overlap.seller[words])) <= 2.0
    voice = energy_db(overlap.seller[words])
    left = energy_db(cleaned[words] - overlap.seller[words]) - voice
    print(f"leak under the seller's words: raw {energy_db(leaked[words]) - voice:.1f} dB, cleaned {left:.1f} dB")
    assert left <= -20.0
    # The prospect's last line, alone again after the double talk, is still removed.
    last = leaked_spans(overlap)[3]
    assert energy_db(mic[last]) - energy_db(cleaned[last]) >= 20.0
    assert stats.active


@pytest.mark.parametrize("voices", [{}, {"seller": "en-us+f3", "prospect": "en-us"}, {"seller": "en-gb"}])
def test_headphones_leave_the_mic_untouched(voices):
    """No leak: the other party's speech and the seller's are unrelated, whoever talks."""
    call = synthesize_call(DOUBLE_TALK, voices=voices, tail=0.5)
    noise = np.random.default_rng(2).normal(0, 10 ** (-65 / 20), len(call.seller))
    mic = call.seller + noise.astype(np.float32)

    cleaned, stats = clean(mic, call.prospect)

    assert np.array_equal(cleaned, mic)
    assert not stats.active


def test_reverberant_leak_is_removed(monologue):
    """A small room (RT60 0.2 s, direct sound 3 dB above the reverberation)."""
    mic = leak(monologue.prospect, room=room_response(rt60=0.2, direct_to_reverb_db=3.0))
    assert seller_segments(mic)

    cleaned, stats = clean(mic, monologue.prospect)

    assert seller_segments(cleaned) == []
    for where in leaked_spans(monologue):
        suppression = energy_db(mic[where]) - energy_db(cleaned[where])
        print(f"reverberant leak suppressed by {suppression:.1f} dB")
        assert suppression >= 20.0
    assert stats.lag_ms == pytest.approx(DELAY * 1000, abs=1.0)


def test_a_leak_ahead_of_its_loopback_timestamp_needs_a_lead(monologue):
    """Two devices' session clocks agree only to tens of milliseconds: the leak can
    appear 30 ms before the loopback audio it came from."""
    early = round(0.030 * RATE)
    mic = np.zeros_like(monologue.prospect)
    mic[:-early] = leak(monologue.prospect, delay=0.0)[early:]
    causal, _ = clean(mic, monologue.prospect)
    assert seller_segments(causal)

    cleaned, stats = clean(mic, monologue.prospect, BleedCanceller(lead=0.05))

    assert seller_segments(cleaned) == []
    assert stats.lag_ms == pytest.approx(-30.0, abs=1.0)


def test_seller_audio_waits_for_the_loopback_but_not_forever(monologue):
    mic = leak(monologue.prospect)
    bleed_filter = SellerBleedFilter(max_wait=1.0)
    # The seller's first chunk comes before any loopback: held back.
    assert bleed_filter.seller(mic[:CHUNK], 0) == []
    ready = bleed_filter.prospect(monologue.prospect[:CHUNK], 0)
    assert ready[0][1] == 0 and sum(len(piece) for piece, _ in ready) == CHUNK // 512 * 512
    # The loopback stops (device lost): once the seller is a second ahead, its audio
    # flows again unchanged and at once.
    released = []
    for start in range(CHUNK, 4 * RATE, CHUNK):
        released += bleed_filter.seller(mic[start : start + CHUNK], start)
    assert released and released[-1][1] + len(released[-1][0]) > 4 * RATE - 512
    later = [(piece, start) for piece, start in released if start >= 2 * RATE]
    assert all(np.array_equal(piece, mic[start : start + len(piece)]) for piece, start in later)


def test_cancelling_costs_little_cpu(overlap):
    """A minute of double talk with a leak, one block at a time: the cost to a laptop."""
    minute = 60 * RATE
    repeats = -(-minute // len(overlap.seller))
    loopback = np.tile(overlap.prospect, repeats)[:minute]
    mic = np.tile(overlap.seller, repeats)[:minute] + leak(loopback)
    canceller = BleedCanceller()
    started = time.process_time()
    for start in range(0, minute, 512):
        canceller.reference(loopback[start : start + 512], start)
        canceller.process(mic[start : start + 512], start)
    cpu = time.process_time() - started
    print(f"60 s of audio cleaned in {cpu:.2f} s of CPU ({100 * cpu / 60:.1f}% of real time)")
    assert cpu < 0.05 * 60


# -- the whole pipeline: a call recorded on speakers, coached end to end -------------

SPEAKERPHONE_CALL = [
    ScriptLine("seller", "Good morning James, how do you track your inventory today?", pause_before=0.3),
    ScriptLine("prospect", "We count everything by hand on paper every Friday.", pause_before=0.6),
    ScriptLine("seller", "Our scanner app counts the whole warehouse in ten minutes.", pause_before=0.6),
    ScriptLine("prospect", "Honestly, that sounds too expensive for us right now.", pause_before=0.7),
]


@pytest.fixture(scope="module")
def speakerphone_call(tmp_path_factory):
    """A stereo recording whose seller channel also hears the prospect at -12 dB."""
    from voicecoach.synth import write_audio

    call = synthesize_call(SPEAKERPHONE_CALL, tail=0.5)
    microphone = call.seller + leak(call.prospect)
    path = str(tmp_path_factory.mktemp("speakerphone") / "call.wav")
    write_audio(path, np.stack([microphone, call.prospect], axis=1), RATE)
    return call, path


def coach_speakerphone(path, transcriber, remove_bleed):
    from voicecoach.coach import coach_recording
    from voicecoach.testing import CallRecorder, make_profile

    profile = make_profile(["objections"])
    profile.remove_bleed = remove_bleed
    recorder = CallRecorder()
    warnings = []
    summary = coach_recording(profile, input=path, transcriber=transcriber, plugins=[recorder], warn=warnings.append)
    return summary, recorder, warnings


@pytest.mark.slow
def test_the_prospects_words_leaking_into_the_mic_are_not_the_sellers(speakerphone_call, transcriber):
    call, path = speakerphone_call
    summary, recorder, warnings = coach_speakerphone(path, transcriber, remove_bleed=True)
    seller, prospect = recorder.said("seller"), recorder.said("prospect")
    assert "inventory" in seller and "minutes" in seller
    assert "paper" in prospect and "expensive" in prospect
    assert "paper" not in seller and "expensive" not in seller
    # The objection is the prospect's, and prompted once.
    assert [p.trigger.speaker for p in recorder.prompts_of("objection.price")] == ["prospect"]
    truth = {s: sum(line.duration for line in call.lines if line.speaker == s) for s in ("seller", "prospect")}
    measured = summary.talk_seconds
    share = measured["seller"] / (measured["seller"] + measured["prospect"])
    assert abs(share - truth["seller"] / sum(truth.values())) < 0.05
    # The seller hears about it once, and the log keeps what was found.
    assert [w for w in warnings if "picked up the call's audio (-12 dB)" in w]
    [bleed] = [o for o in recorder.observations if o.kind == "bleed"]
    assert bleed.value == pytest.approx(-12, abs=1.5) and bleed.data["lag_ms"] == pytest.approx(40, abs=5)


@pytest.mark.slow
def test_without_bleed_removal_the_seller_is_heard_saying_the_prospects_words(speakerphone_call, transcriber):
    _, path = speakerphone_call
    _, recorder, warnings = coach_speakerphone(path, transcriber, remove_bleed=False)
    assert not any("picked up" in w for w in warnings)
    assert "paper" in recorder.said("seller") or "expensive" in recorder.said("seller")
