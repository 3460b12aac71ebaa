"""Where VoiceCoach keeps its files: the user's config and data directories.

``VOICECOACH_HOME`` puts both in one folder (tests, portable installs).
"""

from __future__ import annotations

import os

import platformdirs

APP_NAME = "voicecoach"


def user_config_dir() -> str:
    home = os.environ.get("VOICECOACH_HOME")
    return os.path.join(home, "config") if home else platformdirs.user_config_dir(APP_NAME)


def user_data_dir() -> str:
    home = os.environ.get("VOICECOACH_HOME")
    return os.path.join(home, "data") if home else platformdirs.user_data_dir(APP_NAME)


def default_database_path() -> str:
    return os.path.join(user_data_dir(), "logs.db")


def ensure_private_dir(path: str) -> str:
    """Create ``path`` readable by its owner only: call logs are private."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path
