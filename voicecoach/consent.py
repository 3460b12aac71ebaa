"""Consent to record the other party, asked once and remembered.

Many places require every party's consent to record a call. VoiceCoach asks the
first time a profile captures the other side; scripts confirm with
``--i-have-consent``; with no terminal to ask at, it refuses.
"""

from __future__ import annotations

import json
import os
import sys

from .log import utc_now
from .paths import ensure_private_dir, user_config_dir

QUESTION = (
    "VoiceCoach will transcribe the other party of this call (audio stays on this laptop). "
    "Do you have their consent to record?"
)


class ConsentError(Exception):
    """Capturing the other party without confirmed consent."""


def consent_path() -> str:
    return os.path.join(user_config_dir(), "consent.json")


def has_consent() -> bool:
    return os.path.exists(consent_path())


def record_consent(how: str) -> None:
    ensure_private_dir(user_config_dir())
    with open(consent_path(), "w", encoding="utf-8") as handle:
        json.dump({"confirmed_at": utc_now(), "how": how}, handle)


def require_consent(confirmed_by_flag: bool, ask=None) -> None:
    """Return when consent is known; ask on a terminal; otherwise raise ConsentError."""
    if has_consent():
        return
    if confirmed_by_flag:
        record_consent("--i-have-consent")
        return
    if ask is not None and sys.stdin is not None and sys.stdin.isatty():
        if ask(QUESTION):
            record_consent("asked")
            return
        raise ConsentError("not recording: the other party's consent was not confirmed")
    raise ConsentError(
        "capturing the other party needs their consent: confirm it once with --i-have-consent "
        "(no terminal here to ask), or use --profile mic-only"
    )
