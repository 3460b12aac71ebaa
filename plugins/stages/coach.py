"""One call's stage tracker: where the call is, and what it is missing."""

from __future__ import annotations

from typing import Optional

from voicecoach import HIGH, MEDIUM, MIXED, SELLER, Observation, Prompt, hookimpl

from .cues import find_cue, words_of
from .definitions import Stage, StageBook
from .questions import asks_discovery_question

OPENING = "opening"
PRESENTATION = "presentation"


class StageCoach:
    def __init__(
        self,
        book: StageBook,
        max_presentation_seconds: float,
        expected_call_seconds: Optional[float],
        next_step_share: float,
    ):
        self.stages = {stage.name: stage for stage in book.stages}
        self.order = [stage.name for stage in book.stages]
        self.next_step_cues = book.next_step
        self.max_presentation_seconds = max_presentation_seconds
        self.expected_call_seconds = expected_call_seconds
        self.next_step_share = next_step_share
        self.current: Optional[str] = None
        self.entered_at = 0.0
        self.seconds_in: dict[str, float] = {}
        self.discovery_asked = False
        self.next_step_agreed = False
        self.no_next_step_prompted = False
        self.long_presentation_prompted_for: Optional[float] = None

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.partial:
            return None
        words = words_of(utterance.text)
        results = []
        if self.current is None:
            # Every call starts somewhere: the first stage, unless the first words say otherwise.
            results.extend(self._enter(self.order[0], utterance, cue=None, prompt=False))
        if find_cue(self.next_step_cues, words):
            self.next_step_agreed = True
        matched = self._stages_cued(utterance.speaker, words)
        # On one channel both voices are mixed; treat the words as possibly the seller's.
        seller_may_speak = utterance.speaker in (SELLER, MIXED)
        if seller_may_speak and PRESENTATION in matched and not self.discovery_asked:
            results.append(self._pitch_before_discovery())
        if seller_may_speak and asks_discovery_question(utterance.text, self._small_talk()):
            self.discovery_asked = True
        if matched:
            newest = max(matched, key=self.order.index)
            if newest != self.current:
                results.extend(self._enter(newest, utterance, matched[newest], prompt=True))
        return results or None

    @hookimpl
    def clock_tick(self, session, now):
        results = []
        if (
            self.current == PRESENTATION
            and now - self.entered_at >= self.max_presentation_seconds
            and self.long_presentation_prompted_for != self.entered_at
        ):
            self.long_presentation_prompted_for = self.entered_at
            minutes = (now - self.entered_at) / 60
            results.append(
                Prompt(
                    kind="stage.long_presentation",
                    text=f"You have presented for {minutes:.0f} minutes: pause and ask what they think so far",
                    priority=MEDIUM,
                    key=f"{self.entered_at:.1f}",
                    data={"presentation_seconds": round(now - self.entered_at, 1)},
                )
            )
        if self._call_nearly_over(now) and not self.next_step_agreed and not self.no_next_step_prompted:
            self.no_next_step_prompted = True
            left = max(0.0, self.expected_call_seconds - now) / 60
            results.append(
                Prompt(
                    kind="stage.no_next_step",
                    text=f"About {left:.0f} minutes left and no next step agreed: propose a date and time now",
                    priority=HIGH,
                    key="no_next_step",
                    data={"expected_call_seconds": self.expected_call_seconds},
                )
            )
        return results or None

    def _call_nearly_over(self, now: float) -> bool:
        if not self.expected_call_seconds or self.current is None:
            return False
        return now >= self.expected_call_seconds * (1 - self.next_step_share)

    def _stages_cued(self, speaker: str, words: list[str]) -> dict:
        """Stage name -> the cue that matched, for every stage these words point to."""
        lists = ("seller", "prospect", "anyone") if speaker == MIXED else (speaker, "anyone")
        matched = {}
        for name in self.order:
            # Small talk later on ("how was your weekend?") does not reopen the call.
            if name == OPENING and self.current not in (None, OPENING):
                continue
            cues = [cue for speaker_list in lists for cue in self.stages[name].cues.get(speaker_list, [])]
            cue = find_cue(cues, words)
            if cue is not None:
                matched[name] = cue
        return matched

    def _small_talk(self):
        return [cue for cues in self.stages[self.order[0]].cues.values() for cue in cues]

    def _enter(self, name: str, utterance, cue, prompt: bool) -> list:
        previous = self.current
        if previous is not None:
            self.seconds_in[previous] = self.seconds_in.get(previous, 0.0) + utterance.start - self.entered_at
        self.current = name
        self.entered_at = utterance.start
        stage: Stage = self.stages[name]
        results = [
            Observation(
                kind="stage",
                value=name,
                data={
                    "from": previous,
                    "cue": cue.source if cue else None,
                    "speaker": utterance.speaker,
                    "utterance_id": utterance.id,
                },
            )
        ]
        if prompt and stage.advice:
            results.append(
                Prompt(kind="stage", text=stage.advice, priority=stage.priority, key=name, data={"stage": name, "from": previous})
            )
        return results

    def _pitch_before_discovery(self) -> Prompt:
        return Prompt(
            kind="stage.pitch_before_discovery",
            text="You are pitching before discovery: ask about their situation and needs first",
            priority=HIGH,
            key="pitch_before_discovery",
            detail=["Try: What made you take this call?", "Try: How do you handle this today?"],
        )
