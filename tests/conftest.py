import os

import pytest


@pytest.fixture(autouse=True)
def voicecoach_home(tmp_path, monkeypatch):
    """Every test gets its own config and data folders: nothing touches the real user's."""
    home = tmp_path / "voicecoach-home"
    monkeypatch.setenv("VOICECOACH_HOME", str(home))
    return home


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "log.db")


@pytest.fixture
def user_profiles(voicecoach_home):
    folder = voicecoach_home / "config" / "profiles"
    folder.mkdir(parents=True)
    return folder
