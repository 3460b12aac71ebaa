"""Bad input gets one clear line and a non-zero exit, never a traceback."""

import wave

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.cli import build_cli


def run_cli(*args):
    result = CliRunner().invoke(build_cli(), list(args))
    return result


def assert_clean_error(result, *expected_words):
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    message = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(message) == 1, result.output
    for word in expected_words:
        assert word in message[0], message[0]


def write_wav(path, samples, rate=16000, channels=1):
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(data.tobytes())


def test_missing_file(tmp_path):
    assert_clean_error(run_cli("run", "--input", str(tmp_path / "nope.wav")), "nope.wav", "does not exist")


def test_file_that_is_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are my call notes, not audio\n" * 20)
    assert_clean_error(run_cli("run", "--input", str(path)), "notes.wav", "not an audio file")


def test_truncated_wav(tmp_path):
    path = tmp_path / "cut.wav"
    write_wav(path, np.zeros(16000 * 3))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_clean_error(run_cli("run", "--input", str(path)), "cut.wav", "truncated")


def test_zero_length_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    assert_clean_error(run_cli("run", "--input", str(path)), "empty")


def test_silence_only(tmp_path, db_path):
    path = tmp_path / "silence.wav"
    write_wav(path, np.zeros(16000 * 4))
    result = run_cli("run", "--input", str(path), "--db", db_path)
    assert_clean_error(result, "no speech found", "silence.wav")


def test_unknown_plugin_in_profile(tmp_path):
    profile = tmp_path / "mine.yaml"
    profile.write_text("plugins:\n  objections: {}\n  crm_magic: {}\n")
    transcript = tmp_path / "call.yaml"
    transcript.write_text("- {speaker: prospect, text: hello}\n")
    result = run_cli("run", "--profile", str(profile), "--transcript", str(transcript))
    assert_clean_error(result, "mine.yaml", "crm_magic", "not an installed plugin", "objections")


def test_profile_with_a_yaml_syntax_error(tmp_path):
    profile = tmp_path / "broken.yaml"
    profile.write_text("plugins:\n  objections: {\n  stages: [\n")
    result = run_cli("run", "--profile", str(profile), "--transcript", str(profile))
    assert_clean_error(result, "broken.yaml", "YAML syntax error", "line")


def test_profile_with_an_unknown_key(tmp_path):
    profile = tmp_path / "typo.yaml"
    profile.write_text("plugin:\n  objections: {}\n")
    result = run_cli("plugins", "--profile", str(profile))
    assert_clean_error(result, "typo.yaml", "'plugin'", "allowed keys")


@pytest.mark.parametrize("decoding, words", [
    ("beem: 2", ["decoding.beem is not a setting", "beam_size"]),
    ("beam_size: fast", ["decoding.beam_size must be a number"]),
    ("beam_size: 0", ["decoding: beam size must be a whole number from 1"]),
    ("encoder_window: 4", ["decoding: encoder window must be 10 to 30 seconds"]),
])
def test_profile_with_bad_decoding_settings(tmp_path, decoding, words):
    profile = tmp_path / "mine.yaml"
    profile.write_text(f"decoding:\n  {decoding}\nplugins:\n  objections: {{}}\n")
    speech = tmp_path / "speech.wav"
    write_wav(speech, np.zeros(1600))
    result = run_cli("run", "--profile", str(profile), "--input", str(speech), "--db", str(tmp_path / "log.db"))
    assert_clean_error(result, "mine.yaml", *words)


def test_unknown_profile_name():
    assert_clean_error(run_cli("plugins", "--profile", "skype"), "skype", "zoom")


def test_model_path_that_is_not_a_model(tmp_path):
    speech = tmp_path / "speech.wav"
    write_wav(speech, np.zeros(1600))
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello")
    result = run_cli("run", "--input", str(speech), "--model", str(folder))
    assert_clean_error(result, "not-a-model", "not a faster-whisper model folder")


def test_model_name_that_is_not_installed(tmp_path):
    speech = tmp_path / "speech.wav"
    write_wav(speech, np.zeros(1600))
    result = run_cli("run", "--input", str(speech), "--model", "large-v9.en")
    assert_clean_error(result, "large-v9.en", "not installed")


def test_corrupt_model_file(tmp_path):
    speech = tmp_path / "speech.wav"
    write_wav(speech, np.zeros(1600))
    folder = tmp_path / "broken-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"\x00garbage" * 100)
    (folder / "config.json").write_text("{}")
    result = run_cli("run", "--input", str(speech), "--model", str(folder))
    assert_clean_error(result, "could not be loaded")


def test_transcript_file_with_a_bad_speaker(tmp_path):
    transcript = tmp_path / "call.yaml"
    transcript.write_text("- {speaker: prospect, text: hello}\n- {speaker: customer, text: hi}\n")
    assert_clean_error(run_cli("run", "--transcript", str(transcript)), "call.yaml", "line 2", "speaker")


def test_live_capture_without_consent_and_no_terminal_refuses():
    result = run_cli("run", "--profile", "zoom")
    assert_clean_error(result, "consent", "--i-have-consent")


def test_report_before_any_call():
    assert_clean_error(run_cli("report"), "voicecoach demo")
