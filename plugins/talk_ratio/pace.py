"""The seller's pace: words per minute of their own speech.

Words come from the final transcripts, time from each utterance's start and end.
Voice activity cuts speech at every 0.3 s pause and trims each utterance tight,
so words over utterance time alone runs fast (a synthetic voice at 190 words a
minute measured 200); the pauses between the seller's utterances that belong to
one turn count as speaking time too, as they do for a listener. Numbers are
counted as Whisper writes them: "$49" is one word, "forty nine dollars" three.
"""

from __future__ import annotations

from collections import deque
from typing import Optional

from voicecoach import MEDIUM, SELLER, Observation, Prompt, hookimpl

# A shorter pause between two of the seller's utterances is inside their turn:
# pauses within a turn are mostly shorter than a second (Heldner & Edlund 2010,
# "Pauses, gaps and overlaps in conversations", Journal of Phonetics 38).
TURN_PAUSE_SECONDS = 1.0


def word_count(text: str) -> int:
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


class PaceCoach:
    def __init__(
        self,
        min_words_per_minute: float,
        max_words_per_minute: float,
        slow_down_words_per_minute: float,
        window_seconds: float,
        min_words: float,
        repeat_seconds: float,
    ):
        self.min_wpm = min_words_per_minute
        self.max_wpm = max_words_per_minute
        self.slow_down_wpm = slow_down_words_per_minute
        self.window_seconds = window_seconds
        self.min_words = min_words
        self.repeat_seconds = repeat_seconds
        self.words = 0
        self.seconds = 0.0
        self._recent: deque = deque()  # (end, words, seconds) of recent seller utterances
        self._armed = True
        self._last_prompt: Optional[float] = None
        self._last_end: Optional[float] = None

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.speaker != SELLER or utterance.partial or utterance.duration <= 0:
            return None
        words = word_count(utterance.text)
        seconds = utterance.duration
        if self._last_end is not None and 0 < utterance.start - self._last_end < TURN_PAUSE_SECONDS:
            seconds += utterance.start - self._last_end
        self._last_end = utterance.end
        self.words += words
        self.seconds += seconds
        self._recent.append((utterance.end, words, seconds))
        return self._prompt(utterance.end)

    @hookimpl
    def session_ending(self, session, now):
        pace = _per_minute(self.words, self.seconds)
        if pace is None:
            verdict = None
        elif pace < self.min_wpm:
            verdict = "slow"
        elif pace > self.max_wpm:
            verdict = "fast"
        else:
            verdict = "in range"
        return Observation(
            kind="pace",
            value=None if pace is None else round(pace),
            data={
                "words": self.words,
                "seconds": round(self.seconds, 2),
                "verdict": verdict,
                "range": [self.min_wpm, self.max_wpm],
            },
        )

    def recent_pace(self, now: float) -> tuple[Optional[float], int]:
        """Words per minute over the seller's utterances that ended in the window, and their words."""
        while self._recent and self._recent[0][0] <= now - self.window_seconds:
            self._recent.popleft()
        words = sum(item[1] for item in self._recent)
        seconds = sum(item[2] for item in self._recent)
        return _per_minute(words, seconds), words

    def _prompt(self, now: float) -> Optional[Prompt]:
        pace, words = self.recent_pace(now)
        if pace is None or words < self.min_words:
            return None
        if pace <= self.max_wpm:
            # Back in range: the next rush is news again.
            self._armed = True
            return None
        if pace <= self.slow_down_wpm or not self._armed:
            return None
        if self._last_prompt is not None and now - self._last_prompt < self.repeat_seconds:
            return None
        self._armed = False
        self._last_prompt = now
        return Prompt(
            kind="talk_ratio.pace",
            text=f"Slow down: {pace:.0f} words per minute",
            priority=MEDIUM,
            detail=[f"A clear pace is {self.min_wpm:.0f}-{self.max_wpm:.0f} words per minute: pause after each point"],
            data={"words_per_minute": round(pace), "words": words, "window_seconds": self.window_seconds},
        )


def _per_minute(words: int, seconds: float) -> Optional[float]:
    return words / seconds * 60 if seconds > 0 and words > 0 else None
