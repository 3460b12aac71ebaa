"""Synthetic calls spoken by the real espeak-ng: the timing truth must match the audio."""

import wave

import numpy as np
import pytest
import yaml

from voicecoach.audio import decode_file
from voicecoach.demo import demo_audio_path, demo_script_path, demo_timing
from voicecoach.synth import ScriptLine, SynthesisError, synthesize_call

RATE = 16000
LINES = [
    ScriptLine("seller", "How do you handle your bookkeeping today?", pause_before=0.3),
    ScriptLine("prospect", "I use a spreadsheet.", pause_before=0.6),
    ScriptLine("seller", "That sounds like a lot of work.", pause_before=0.4),
]
# Where a listener would say speech starts: -40 dBFS.
AUDIBLE = 0.01


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("synth-cache"))


@pytest.fixture(scope="module")
def call(cache_dir):
    return synthesize_call(LINES, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def stereo(call, tmp_path_factory):
    """The call as written to disk, read back with the stdlib: (seller, prospect)."""
    path = str(tmp_path_factory.mktemp("call") / "call.wav")
    call.write_stereo(path)
    with wave.open(path) as f:
        assert (f.getnchannels(), f.getframerate(), f.getsampwidth()) == (2, RATE, 2)
        frames = np.frombuffer(f.readframes(f.getnframes()), "<i2").reshape(-1, 2) / 32768.0
    return frames[:, 0], frames[:, 1]


def window(samples, start, end):
    return samples[int(start * RATE) : int(end * RATE)]


def test_lines_are_placed_in_order_with_their_pauses(call):
    assert [line.text for line in call.lines] == [line.text for line in LINES]
    assert len(call.seller) == len(call.prospect) == round(call.duration * RATE)
    previous_end = 0.0
    for script, spoken in zip(LINES, call.lines):
        assert spoken.speaker == script.speaker
        assert 0.5 < spoken.duration < 4.0
        assert spoken.start == pytest.approx(previous_end + script.pause_before, abs=1e-3)
        previous_end = spoken.end
    assert call.duration == pytest.approx(previous_end + 1.0, abs=1e-3)  # the default tail


def test_each_channel_carries_only_its_speaker(call, stereo):
    channels = {"seller": stereo[0], "prospect": stereo[1]}
    for line in call.lines:
        other = "prospect" if line.speaker == "seller" else "seller"
        speech = window(channels[line.speaker], line.start, line.end)
        assert np.sqrt(np.mean(speech**2)) > 0.03, line.text
        assert np.abs(window(channels[other], line.start, line.end)).max() < 1e-3, line.text


def test_boundaries_are_where_the_speech_is(call, stereo):
    """espeak's silence padding is trimmed: start and end are within 50 ms of the sound."""
    channels = {"seller": stereo[0], "prospect": stereo[1]}
    for line in call.lines:
        around = window(channels[line.speaker], line.start - 0.25, line.end + 0.25)
        loud = np.flatnonzero(np.abs(around) > AUDIBLE)
        heard_start = line.start - 0.25 + loud[0] / RATE
        heard_end = line.start - 0.25 + (loud[-1] + 1) / RATE
        assert heard_start == pytest.approx(line.start, abs=0.05), line.text
        assert heard_end == pytest.approx(line.end, abs=0.05), line.text


def test_overlap_starts_a_line_before_the_previous_one_ends(cache_dir):
    call = synthesize_call(
        [LINES[0], ScriptLine("prospect", "I use a spreadsheet.", overlap=0.5)], cache_dir=cache_dir
    )
    first, second = call.lines
    assert second.start == pytest.approx(first.end - 0.5, abs=1e-3)
    both = (second.start + 0.1, first.end - 0.1)
    assert np.abs(window(call.seller, *both)).max() > 0.05
    assert np.abs(window(call.prospect, *both)).max() > 0.05


def test_flac_and_mono_files_decode_to_the_same_audio(call, tmp_path):
    call.write_stereo(str(tmp_path / "call.flac"))
    call.write_mono_pair(str(tmp_path / "seller.wav"), str(tmp_path / "prospect.wav"))
    decoded = np.concatenate(list(decode_file(str(tmp_path / "call.flac"))), axis=1)
    assert decoded.shape == (2, len(call.seller))
    assert np.abs(decoded[0] - call.seller).max() < 1e-3
    assert np.abs(decoded[1] - call.prospect).max() < 1e-3
    prospect = np.concatenate(list(decode_file(str(tmp_path / "prospect.wav"))), axis=1)
    assert prospect.shape == (1, len(call.prospect))
    assert np.abs(prospect[0] - call.prospect).max() < 1e-3


def test_noise_is_reproducible_from_the_seed(cache_dir):
    first = synthesize_call(LINES[:1], noise=0.01, seed=1, cache_dir=cache_dir)
    again = synthesize_call(LINES[:1], noise=0.01, seed=1, cache_dir=cache_dir)
    other = synthesize_call(LINES[:1], noise=0.01, seed=2, cache_dir=cache_dir)
    assert np.array_equal(first.prospect, again.prospect)
    assert not np.array_equal(first.prospect, other.prospect)
    assert np.std(window(first.prospect, 0, first.lines[0].start)) == pytest.approx(0.01, rel=0.1)


def test_missing_espeak_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(SynthesisError, match="apt-get install espeak-ng"):
        synthesize_call(LINES, cache_dir=str(tmp_path))


def test_cached_clips_need_no_espeak(call, cache_dir, monkeypatch):
    monkeypatch.setenv("PATH", "")
    again = synthesize_call(LINES, cache_dir=cache_dir)
    assert np.array_equal(again.seller, call.seller)


def test_script_lines_are_validated(cache_dir):
    with pytest.raises(ValueError, match="speaker"):
        ScriptLine("buyer", "Hello.")
    with pytest.raises(ValueError, match="longer than the previous line"):
        synthesize_call([LINES[1], ScriptLine("seller", "Yes.", overlap=30.0)], cache_dir=cache_dir)


def test_bundled_demo_matches_its_script():
    """Editing script.yaml without running `python -m voicecoach.demo` fails here."""
    with open(demo_script_path(), encoding="utf-8") as f:
        script = yaml.safe_load(f)
    timing = demo_timing()
    assert [(line.speaker, line.text) for line in timing.lines] == [
        (line["speaker"], line["text"]) for line in script["lines"]
    ]
    assert 75 <= timing.duration <= 110
    samples = sum(block.shape[1] for block in decode_file(demo_audio_path()))
    assert samples / RATE == pytest.approx(timing.duration, abs=0.01)
