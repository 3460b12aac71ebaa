"""One call's sentiment coach: scores each prospect utterance, follows the trend,
and prompts once the mood turns negative after being neutral or positive."""

from __future__ import annotations

from collections import deque
from typing import Optional

from voicecoach import HIGH, PROSPECT, Observation, Prompt, hookimpl

from .scoring import Scorer


class SentimentCoach:
    def __init__(
        self,
        scorer: Scorer,
        negative: float,
        positive: float,
        strong_negative: float,
        window_utterances: int,
        min_words: int,
        repeat_seconds: float,
    ):
        self.scorer = scorer
        self.negative = negative
        self.positive = positive
        self.strong_negative = strong_negative
        self.min_words = min_words
        self.repeat_seconds = repeat_seconds
        self._window: deque = deque(maxlen=window_utterances)  # (compound, utterance) of counted ones
        self.scores: list[dict] = []  # every prospect utterance: {"at", "compound", "counted"}
        self.trends: list[float] = []
        # A prompt needs a turn: the trend must have been neutral or positive first.
        self._armed = False
        self._last_prompt: Optional[float] = None

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.speaker != PROSPECT or utterance.partial:
            return None
        compound = self.scorer.compound(utterance.text)
        counted = len(utterance.words) >= self.min_words
        self.scores.append({"at": utterance.start, "compound": compound, "counted": counted})
        trend = None
        if counted:
            self._window.append((compound, utterance))
            trend = sum(score for score, _ in self._window) / len(self._window)
            self.trends.append(trend)
        results = [
            Observation(
                kind="sentiment",
                value=round(compound, 3),
                at=utterance.start,
                data={
                    "utterance_id": utterance.id,
                    "label": self.label(compound),
                    "trend": None if trend is None else round(trend, 3),
                    "counted": counted,
                    "words": self.scorer.words(utterance.text, -1 if compound < 0 else 1) if compound else [],
                },
            )
        ]
        if trend is not None:
            prompt = self._prompt(trend, compound, utterance)
            if prompt is not None:
                results.append(prompt)
        return results

    @hookimpl
    def session_ending(self, session, now):
        counted = [item["compound"] for item in self.scores if item["counted"]]
        lowest = min(self.scores, key=lambda item: item["compound"], default=None)
        return Observation(
            kind="sentiment_summary",
            value=round(sum(counted) / len(counted), 3) if counted else None,
            data={
                "utterances": len(self.scores),
                "counted": len(counted),
                "labels": {
                    label: sum(1 for score in counted if self.label(score) == label)
                    for label in ("negative", "neutral", "positive")
                },
                "final_trend": round(self.trends[-1], 3) if self.trends else None,
                "lowest": None if lowest is None else {"at": round(lowest["at"], 2), "compound": lowest["compound"]},
                "thresholds": [self.negative, self.positive],
            },
        )

    def label(self, score: float) -> str:
        if score <= self.negative:
            return "negative"
        if score >= self.positive:
            return "positive"
        return "neutral"

    def _prompt(self, trend: float, compound: float, utterance) -> Optional[Prompt]:
        if trend > self.negative and compound > self.strong_negative:
            # Neutral or positive: the next turn to negative is news.
            self._armed = True
            return None
        # The latest words must be negative themselves: they are what the seller
        # answers, and the words the prompt quotes.
        if not self._armed or compound > self.negative:
            return None
        if self._last_prompt is not None and utterance.end - self._last_prompt < self.repeat_seconds:
            return None
        self._armed = False
        self._last_prompt = utterance.end
        words = self.scorer.words(utterance.text, -1)
        quoted = ", ".join(f'"{word}"' for word in words[:3])
        return Prompt(
            kind="sentiment.negative",
            text=f"The prospect turned negative ({quoted}): acknowledge it, then ask what's behind it"
            if quoted else "The prospect turned negative: acknowledge it, then ask what's behind it",
            priority=HIGH,
            detail=[f"Mood over their last {len(self._window)} remarks: {trend:+.2f} ({self.negative:+.2f} or lower is negative)"],
            key=str(utterance.id),
            data={
                "compound": round(compound, 3),
                "trend": round(trend, 3),
                "words": words,
                "utterance_id": utterance.id,
            },
        )
