"""Long silences: nobody speaks for ``long_seconds`` or more.

Works from speech activity, on every channel (a one-channel "mixed" call too).
The quiet before the first words and after the last ones is not counted. A
silence right after the seller asked a question is the prospect thinking: it is
logged, but the seller is not told to break it.

Voice activity cuts a long utterance at about 12 s (the profile's
``endpointing.max_utterance``) and announces no new start for the rest of it, so
after a span that long the speaker is taken to be still talking until their next
span ends or the longest one could have.
"""

from __future__ import annotations

from typing import Optional

from voicecoach import MEDIUM, MIXED, SELLER, Observation, Prompt, hookimpl

from .questions import ends_with_question

# The speech engine's default cut (voicecoach's EndpointSettings.max_utterance).
DEFAULT_CUT_SECONDS = 12.0


class SilenceCoach:
    def __init__(self, long_seconds: float, repeat_seconds: float, cut_seconds: float = DEFAULT_CUT_SECONDS):
        self.long_seconds = long_seconds
        self.repeat_seconds = repeat_seconds
        self.cut_seconds = cut_seconds
        self.silences: list[tuple[float, float]] = []  # (start, seconds) of each long silence
        self._talking: set[str] = set()
        self._last_end: Optional[float] = None
        self._maybe_talking_until = float("-inf")
        self._waiting_for_answer = False
        self._prompted_for: Optional[float] = None
        self._last_prompt: Optional[float] = None

    @hookimpl
    def session_started(self, session):
        configured = (session.profile.endpointing or {}).get("max_utterance")
        if isinstance(configured, (int, float)) and not isinstance(configured, bool) and configured > 0:
            self.cut_seconds = float(configured)

    @hookimpl
    def speech_activity(self, session, activity):
        result = None
        if activity.is_start:
            result = self._speech_began(activity.start)
            self._talking.add(activity.speaker)
            return result
        if activity.speaker not in self._talking:
            # The rest of a cut utterance, or a span whose start was never announced.
            result = self._speech_began(activity.start)
        self._talking.discard(activity.speaker)
        self._last_end = activity.end if self._last_end is None else max(self._last_end, activity.end)
        if activity.duration >= self.cut_seconds - 0.5:
            self._maybe_talking_until = activity.end + self.cut_seconds + 1.0
        return result

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.partial:
            return None
        # Waiting for an answer is the right silence after a question.
        self._waiting_for_answer = utterance.speaker in (SELLER, MIXED) and ends_with_question(utterance.text)
        return None

    @hookimpl
    def clock_tick(self, session, now):
        if self._talking or now < self._maybe_talking_until or self._last_end is None:
            return None
        quiet = now - self._last_end
        if quiet < self.long_seconds or self._prompted_for == self._last_end or self._waiting_for_answer:
            return None
        if self._last_prompt is not None and now - self._last_prompt < self.repeat_seconds:
            return None
        self._prompted_for = self._last_end
        self._last_prompt = now
        return Prompt(
            kind="talk_ratio.silence",
            text=f"{quiet:.0f} seconds of silence: ask a question",
            priority=MEDIUM,
            # No key: arbitration's cool-down paces repeats of this kind too.
            data={"silence_start": round(self._last_end, 2), "seconds": round(quiet, 1)},
        )

    @hookimpl
    def session_ending(self, session, now):
        return Observation(
            kind="silences",
            value=len(self.silences),
            data={
                "longest_seconds": round(max((seconds for _, seconds in self.silences), default=0.0), 2),
                "at": [[round(start, 2), round(seconds, 2)] for start, seconds in self.silences],
                "threshold_seconds": self.long_seconds,
            },
        )

    def _speech_began(self, start: float) -> Optional[Observation]:
        if self._talking or self._last_end is None:
            return None
        seconds = start - self._last_end
        if seconds < self.long_seconds:
            return None
        self.silences.append((self._last_end, seconds))
        return Observation(kind="silence", value=round(seconds, 2), at=self._last_end, data={"end": round(start, 2)})
