"""Did the seller ask a question? From the words alone, punctuation or not.

Whisper usually writes a question mark, but not always; a sentence that starts
with a question word counts too.
"""

from __future__ import annotations

import re

from .cues import Cue, find_cue, words_of

QUESTION_STARTS = tuple(
    tuple(words_of(start))
    for start in (
        "who", "what", "why", "how", "when", "where", "which", "do", "does", "did", "is", "are",
        "can", "could", "would", "will", "have", "has", "tell me", "walk me", "help me understand",
    )
)
# Words that open a sentence without changing what it is: "So how do you...".
LEAD_INS = frozenset({"so", "and", "okay", "great", "well", "alright", "right", "now", "then", "but", "perfect", "sure", "yes", "yeah"})
SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def questions_in(text: str) -> list[str]:
    """The sentences of ``text`` that are questions."""
    found = []
    for sentence in SENTENCE.findall(text):
        words = words_of(sentence)
        while words and words[0] in LEAD_INS:
            words = words[1:]
        if not words:
            continue
        if sentence.rstrip().endswith("?") or any(tuple(words[: len(start)]) == start for start in QUESTION_STARTS):
            found.append(sentence.strip())
    return found


def asks_discovery_question(text: str, small_talk: list[Cue]) -> bool:
    """True when ``text`` has a question that is not small talk ("How was your week?")."""
    return any(find_cue(small_talk, words_of(question)) is None for question in questions_in(text))
