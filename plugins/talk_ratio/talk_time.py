"""Who talked when: talk seconds per speaker, over the call and over a recent window.

Built from speech activity alone (start and end times), so it needs no words and
reacts before any transcription. Only the seller and the prospect are counted:
a "mixed" channel carries both voices and says nothing about the balance.
"""

from __future__ import annotations

from collections import deque
from typing import Optional

from voicecoach import MIXED, PROSPECT, SELLER

COUNTED = (SELLER, PROSPECT)


class TalkTime:
    def __init__(self, window_seconds: float):
        self.window_seconds = window_seconds
        self.totals = {SELLER: 0.0, PROSPECT: 0.0, MIXED: 0.0}
        # Finished (speaker, start, end) spans that may still overlap the window.
        self._recent: deque = deque()
        # Speaker -> when their current speech began (a start with no end yet).
        self._talking_since: dict[str, float] = {}

    def started(self, speaker: str, start: float) -> None:
        self._talking_since[speaker] = start

    def ended(self, speaker: str, start: float, end: float) -> None:
        self.totals[speaker] = self.totals.get(speaker, 0.0) + max(0.0, end - start)
        self._talking_since.pop(speaker, None)
        if speaker in COUNTED:
            self._recent.append((speaker, start, end))

    def talking_since(self, speaker: str) -> Optional[float]:
        return self._talking_since.get(speaker)

    def in_window(self, now: float) -> dict[str, float]:
        """Seconds each counted speaker talked in the ``window_seconds`` before ``now``."""
        window_start = now - self.window_seconds
        while self._recent and self._recent[0][2] <= window_start:
            self._recent.popleft()
        seconds = {speaker: 0.0 for speaker in COUNTED}
        spans = list(self._recent) + [
            (speaker, start, now) for speaker, start in self._talking_since.items() if speaker in COUNTED
        ]
        for speaker, start, end in spans:
            seconds[speaker] += max(0.0, min(end, now) - max(start, window_start))
        return seconds

    def seller_share(self, seconds: Optional[dict] = None) -> Optional[float]:
        """The seller's part of the counted talk (whole call by default); None before anyone spoke."""
        seconds = seconds if seconds is not None else self.totals
        total = seconds.get(SELLER, 0.0) + seconds.get(PROSPECT, 0.0)
        return seconds.get(SELLER, 0.0) / total if total > 0 else None
