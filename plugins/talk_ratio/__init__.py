"""Talk dynamics: how the seller talks and listens, live and for the whole call.

One coach per concern, each its own file:

- talk ratio and monologues (``coach.py``): the seller's share of the talk over
  the call and a recent window, and the longest run of seller speech;
- interruptions (``interruptions.py``): the seller starting while the prospect is
  mid-utterance, backchannels ("mm-hm") left out;
- pace (``pace.py``): the seller's words per minute;
- questions (``questions.py``): questions the seller asks;
- filler words (``fillers.py``): per 100 seller words;
- long silences (``silences.py``): nobody speaking.

Talk ratio, monologues, interruptions and silences work from speech activity alone
(who spoke when), so they react before any words are transcribed; pace,
questions and fillers read the final transcripts. Only the seller and the prospect
are told apart: a one-channel ("mixed") call gets silences and nothing else.
Prompts are few and each kind is rate-limited; every figure is also logged as an
Observation at the end of the call (kinds ``talk_ratio``, ``interruptions``,
``pace``, ``questions``, ``fillers``, ``silences``), and each interruption,
monologue and long silence as it happens.
"""

from __future__ import annotations

from voicecoach import hookimpl

from .coach import TalkRatioCoach
from .fillers import FillerCounter, count_fillers
from .interruptions import InterruptionCoach
from .pace import PaceCoach
from .questions import QuestionCounter, questions_in
from .silences import SilenceCoach

DEFAULTS = {
    # -- talk ratio and monologues ------------------------------------------------
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
    # -- interruptions ------------------------------------------------------------
    # Seller speech shorter than this while the prospect talks is a backchannel
    # ("mm-hm", "right", "yeah" last well under a second), not a bid for the turn:
    # the same line monologues draw between a backchannel and a turn.
    "interruption_min_seconds": 1.0,
    # Gaps between turns are of the order of 200 ms and a reply often starts just
    # before the other's last word (Levinson & Torreira 2015, "Timing in
    # turn-taking", Frontiers in Psychology 6:731). The seller must start at least
    # this far into the prospect's speech, and the prospect go on at least this
    # long after, for it to be an interruption rather than an early reply.
    "interruption_overlap_seconds": 0.5,
    # One interruption is an accident or enthusiasm; two within two minutes is a
    # habit worth a prompt (our choice).
    "interruptions_to_prompt": 2,
    "interruption_window_seconds": 120,
    # -- pace ---------------------------------------------------------------------
    # Read.ai's guidance for meetings: 130-175 words per minute is a clear,
    # comfortable pace. The call's figure is logged against this range.
    "min_words_per_minute": 130,
    "max_words_per_minute": 175,
    # Gong Labs (67,149 sales meetings): reps average about 173 words per minute
    # and speed up to about 188 after an objection they cannot handle. Prompt only
    # at that rushed pace; the prompt re-arms once the pace is back under
    # max_words_per_minute.
    "slow_down_words_per_minute": 190,
    # The seller's utterances that ended this recently make the live figure, and
    # only once they hold this many words (about 15 s of speech): fewer give a
    # noisy rate (our choice).
    "pace_window_seconds": 60,
    "pace_min_words": 40,
    # -- questions ----------------------------------------------------------------
    # Gong Labs' analysis of discovery calls: 11-14 questions per call went with
    # the best outcomes, with diminishing returns above. Logged, never prompted.
    "min_questions": 11,
    "max_questions": 14,
    # -- filler words -------------------------------------------------------------
    # The usual list of spoken fillers. Whisper drops most "um" and "uh", so the
    # rate undercounts those (see fillers.py). Logged, never prompted.
    "filler_words": [
        "um", "uh", "er", "erm", "hmm", "like", "you know", "i mean", "sort of", "kind of",
        "basically", "actually", "literally",
    ],
    # -- silences -----------------------------------------------------------------
    # About one second is the "standard maximum" silence in conversation, past
    # which people treat it as trouble (Jefferson 1989, "Preliminary notes on a
    # possible metric which provides for a 'standard maximum' silence of
    # approximately one second in conversation"). A call has room for thinking and
    # looking at a screen: five times that is dead air (our choice).
    "long_silence_seconds": 5,
    # -- all prompts --------------------------------------------------------------
    # An interruption, pace or silence prompt is not repeated sooner than this:
    # the same advice twice in two minutes is nagging (our choice). Arbitration's
    # cool-down applies on top.
    "repeat_prompt_seconds": 120,
}

WHOLE_NUMBERS = {"interruptions_to_prompt", "min_questions", "max_questions"}
FRACTIONS = {"max_seller_share"}
LISTS = {"filler_words"}


@hookimpl
def session_started(session):
    values = read_settings(session.settings("talk_ratio", DEFAULTS), f"{session.profile.path}: plugins.talk_ratio")
    return coaches(values)


def read_settings(settings: dict, where: str) -> dict:
    """Checked settings: numbers as floats, whole numbers as ints; ValueError naming the bad one."""
    values = {}
    for name in DEFAULTS:
        value = settings[name]
        if name in LISTS:
            if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
                raise ValueError(f"{where}.{name} must be a list of words or phrases")
            values[name] = value
        elif name in WHOLE_NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{where}.{name} must be a whole number, 1 or more")
            values[name] = value
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{where}.{name} must be a positive number")
            values[name] = float(value)
    for name in FRACTIONS:
        if values[name] >= 1:
            raise ValueError(f"{where}.{name} must be a fraction below 1, such as 0.65")
    for low, high in (("min_words_per_minute", "max_words_per_minute"),
                      ("max_words_per_minute", "slow_down_words_per_minute"),
                      ("min_questions", "max_questions")):
        if values[low] > values[high]:
            raise ValueError(f"{where}.{low} must not be above {high}")
    return values


def coaches(values: dict) -> list:
    """One coach object per concern, registered for the session."""
    return [
        TalkRatioCoach(
            window_seconds=values["window_seconds"],
            max_seller_share=values["max_seller_share"],
            min_window_talk_seconds=values["min_window_talk_seconds"],
            max_monologue_seconds=values["max_monologue_seconds"],
        ),
        InterruptionCoach(
            min_seconds=values["interruption_min_seconds"],
            overlap_seconds=values["interruption_overlap_seconds"],
            to_prompt=values["interruptions_to_prompt"],
            window_seconds=values["interruption_window_seconds"],
            repeat_seconds=values["repeat_prompt_seconds"],
        ),
        PaceCoach(
            min_words_per_minute=values["min_words_per_minute"],
            max_words_per_minute=values["max_words_per_minute"],
            slow_down_words_per_minute=values["slow_down_words_per_minute"],
            window_seconds=values["pace_window_seconds"],
            min_words=values["pace_min_words"],
            repeat_seconds=values["repeat_prompt_seconds"],
        ),
        QuestionCounter(min_questions=values["min_questions"], max_questions=values["max_questions"]),
        FillerCounter(filler_words=values["filler_words"]),
        SilenceCoach(long_seconds=values["long_silence_seconds"], repeat_seconds=values["repeat_prompt_seconds"]),
    ]


__all__ = [
    "DEFAULTS",
    "FillerCounter",
    "InterruptionCoach",
    "PaceCoach",
    "QuestionCounter",
    "SilenceCoach",
    "TalkRatioCoach",
    "coaches",
    "count_fillers",
    "questions_in",
    "read_settings",
    "session_started",
]
