import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import pytest


@pytest.fixture(autouse=True)
def voicecoach_home(tmp_path, monkeypatch):
    """Every test gets its own config and data folders: nothing touches the real user's."""
    home = tmp_path / "voicecoach-home"
    monkeypatch.setenv("VOICECOACH_HOME", str(home))
    # No desktop notifications popping up on a developer's screen during the tests:
    # the notifier's own tests start a private bus.
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    return home


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "log.db")


@pytest.fixture
def user_profiles(voicecoach_home):
    folder = voicecoach_home / "config" / "profiles"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def pulse_server():
    from audio_server import PulseServer

    server = PulseServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server for one test module (tests/postgres_server.py)."""
    from postgres_server import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def engine():
    """One embedded tiny.en model for the whole run (loading it is the slow part),
    decoding as faster-whisper does: 30 s windows, greedy."""
    from voicecoach.default_plugins.faster_whisper_transcriber import FasterWhisperTranscriber

    return FasterWhisperTranscriber()


@pytest.fixture(scope="session")
def transcriber(engine):
    """The same model as `voicecoach run` uses it: the 10 s encoder window for short utterances."""
    from voicecoach.transcription import EncoderWindowTranscriber

    return EncoderWindowTranscriber(engine)
