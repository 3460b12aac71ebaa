"""Filler words in the seller's speech, per 100 words.

Whisper is trained on cleaned-up transcripts and leaves out most "um" and "uh"
(faster-whisper issue #901), so this counts mostly the fillers that are real words
("you know", "basically", "kind of") and undercounts the rest. It is a trend to
watch across calls, not an exact tally.

Some fillers are also ordinary words, so they count only where they are fillers:
"like", "you know" and "I mean" only when set off by punctuation ("it's, like,
five users"; "I mean, it works"), as Whisper writes them when they are fillers;
"kind of" and "sort of" not after a word that makes them a noun ("what kind of
software"). Other words and phrases count wherever they appear.
"""

from __future__ import annotations

import re

from voicecoach import SELLER, Observation, hookimpl

from .pace import word_count

# Count only when the phrase stands between punctuation or the ends of the text.
SET_OFF = {"like", "you know", "i mean"}
# Count unless one of these comes just before ("what kind of", "this sort of").
NOUN_BEFORE = {
    "what", "which", "this", "that", "the", "a", "any", "some", "every", "each", "one", "no",
    "same", "these", "those", "all", "other", "another", "your", "our", "their", "my", "his",
    "her", "its", "right", "different", "new", "only", "first", "best",
}
AFTER_NOUN_CHECK = {"kind of", "sort of"}


def _pattern(phrase: str) -> re.Pattern:
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    if phrase in SET_OFF:
        return re.compile(rf"(?:^|[,.;:!?\u2014-])\s*({words})\s*(?=[,.;:!?\u2014-]|$)")
    return re.compile(rf"(?<![\w'])({words})(?![\w'])")


def count_fillers(text: str, phrases: list[str]) -> dict[str, int]:
    """How often each filler phrase occurs in ``text`` (phrases lower-case)."""
    lowered = text.lower().replace("\u2019", "'")
    counts = {}
    for phrase in phrases:
        count = 0
        for match in _pattern(phrase).finditer(lowered):
            if phrase in AFTER_NOUN_CHECK:
                before = re.findall(r"[a-z']+", lowered[: match.start(1)])
                if before and before[-1] in NOUN_BEFORE:
                    continue
            count += 1
        if count:
            counts[phrase] = count
    return counts


class FillerCounter:
    def __init__(self, filler_words: list[str]):
        self.phrases = [" ".join(phrase.lower().split()) for phrase in filler_words]
        self.words = 0
        self.counts: dict[str, int] = {}

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.speaker != SELLER or utterance.partial:
            return None
        self.words += word_count(utterance.text)
        for phrase, count in count_fillers(utterance.text, self.phrases).items():
            self.counts[phrase] = self.counts.get(phrase, 0) + count
        return None

    @hookimpl
    def session_ending(self, session, now):
        total = sum(self.counts.values())
        return Observation(
            kind="fillers",
            value=round(total / self.words * 100, 1) if self.words else None,
            data={
                "per": "100 words",
                "fillers": total,
                "words": self.words,
                "counts": dict(sorted(self.counts.items(), key=lambda item: -item[1])),
                "note": "Whisper leaves out most 'um' and 'uh', so this undercounts them",
            },
        )
