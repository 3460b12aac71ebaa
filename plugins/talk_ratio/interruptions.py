"""Interruptions: the seller starting to talk while the prospect is mid-utterance.

Works from speech activity alone. A stretch of seller speech is an interruption
when it starts at least ``overlap_seconds`` into a stretch of prospect speech that
goes on at least ``overlap_seconds`` after it (so not a reply that starts as the
prospect's last word fades, nor two people starting at once), and lasts at least
``min_seconds`` (so not a backchannel: "mm-hm", "right").

Each stretch is judged from the real start and end times of both speakers, as soon
as they are known: usually a second after the seller starts. Voice activity cuts
a long utterance at about 12 s and announces no new start for the rest of it, so a
prospect still talking after such a cut is seen only when that rest ends; the
seller's talk over it is counted then.
"""

from __future__ import annotations

from collections import deque
from typing import Optional

from voicecoach import MEDIUM, PROSPECT, SELLER, Observation, Prompt, hookimpl

from .wording import duration, times

# Spans older than this are no longer judged (the rest of a cut utterance ends
# well within it).
KEEP_SECONDS = 60.0
# A seller span starting this close to the end of their previous one is the same
# speech continuing after a cut, not a new start.
CONTINUATION_SECONDS = 0.05


class InterruptionCoach:
    def __init__(
        self,
        min_seconds: float,
        overlap_seconds: float,
        to_prompt: int,
        window_seconds: float,
        repeat_seconds: float,
    ):
        self.min_seconds = min_seconds
        self.overlap_seconds = overlap_seconds
        self.to_prompt = to_prompt
        self.window_seconds = window_seconds
        self.repeat_seconds = repeat_seconds
        self._spans = {SELLER: deque(), PROSPECT: deque()}  # finished (start, end)
        self._talking_since: dict[str, float] = {}
        self._counted: set[float] = set()  # seller start times already counted
        self.interruptions: list[dict] = []  # {"at", "prospect_start", "overlap"} in time order
        self._pending: list[dict] = []  # found, but both still talking: overlap not known yet
        self._last_prompt: Optional[float] = None
        self._prompted_through = float("-inf")  # interruptions up to here were prompted about

    @hookimpl
    def speech_activity(self, session, activity):
        if activity.speaker not in self._spans:
            return None
        if activity.is_start:
            self._talking_since[activity.speaker] = activity.start
            return None
        self._talking_since.pop(activity.speaker, None)
        spans = self._spans[activity.speaker]
        spans.append((activity.start, activity.end))
        while spans and spans[0][1] < activity.end - KEEP_SECONDS:
            spans.popleft()
        return self._check(activity.end) or None

    @hookimpl
    def clock_tick(self, session, now):
        return self._check(now) or None

    @hookimpl
    def session_ending(self, session, now):
        results = [self._observation(item) for item in self._settled(now)]
        results.append(Observation(
            kind="interruptions",
            value=len(self.interruptions),
            data={"at": [round(item["at"], 2) for item in self.interruptions]},
        ))
        return results

    def _check(self, now: float) -> list:
        found = self._find(now)
        self._pending.extend(found)
        results = [self._observation(item) for item in self._settled()]
        # Only a fresh interruption prompts: the seller can connect the advice to it.
        prompt = self._prompt(now) if found else None
        if prompt is not None:
            results.append(prompt)
        return results

    def _find(self, now: float) -> list[dict]:
        """Seller spans newly known to be interruptions at ``now``."""
        found = []
        for start, end in self._seller_starts(now):
            if start in self._counted or end - start < self.min_seconds:
                continue
            prospect_start = self._prospect_talking_at(start, now)
            if prospect_start is None:
                continue
            self._counted.add(start)
            item = {"at": start, "prospect_start": prospect_start, "overlap": None}
            self.interruptions.append(item)
            found.append(item)
        return found

    def _settled(self, now: Optional[float] = None) -> list[dict]:
        """Interruptions whose overlap is now known: one of the two stopped (or the call ended)."""
        settled, pending = [], []
        for item in self._pending:
            ends = [end for start, end in self._spans[SELLER] if start == item["at"]]
            ends += [end for start, end in self._spans[PROSPECT] if start == item["prospect_start"]]
            if ends or now is not None:
                item["overlap"] = max(0.0, min(ends or [now]) - item["at"])
                settled.append(item)
            else:
                pending.append(item)
        self._pending = pending
        return settled

    def _seller_starts(self, now: float):
        """(start, end so far) of each seller span that began a new stretch of speech."""
        previous_end = None
        spans = list(self._spans[SELLER])
        if SELLER in self._talking_since:
            spans.append((self._talking_since[SELLER], now))
        for start, end in spans:
            if previous_end is None or start - previous_end > CONTINUATION_SECONDS:
                yield start, end
            previous_end = end

    def _prospect_spans(self, now: float) -> list[tuple]:
        spans = list(self._spans[PROSPECT])
        if PROSPECT in self._talking_since:
            spans.append((self._talking_since[PROSPECT], now))
        return spans

    def _prospect_talking_at(self, moment: float, now: float) -> Optional[float]:
        """Where the prospect's speech began, if they were well into it at ``moment`` and went on."""
        margin = self.overlap_seconds
        for start, end in self._prospect_spans(now):
            if start <= moment - margin and end >= moment + margin:
                return start
        return None

    def _observation(self, item: dict) -> Observation:
        """One interruption; its value is how long both talked at once."""
        return Observation(
            kind="interruption",
            value=round(item["overlap"], 2),
            at=item["at"],
            data={"prospect_start": round(item["prospect_start"], 2)},
        )

    def _prompt(self, now: float) -> Optional[Prompt]:
        if self._last_prompt is not None and now - self._last_prompt < self.repeat_seconds:
            return None
        recent = [
            item["at"] for item in self.interruptions
            if item["at"] > max(now - self.window_seconds, self._prompted_through)
        ]
        if len(recent) < self.to_prompt:
            return None
        self._last_prompt = now
        self._prompted_through = recent[-1]
        count = len(recent)
        return Prompt(
            kind="talk_ratio.interruptions",
            text=f"You interrupted {times(count)} in the last {duration(self.window_seconds)}: let them finish",
            priority=MEDIUM,
            # No key: arbitration's cool-down paces repeats of this kind too.
            data={"interruptions": count, "at": [round(at, 2) for at in recent],
                  "window_seconds": self.window_seconds},
        )

