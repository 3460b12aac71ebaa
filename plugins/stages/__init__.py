"""Stages: follows the call through opening, discovery, presentation, objection
handling and closing, and says what to do next.

Each change of stage is logged (with how long the previous stage lasted) and
prompted once with advice for the new stage; the end of the call logs the time
spent in each. Gaps are prompted too: pitching before any discovery question, a
presentation running long, and no next step agreed when the call is ending (its
goodbyes, or near its planned length when that is set). Cues come from both
speakers' words (``stages.yaml``); ``tests/corpus/dialogues`` holds the labelled
calls they are measured on.
"""

from __future__ import annotations

from voicecoach import hookimpl

from .coach import StageCoach
from .definitions import load_stage_book

DEFAULTS = {
    # Longest stretch of presentation before a check-in prompt. Gong Labs' analysis
    # of 121,828 recorded sales meetings (2018) found that in won deals the seller's
    # presentation stayed under about 9 minutes before the buyer was brought back in.
    "max_presentation_seconds": 540,
    # The call's planned length, for a no-next-step warning while there is still time.
    # No default: calls vary, and a guess would nag on every short call. Without it,
    # the warning comes when goodbyes are said with no next step agreed.
    "expected_call_seconds": None,
    # "Near the end" means the last 10% of the planned length: for a 30-minute call,
    # the last 3 minutes, still time to agree a date.
    "next_step_share": 0.10,
}


@hookimpl
def session_started(session):
    settings = session.settings("stages", DEFAULTS)
    where = f"{session.profile.path}: plugins.stages"
    max_presentation = _positive(settings["max_presentation_seconds"], f"{where}.max_presentation_seconds")
    expected = settings["expected_call_seconds"]
    if expected is not None:
        expected = _positive(expected, f"{where}.expected_call_seconds")
    share = _positive(settings["next_step_share"], f"{where}.next_step_share")
    if share >= 1:
        raise ValueError(f"{where}.next_step_share must be a fraction below 1, such as 0.1")
    return StageCoach(load_stage_book(), max_presentation, expected, share)


def _positive(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{where} must be a positive number")
    return float(value)


__all__ = ["DEFAULTS", "StageCoach", "session_started"]
