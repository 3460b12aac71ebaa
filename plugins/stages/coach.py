"""One call's stage tracker: where the call is, and what it is missing."""

from __future__ import annotations

from typing import Optional

from voicecoach import HIGH, MEDIUM, MIXED, PROSPECT, SELLER, Observation, Prompt, hookimpl

from .cues import CueList, words_of
from .definitions import HEARD_IN, Stage, StageBook
from .questions import sentences, without_lead_ins

OPENING = "opening"
DISCOVERY = "discovery"
PRESENTATION = "presentation"
OBJECTION_HANDLING = "objection_handling"
# A question this short ("Is this Robert?", "Kids, husband?") says too little to be
# discovery, unless it starts with a question word ("What happened?").
MIN_QUESTION_WORDS = 4
# A seller's turn this long in discovery, all statements and no cues, is a pitch.
MONOLOGUE_WORDS = 20
QUESTION_WORDS = frozenset({"who", "what", "why", "how", "when", "where", "which"})


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
        self.next_step_cues = CueList(book.next_step)
        self.wrap_up_cues = CueList(book.wrap_up)
        self.book = book
        self.small_talk = CueList(self._all_cues(self.order[0]))
        self.not_discovery = CueList(book.check_ins) + self.small_talk
        # A stage reached on repeated evidence: (stage, plain cues heard for it in a row).
        self.pending: tuple[Optional[str], int] = (None, 0)
        self.max_presentation_seconds = max_presentation_seconds
        self.expected_call_seconds = expected_call_seconds
        self.next_step_share = next_step_share
        self.current: Optional[str] = None
        self.came_from: Optional[str] = None  # the stage before the current one
        self.last_speaker: Optional[str] = None
        self.turn_has_small_talk = False
        self.entered_at = 0.0
        self.seconds_in: dict[str, float] = {}
        self.discovery_asked = False
        self.pitch_prompted = False
        self.next_step_agreed = False
        self.no_next_step_prompted = False
        self.long_presentation_prompted_for: Optional[float] = None

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.partial:
            return None
        results = []
        if self.current is None:
            # Every call starts in the first stage; the words below may move it on at once.
            results.extend(self._enter(self.order[0], utterance, cue=None, prompt=False))
        if self.next_step_cues.find(words_of(utterance.text)):
            self.next_step_agreed = True
        # On one channel both voices are mixed; treat the words as possibly the seller's.
        seller_may_speak = utterance.speaker in (SELLER, MIXED)
        stage, cue = self.current, None
        said = sentences(utterance.text)
        # Greetings, small talk and the agenda belong to the opening, and so do the questions
        # that come with them ("Hi Sam, good to connect. Are you in the office today?"):
        # only a strong cue moves a turn with small talk out of the opening.
        # A turn may reach us as several utterances (a pause splits it), so small talk counts
        # for the speaker's next utterances too, until the other side speaks.
        small_talk = any(self.small_talk.find(words) for words, _ in said)
        if utterance.speaker != self.last_speaker:
            self.turn_has_small_talk = False
        self.last_speaker = utterance.speaker
        self.turn_has_small_talk = self.turn_has_small_talk or small_talk
        chatting = self.current == self.order[0] and self.turn_has_small_talk
        heard_cues = False
        for number, (words, question) in enumerate(said):
            if self.wrap_up_cues.find(words) and self._no_next_step_yet(stage):
                results.append(self._no_next_step_at_goodbye())
            evidence = self._evidence(utterance.speaker, words, question, first=number == 0)
            heard_cues = heard_cues or bool(evidence)
            if chatting and stage == self.order[0]:
                if self.small_talk.find(words) is not None:
                    continue
                evidence = {name: found for name, found in evidence.items() if found[0] == "strong"}
            if seller_may_speak and DISCOVERY in evidence:
                self.discovery_asked = True
            moved = self._move(stage, evidence)
            if moved is not None:
                stage, cue = moved, evidence[moved][1]
        if seller_may_speak and stage == DISCOVERY and not heard_cues and self._monologue(said):
            # A long turn of statements, and no questions, in discovery is a pitch in other words.
            moved = self._move(stage, {PRESENTATION: ("cue", None)})
            if moved is not None:
                stage, cue = moved, None
        if stage == PRESENTATION and not self.discovery_asked and not self.pitch_prompted:
            results.append(self._pitch_before_discovery())
        if stage != self.current:
            results.extend(self._enter(stage, utterance, cue, prompt=True))
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
        if self._call_nearly_over(now) and self._no_next_step_yet(self.current):
            self.no_next_step_prompted = True
            left = max(0.0, self.expected_call_seconds - now) / 60
            results.append(
                Prompt(
                    kind="stage.no_next_step",
                    text=f"About {left:.0f} minutes left and no next step agreed: propose a date and time now",
                    priority=HIGH,
                    key="no_next_step",
                    data={"expected_call_seconds": self.expected_call_seconds, "reason": "planned_length"},
                )
            )
        return results or None

    @hookimpl
    def session_ending(self, session, now):
        if self.current is None:
            return None
        seconds = dict(self.seconds_in)
        seconds[self.current] = seconds.get(self.current, 0.0) + max(0.0, now - self.entered_at)
        return Observation(
            kind="stage.time",
            value=self.current,
            data={"seconds": {name: round(value, 1) for name, value in seconds.items()}, "next_step_agreed": self.next_step_agreed},
        )

    @staticmethod
    def _monologue(said: list) -> bool:
        return not any(question for _, question in said) and sum(len(words) for words, _ in said) >= MONOLOGUE_WORDS

    def _evidence(self, speaker: str, words: list[str], question: bool, first: bool = False) -> dict:
        """Stage name -> ("strong" | "cue", the cue), for every stage this sentence points to."""
        found = {}
        # Outside a question, a question word starts a cue of a questioning stage only at the
        # start: "how many users do you have" asks, "...shows how many people booked" does not.
        opener = len(words) - len(without_lead_ins(words))

        def asked(start):
            return words[start] not in QUESTION_WORDS or start == opener

        for name in self.order:
            stage = self.stages[name]
            strong, plain, openers = self.book.cues_for(stage, speaker)
            allowed = asked if stage.questions and not question else None
            cue = strong.find(words, allowed)
            if cue is not None:
                found[name] = ("strong", cue)
                continue
            # A seller's question about their world ("how much do you spend a month?") is not a
            # pitch, and a prospect's question about the offer ("so that's fifty dollars a
            # month?") is not an objection, even with their words in it.
            if question and (name == PRESENTATION and speaker != PROSPECT or name == OBJECTION_HANDLING):
                continue
            cue = plain.find(words, allowed)
            if cue is None and first:
                cue = openers.find(words, lambda start: start == opener)
            if cue is not None:
                found[name] = ("cue", cue)
        content = without_lead_ins(words)
        asks = len(content) >= MIN_QUESTION_WORDS or (content and content[0] in QUESTION_WORDS)
        if question and not found and asks:
            if self.not_discovery.find(words) is None:
                for name in self.order:
                    if self.stages[name].questions in HEARD_IN[speaker]:
                        found[name] = ("cue", None)
        return found

    def _move(self, current: str, evidence: dict) -> Optional[str]:
        """The stage this evidence moves the call to from ``current``, or None to stay."""
        reachable = []
        for name, (strength, _) in evidence.items():
            needs = self.stages[name].entered_from.get(current) if name != current else None
            if needs is None:
                continue
            if current == OBJECTION_HANDLING and self._before(name, self.came_from):
                # Once an objection raised in the pitch is handled, the call does not go back to
                # discovery; one raised in the opening can be followed by discovery.
                continue
            if needs == "cue" or strength == "strong":
                reachable.append(name)
            elif needs == "twice":
                heard = self.pending[1] + 1 if self.pending[0] == name else 1
                if heard >= 2:
                    reachable.append(name)
        # Plain cues for a stage that needs them twice count only while nothing else is heard.
        plain = [name for name, (strength, _) in evidence.items() if strength == "cue" and name != current]
        if len(plain) == 1 and len(evidence) == 1:
            name = plain[0]
            self.pending = (name, self.pending[1] + 1 if self.pending[0] == name else 1)
        elif evidence:
            self.pending = (None, 0)
        if not reachable:
            return None
        self.pending = (None, 0)
        # An objection outranks what is said with it ("sounds good, but I must ask my wife
        # before I sign") unless only a weak cue points to it and a strong one elsewhere
        # ("let me check her calendar"); otherwise the stage furthest into the call wins.
        if OBJECTION_HANDLING in reachable:
            strong_elsewhere = any(evidence[name][0] == "strong" for name in reachable if name != OBJECTION_HANDLING)
            if evidence[OBJECTION_HANDLING][0] == "strong" or not strong_elsewhere:
                return OBJECTION_HANDLING
            reachable.remove(OBJECTION_HANDLING)
        return max(reachable, key=self.order.index)

    def _before(self, name: str, other: Optional[str]) -> bool:
        return other is not None and self.order.index(name) < self.order.index(other)

    def _no_next_step_yet(self, stage: Optional[str]) -> bool:
        return stage not in (None, self.order[0]) and not self.next_step_agreed and not self.no_next_step_prompted

    def _call_nearly_over(self, now: float) -> bool:
        if not self.expected_call_seconds or self.current is None:
            return False
        return now >= self.expected_call_seconds * (1 - self.next_step_share)

    def _all_cues(self, name: str) -> list:
        stage = self.stages[name]
        return [cue for cues in (*stage.cues.values(), *stage.strong_cues.values()) for cue in cues]

    def _enter(self, name: str, utterance, cue, prompt: bool) -> list:
        previous = self.current
        self.came_from = previous
        spent = None
        if previous is not None:
            spent = max(0.0, utterance.start - self.entered_at)
            self.seconds_in[previous] = self.seconds_in.get(previous, 0.0) + spent
        self.current = name
        self.entered_at = utterance.start
        stage: Stage = self.stages[name]
        results = [
            Observation(
                kind="stage",
                value=name,
                data={
                    "from": previous,
                    "seconds_in_previous": None if spent is None else round(spent, 1),
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
        self.pitch_prompted = True
        return Prompt(
            kind="stage.pitch_before_discovery",
            text="You are pitching before discovery: ask about their situation and needs first",
            priority=HIGH,
            key="pitch_before_discovery",
            detail=["Try: What made you take this call?", "Try: How do you handle this today?"],
        )

    def _no_next_step_at_goodbye(self) -> Prompt:
        self.no_next_step_prompted = True
        return Prompt(
            kind="stage.no_next_step",
            text="The call is ending with no next step agreed: propose a date and time before you hang up",
            priority=HIGH,
            key="no_next_step",
            detail=["Try: Shall we put 20 minutes in the calendar for Thursday to go over it?"],
            data={"reason": "goodbye"},
        )
