"""One call's objection coach: spots objections and whether the seller answered them."""

from __future__ import annotations

from dataclasses import dataclass

from voicecoach import HIGH, MIXED, PROSPECT, SELLER, Observation, Prompt, Utterance, hookimpl

from .matcher import denied, find
from .meaning import MeaningClassifier
from .normalise import NEGATORS, normalise, stem
from .playbook import Objection

# "Price isn't an issue", "money's not really a problem": the prospect says outright
# there is no objection. The model reads such sentences by their topic; these words
# after a negation overrule it.
NO_PROBLEM_WORDS = frozenset(
    stem(word) for word in ("problem", "issue", "concern", "worry", "worries", "dealbreaker", "obstacle", "hurdle")
)


@dataclass(frozen=True)
class Detection:
    """Why an objection was spotted: the words heard, and the trigger or example they fit."""

    objection: Objection
    heard: str
    # The trigger phrase that matched, or the example sentence the meaning was closest to.
    because: str
    by_meaning: bool = False


@dataclass
class OpenObjection:
    """An objection the seller has not answered yet."""

    objection: Objection
    utterance: Utterance
    # The seller made a sound ("mm-hm") but no answer: the prospect's next
    # words then start a new turn however soon they come.
    seller_spoke: bool = False


class ObjectionCoach:
    def __init__(
        self,
        playbook: list[Objection],
        max_gap: int,
        turn_gap_seconds: float,
        min_answer_words: int,
        meaning: MeaningClassifier | None = None,
    ):
        self.playbook = playbook
        self.by_category = {objection.category: objection for objection in playbook}
        self.meaning = meaning
        self.max_gap = max_gap
        self.turn_gap_seconds = turn_gap_seconds
        self.min_answer_words = min_answer_words
        self.open: list[OpenObjection] = []
        self.last_prospect_end: float | None = None
        # (utterance id, category) already prompted from a partial transcript.
        self.prompted_early: set[tuple[int, str]] = set()

    @hookimpl
    def partial_transcript(self, session, utterance):
        """Prompt while the prospect is still talking; the final text is logged."""
        if utterance.speaker not in (PROSPECT, MIXED):
            return None
        prompts = []
        # A sentence half said can mean anything: only trigger phrases prompt early.
        for detection in self._detections(utterance, meaning=False):
            category = detection.objection.category
            if (utterance.id, category) not in self.prompted_early:
                self.prompted_early.add((utterance.id, category))
                prompts.append(self._prompt(detection, utterance))
        return prompts or None

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.partial:
            return None
        if utterance.speaker == SELLER:
            return self._seller_spoke(utterance) or None
        if utterance.speaker not in (PROSPECT, MIXED):
            return None
        results = self._prospect_spoke(utterance) if utterance.speaker == PROSPECT else []
        results.extend(self._spot(utterance))
        return results or None

    @hookimpl
    def session_ending(self, session, now):
        unanswered = [self._unanswered(item, None) for item in self.open]
        self.open = []
        return unanswered or None

    def _detections(self, utterance: Utterance, meaning: bool = True) -> list[Detection]:
        tokens = normalise(utterance.text)
        found = []
        for objection in self.playbook:
            match = find(objection.triggers, tokens, self.max_gap)
            if match is None or find(objection.unless, tokens, self.max_gap) is not None:
                continue
            found.append(Detection(objection, match.heard, match.pattern.source))
        if found and self.meaning is not None:
            agreed = self.meaning.agrees(utterance.text, {detection.objection.category for detection in found})
            found = [detection for detection in found if detection.objection.category in agreed]
        if not found and meaning and self.meaning is not None and tokens.words:
            guess = self.meaning.guess(utterance.text)
            if guess is not None and guess.category in self.by_category:
                objection = self.by_category[guess.category]
                # The words say outright it is not that objection ("not too expensive",
                # or a phrase the playbook says cancels it): they overrule the model.
                if (
                    find(objection.unless, tokens, self.max_gap) is None
                    and not denied(objection.triggers, tokens, self.max_gap)
                    and not _says_no_problem(tokens.words)
                ):
                    because = f'like "{guess.like}"' if guess.like else f"meaning, {guess.confidence:.0%} sure"
                    found.append(Detection(objection, utterance.text, because, by_meaning=True))
        # The prospect is still in the turn that raised it: the same objection, said again.
        open_categories = {item.objection.category for item in self.open}
        return [detection for detection in found if detection.objection.category not in open_categories]

    def _spot(self, utterance: Utterance) -> list:
        found = []
        for detection in self._detections(utterance):
            objection = detection.objection
            if (utterance.id, objection.category) in self.prompted_early:
                self.prompted_early.discard((utterance.id, objection.category))
            else:
                found.append(self._prompt(detection, utterance))
            found.append(
                Observation(
                    kind="objection",
                    value=objection.category,
                    data={
                        "utterance_id": utterance.id,
                        "text": utterance.text,
                        "matched": detection.heard,
                        "trigger": detection.because,
                        "by_meaning": detection.by_meaning,
                    },
                )
            )
            # With one channel for both voices nobody can tell who answered.
            if utterance.speaker == PROSPECT:
                self.open.append(OpenObjection(objection, utterance))
        return found

    def _prompt(self, detection: Detection, utterance: Utterance) -> Prompt:
        objection = detection.objection
        detail = list(objection.responses)
        if objection.follow_up:
            detail.append(f"Ask: {objection.follow_up}")
        return Prompt(
            kind=f"objection.{objection.category}",
            text=f"{objection.label}: {objection.responses[0]}",
            priority=HIGH,
            detail=detail,
            key=str(utterance.id),
            data={
                "category": objection.category,
                "matched": detection.heard,
                "trigger": detection.because,
                "by_meaning": detection.by_meaning,
                # The log's reader joins prompts to answered/unanswered observations on it.
                "utterance_id": utterance.id,
            },
        )

    def _prospect_spoke(self, utterance: Utterance) -> list:
        # Speech recognition cuts a turn at every short pause, so words soon
        # after the prospect's last ones continue the same turn.
        new_turn = (
            self.last_prospect_end is None
            or utterance.start - self.last_prospect_end >= self.turn_gap_seconds
        )
        self.last_prospect_end = max(self.last_prospect_end or 0.0, utterance.end)
        unanswered, still_open = [], []
        for item in self.open:
            if new_turn or item.seller_spoke:
                unanswered.append(self._unanswered(item, utterance))
            else:
                still_open.append(item)
        self.open = still_open
        return unanswered

    def _seller_spoke(self, utterance: Utterance) -> list:
        # Words the seller said while the objection was still being spoken answer nothing.
        waiting = [item for item in self.open if utterance.end > item.utterance.end]
        if not waiting:
            return []
        if len(normalise(utterance.text).words) < self.min_answer_words:
            for item in waiting:
                item.seller_spoke = True
            return []
        self.open = [item for item in self.open if item not in waiting]
        return [
            Observation(
                kind="objection_answered",
                value=item.objection.category,
                data={
                    "utterance_id": item.utterance.id,
                    "answer_utterance_id": utterance.id,
                    "answer": utterance.text,
                    "seconds_to_answer": round(max(0.0, utterance.start - item.utterance.end), 2),
                },
            )
            for item in waiting
        ]

    def _unanswered(self, item: OpenObjection, next_utterance: Utterance | None) -> Observation:
        return Observation(
            kind="objection_unanswered",
            value=item.objection.category,
            data={
                "utterance_id": item.utterance.id,
                "text": item.utterance.text,
                "next_utterance_id": next_utterance.id if next_utterance else None,
            },
        )


def _says_no_problem(words: list[str]) -> bool:
    """A negation followed within three words by "problem", "issue"...: "not an issue"."""
    return any(
        word in NEGATORS and any(later in NO_PROBLEM_WORDS for later in words[index + 1 : index + 4])
        for index, word in enumerate(words)
    )
