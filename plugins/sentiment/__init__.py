"""Sentiment: how the prospect feels, per utterance and as a trend.

Each final prospect utterance gets VADER's compound score (-1 to +1), logged as an
Observation of kind ``sentiment`` with the trend: the mean of the prospect's last
few utterances. When the mood turns negative after being neutral or positive
(the trend crosses VADER's negative threshold, or one remark is strongly
negative), the seller gets one high-priority prompt quoting the words that turned
it; it re-arms once the trend recovers. The call's mean, counts and lowest moment are
logged at the end as ``sentiment_summary``.

VADER is a lexicon built from social-media ratings, with a few changes for sales
calls (``scoring.py``). It reads words, not tone of voice, and a prospect
describing their pain ("our biggest problem is the receipts") reads as negative
too, so the prompt asks the seller to acknowledge, which fits both. Only the
prospect's words count: on a one-channel ("mixed") call the seller's own words
would sway it, so it stays silent there.

Profile settings (``plugins: sentiment:``)::

    window_utterances: 3
    lexicon: {cheaper: 1.0, competitor: -0.5}   # extra or changed words, -4..+4
"""

from __future__ import annotations

from voicecoach import hookimpl

from .coach import SentimentCoach
from .scoring import SALES_LEXICON, Scorer

DEFAULTS = {
    # VADER's own thresholds (vaderSentiment README, "About the scoring": the
    # values used in the literature it cites): compound <= -0.05 is negative,
    # >= 0.05 positive, between is neutral. The trend turning negative is its mean
    # crossing the first.
    "negative": -0.05,
    "positive": 0.05,
    # One remark this negative turns the mood on its own, even after warm ones:
    # two complaints in one breath ("a waste of our time and I'm not happy",
    # -0.70) or a strong one ("I hate it", -0.57). A single plain complaint
    # ("that is a problem", -0.40) must pull the trend down instead (our choice).
    "strong_negative": -0.5,
    # The trend is the mean of the prospect's last three counted utterances: one
    # remark is noise, three are a mood; more would react a turn too late (our choice).
    "window_utterances": 3,
    # Shorter utterances ("No.", "Okay.", "Sure thing") carry no mood worth a trend
    # and VADER scores bare answers as feelings ("no" is -1.2 in its lexicon).
    "min_words": 3,
    # At most one sentiment prompt in this long: a mood does not change every
    # sentence, and a second "they turned negative" soon after the first says
    # nothing new (our choice).
    "repeat_prompt_seconds": 120,
    # Extra or changed words for VADER's lexicon, each -4 (most negative) to +4.
    "lexicon": {},
}


@hookimpl
def session_started(session):
    settings = session.settings("sentiment", DEFAULTS)
    where = f"{session.profile.path}: plugins.sentiment"
    for name in ("negative", "positive"):
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
            raise ValueError(f"{where}.{name} must be a compound score between -1 and 1, such as -0.05")
    strong = settings["strong_negative"]
    if isinstance(strong, bool) or not isinstance(strong, (int, float)) or not -1 <= strong <= settings["negative"]:
        raise ValueError(f"{where}.strong_negative must be a compound score from -1 up to negative, such as -0.5")
    if settings["negative"] >= settings["positive"]:
        raise ValueError(f"{where}.negative must be below {where}.positive")
    for name in ("window_utterances", "min_words"):
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}.{name} must be a whole number, 1 or more")
    repeat = settings["repeat_prompt_seconds"]
    if isinstance(repeat, bool) or not isinstance(repeat, (int, float)) or repeat < 0:
        raise ValueError(f"{where}.repeat_prompt_seconds must be a number of seconds, 0 or more")
    lexicon = settings["lexicon"] or {}
    if not isinstance(lexicon, dict) or not all(
        isinstance(word, str) and not isinstance(value, bool) and isinstance(value, (int, float)) and -4 <= value <= 4
        for word, value in lexicon.items()
    ):
        raise ValueError(f"{where}.lexicon must map words to scores from -4 to 4, such as {{pricey: -1.0}}")
    return SentimentCoach(
        Scorer(lexicon),
        negative=float(settings["negative"]),
        positive=float(settings["positive"]),
        strong_negative=float(strong),
        window_utterances=settings["window_utterances"],
        min_words=settings["min_words"],
        repeat_seconds=float(repeat),
    )


__all__ = ["DEFAULTS", "SALES_LEXICON", "Scorer", "SentimentCoach", "session_started"]
