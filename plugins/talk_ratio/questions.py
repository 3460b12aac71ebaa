"""Questions the seller asks, counted from the transcript.

Whisper punctuates, so most questions end in "?". It drops the mark now and then
(more often on short, fast ones), so a sentence also counts when its words open
the way English questions do: a question word before a verb ("what do you use",
"how many people", "who signs"), or an auxiliary before its subject ("do you",
"is that", "can we"). "What we do is..." and "When you sign up..." are statements
and do not count.
"""

from __future__ import annotations

import re

from voicecoach import SELLER, Observation, hookimpl

WH_WORDS = {"what", "why", "how", "when", "where", "who", "whom", "whose", "which"}
AUXILIARIES = {
    "do", "does", "did", "is", "are", "was", "were", "am", "can", "could", "would", "will",
    "should", "shall", "have", "has", "had", "may", "might", "must",
    "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't", "weren't", "can't", "couldn't",
    "wouldn't", "won't", "shouldn't", "haven't", "hasn't", "hadn't",
}
SUBJECTS = {
    "i", "you", "we", "they", "he", "she", "it", "that", "this", "there", "these", "those",
    "your", "my", "our", "their", "his", "her", "its", "the", "a", "an", "any", "anyone",
    "anybody", "anything", "someone", "somebody", "something", "everyone", "everybody",
    "everything", "all", "some", "one", "y'all",
}
# "how many", "what about", "what if": question openings without an auxiliary.
WH_FOLLOWERS = {"many", "much", "long", "often", "far", "soon", "about", "if", "come", "else"}
# Words a spoken question often starts with before its real opening.
LEAD_INS = {"so", "and", "but", "okay", "ok", "well", "now", "then", "alright", "great", "right", "also", "oh"}

# A sentence ends at ., ? or ! before a space or the end ("$4.99" does not end one).
_SENTENCE = re.compile(r"\S.*?(?:[.?!]+(?=\s|$)|$)")
_WORD = re.compile(r"[a-z']+")


def questions_in(text: str) -> list[str]:
    """The sentences of ``text`` that are questions."""
    found = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group().strip()
        if sentence and _is_question(sentence):
            found.append(sentence)
    return found


def ends_with_question(text: str) -> bool:
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    return bool(sentences) and _is_question(sentences[-1])


def _is_question(sentence: str) -> bool:
    if sentence.endswith("?"):
        return True
    words = _WORD.findall(sentence.lower().replace("\u2019", "'"))
    while len(words) > 1 and words[0] in LEAD_INS:
        words.pop(0)
    if len(words) < 2:
        return False
    first, second = words[0], words[1]
    if first in WH_WORDS:
        return second in AUXILIARIES or second in WH_FOLLOWERS or (first == "who" and second not in SUBJECTS)
    if first.endswith("'s") and first[:-2] in WH_WORDS:  # what's, how's, who's
        return True
    if first.endswith("'re") and first[:-3] in WH_WORDS:  # what're
        return True
    return first in AUXILIARIES and second in SUBJECTS


class QuestionCounter:
    def __init__(self, min_questions: float, max_questions: float):
        self.min_questions = min_questions
        self.max_questions = max_questions
        self.asked: list[dict] = []  # {"at", "text"}

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.speaker != SELLER or utterance.partial:
            return None
        for sentence in questions_in(utterance.text):
            self.asked.append({"at": round(utterance.start, 2), "text": sentence})
        return None

    @hookimpl
    def session_ending(self, session, now):
        count = len(self.asked)
        if count < self.min_questions:
            verdict = "few"
        elif count > self.max_questions:
            verdict = "many"
        else:
            verdict = "in range"
        return Observation(
            kind="questions",
            value=count,
            data={"asked": self.asked, "verdict": verdict, "range": [self.min_questions, self.max_questions]},
        )
