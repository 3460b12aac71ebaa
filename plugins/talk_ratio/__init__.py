"""Talk ratio: tells the seller when they talk too much, or too long at once.

Works from speech activity alone (who spoke when), so it reacts before any
words are transcribed. Only the seller and the prospect are counted; a one-channel
("mixed") recording cannot tell them apart and gets no talk-ratio prompts.
At the end of the call it logs the seller's share, talk seconds per speaker and
the longest monologue.
"""

from __future__ import annotations

from voicecoach import hookimpl

from .coach import TalkRatioCoach

DEFAULTS = {
    # The recent stretch the seller's share is measured over: long enough to span
    # several turns, short enough to react while the call can still change.
    "window_seconds": 300,
    # Gong Labs' study of 25,537 B2B sales calls ("The highest converting
    # talk-to-listen ratio"): conversion peaked near 43% seller talk and fell off
    # once the seller talked more than 65%.
    "max_seller_share": 0.65,
    # Below this much talk in the window a share means little (two short lines).
    "min_window_talk_seconds": 60,
    # Gong Labs reports top sellers' longest monologues averaging around 76 seconds
    # on discovery calls; 90 s leaves a margin before the prompt.
    "max_monologue_seconds": 90,
}


@hookimpl
def session_started(session):
    settings = session.settings("talk_ratio", DEFAULTS)
    where = f"{session.profile.path}: plugins.talk_ratio"
    values = {}
    for name in DEFAULTS:
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{where}.{name} must be a positive number")
        values[name] = float(value)
    if values["max_seller_share"] >= 1:
        raise ValueError(f"{where}.max_seller_share must be a fraction below 1, such as 0.65")
    return TalkRatioCoach(**values)


__all__ = ["DEFAULTS", "TalkRatioCoach", "session_started"]
