"""One call's talk-ratio coach: prompts when the seller talks too much or too long."""

from __future__ import annotations

from typing import Optional

from voicecoach import MEDIUM, PROSPECT, SELLER, Observation, Prompt, hookimpl

from .monologue import Monologues
from .talk_time import TalkTime
from .wording import duration


class TalkRatioCoach:
    def __init__(
        self,
        window_seconds: float,
        max_seller_share: float,
        min_window_talk_seconds: float,
        max_monologue_seconds: float,
    ):
        self.window_seconds = window_seconds
        self.max_seller_share = max_seller_share
        self.min_window_talk_seconds = min_window_talk_seconds
        self.max_monologue_seconds = max_monologue_seconds
        self.talk = TalkTime(window_seconds)
        self.monologues = Monologues()
        # One share prompt per stretch of over-talking: re-armed when the share
        # falls back under the limit, or after a whole new window of it.
        self._share_prompt_armed = True
        self._last_share_prompt: Optional[float] = None
        self._monologue_prompted_for: Optional[float] = None

    @hookimpl
    def speech_activity(self, session, activity):
        if activity.is_start:
            self.talk.started(activity.speaker, activity.start)
            return self._check(activity.start)
        self.talk.ended(activity.speaker, activity.start, activity.end)
        results = []
        if activity.speaker == SELLER:
            self.monologues.seller_spoke(activity.start, activity.end)
        elif activity.speaker == PROSPECT:
            run_start = self.monologues.run_start
            length = self.monologues.prospect_spoke(activity.start, activity.end)
            if length is not None and length > self.max_monologue_seconds:
                results.append(Observation(kind="monologue", value=round(length, 1), data={"start": run_start}))
        results.extend(self._check(activity.end))
        return results or None

    @hookimpl
    def clock_tick(self, session, now):
        return self._check(now) or None

    @hookimpl
    def session_ending(self, session, now):
        return self.final_observation()

    def final_observation(self) -> Observation:
        """The whole call's figures: the seller's share, talk seconds, longest monologue."""
        share = self.talk.seller_share()
        return Observation(
            kind="talk_ratio",
            value=None if share is None else round(share, 3),
            data={
                "talk_seconds": {speaker: round(seconds, 2) for speaker, seconds in self.talk.totals.items()},
                "longest_monologue_seconds": round(self.monologues.longest, 2),
                "longest_monologue_start": self.monologues.longest_start,
            },
        )

    def _check(self, now: float) -> list:
        results = []
        monologue = self._monologue_prompt(now)
        if monologue is not None:
            results.append(monologue)
        share = self._share_prompt(now)
        if share is not None:
            results.append(share)
        return results

    def _monologue_prompt(self, now: float) -> Optional[Prompt]:
        talking_since = self.talk.talking_since(SELLER)
        length = self.monologues.current(now, talking_since)
        start = self.monologues.current_start(talking_since)
        if length <= self.max_monologue_seconds or start == self._monologue_prompted_for:
            return None
        self._monologue_prompted_for = start
        return Prompt(
            kind="talk_ratio.monologue",
            text=f"You have been talking for {length:.0f} seconds straight: pause and ask a question",
            priority=MEDIUM,
            key=f"{start:.1f}",
            data={"monologue_seconds": round(length, 1), "start": start},
        )

    def _share_prompt(self, now: float) -> Optional[Prompt]:
        seconds = self.talk.in_window(now)
        share = self.talk.seller_share(seconds)
        if share is None or sum(seconds.values()) < self.min_window_talk_seconds:
            return None
        if share <= self.max_seller_share:
            self._share_prompt_armed = True
            return None
        if not self._share_prompt_armed and now - self._last_share_prompt < self.window_seconds:
            return None
        self._share_prompt_armed = False
        self._last_share_prompt = now
        span = "so far" if now <= self.window_seconds else f"in the last {duration(self.window_seconds)}"
        return Prompt(
            kind="talk_ratio",
            text=f"You have done {share:.0%} of the talking {span}: ask a question and listen",
            priority=MEDIUM,
            # No key: arbitration's cool-down paces repeats of this kind.
            key=None,
            data={
                "seller_share": round(share, 3),
                "seller_seconds": round(seconds[SELLER], 1),
                "prospect_seconds": round(seconds[PROSPECT], 1),
                "window_seconds": self.window_seconds,
            },
        )

