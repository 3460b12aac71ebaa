"""The seller's monologues: stretches of seller speech the prospect did not break.

Voice activity cuts speech at every short pause, so one monologue is many
spans. A run goes on across seller pauses up to ``MAX_PAUSE_SECONDS`` and across
prospect backchannels ("mm-hm", "right") shorter than ``BACKCHANNEL_SECONDS``.
"""

from __future__ import annotations

from typing import Optional

# A seller silence this long hands the turn over, even if nobody takes it.
MAX_PAUSE_SECONDS = 2.0
# Prospect speech shorter than this is a backchannel, not a turn: "mm-hm" and
# "yeah" last well under a second.
BACKCHANNEL_SECONDS = 1.0


class Monologues:
    def __init__(self):
        self.run_start: Optional[float] = None
        self.run_end: Optional[float] = None
        self.longest = 0.0
        self.longest_start: Optional[float] = None

    def seller_spoke(self, start: float, end: float) -> None:
        if self.run_end is None or start - self.run_end > MAX_PAUSE_SECONDS:
            self.run_start = start
        self.run_end = max(end, self.run_end or end)
        self._note(self.run_end)

    def prospect_spoke(self, start: float, end: float) -> Optional[float]:
        """The prospect spoke; returns the length of the run it ended, if it ended one."""
        if end - start < BACKCHANNEL_SECONDS or self.run_start is None:
            return None
        length = self.run_end - self.run_start
        self.run_start = self.run_end = None
        return length

    def current(self, now: float, seller_talking_since: Optional[float]) -> float:
        """How long the seller's current run has lasted at ``now`` (0 when none is going on)."""
        if seller_talking_since is not None:
            if self.run_start is None or seller_talking_since - self.run_end > MAX_PAUSE_SECONDS:
                return now - seller_talking_since
            return now - self.run_start
        if self.run_start is None or now - self.run_end > MAX_PAUSE_SECONDS:
            return 0.0
        return self.run_end - self.run_start

    def current_start(self, seller_talking_since: Optional[float]) -> Optional[float]:
        if seller_talking_since is not None and (
            self.run_start is None or seller_talking_since - self.run_end > MAX_PAUSE_SECONDS
        ):
            return seller_talking_since
        return self.run_start

    def _note(self, end: float) -> None:
        if end - self.run_start > self.longest:
            self.longest = end - self.run_start
            self.longest_start = self.run_start
