"""Sentences, and which of them are questions, from the words alone if need be.

Whisper usually punctuates, and then the punctuation decides ("So what we do is
run ads." is not a question). Where it wrote none, a sentence that starts with
a question word is a question.
"""

from __future__ import annotations

import re

from .cues import words_of

QUESTION_STARTS = tuple(
    tuple(words_of(start))
    for start in (
        "who", "what", "why", "how", "when", "where", "which", "do", "does", "did", "is", "are",
        "can", "could", "would", "will", "have", "has", "tell me", "walk me", "help me understand",
    )
)
# Words that open a sentence without changing what it is: "So how do you...".
LEAD_INS = frozenset({
    "so", "and", "okay", "great", "well", "alright", "right", "now", "then", "but", "perfect", "sure",
    "yes", "yeah", "oh", "hi", "hey", "hello",
})
SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def sentences(text: str) -> list[tuple[list[str], bool]]:
    """Each sentence of ``text`` as its normalised words, and whether it is a question."""
    found = []
    for sentence in SENTENCE.findall(text):
        words = words_of(sentence)
        if words:
            found.append((words, _is_question(sentence, words)))
    return found


def questions_in(text: str) -> list[str]:
    """The sentences of ``text`` that are questions."""
    return [sentence.strip() for sentence in SENTENCE.findall(text) if _is_question(sentence, words_of(sentence))]


def without_lead_ins(words: list[str]) -> list[str]:
    """``words`` less the openers that do not change what a sentence is ("so", "okay", "hi")."""
    start = 0
    while start < len(words) and words[start] in LEAD_INS:
        start += 1
    return words[start:]


def _is_question(sentence: str, words: list[str]) -> bool:
    words = without_lead_ins(words)
    if not words:
        return False
    ending = sentence.rstrip()[-1:]
    if ending in ".!?":
        return ending == "?"
    # No punctuation: the recogniser wrote none, so the first words must tell.
    return any(tuple(words[: len(start)]) == start for start in QUESTION_STARTS)
