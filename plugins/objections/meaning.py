"""Objections recognised by what the prospect means, not only by the words they chose.

Trigger phrases catch the wording someone thought of; people find other words
("we're tapped out this month", "who's to say you won't vanish with my money").
The objection model (``encoder.py``) was trained on about 1,000 labelled
prospect sentences per category, and on 6,000 that raise no objection but mostly
talk about money, time, spouses or other brands (``examples/*.yaml``), each also
as the speech model heard it spoken (``hearing.py``). It prompts only when it is
sure: ``meaning_threshold``. It also checks the trigger phrases: a trigger whose
objection the model finds unlikely in the whole sentence does not prompt
(``trigger_agreement``).

A user's own examples (the ``examples:`` of a playbook entry) are compared
directly: an utterance whose meaning vector comes close enough to one of them
raises that category. No training is needed, so an objection a user writes into
a profile works on the next call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .encoder import ObjectionModel, Reading

NONE = "none"


@dataclass(frozen=True)
class Guess:
    category: str
    # The model's probability for the category; for a user's example, the similarity.
    confidence: float
    # The user's example sentence it was closest to, if that is why.
    like: Optional[str] = None


class MeaningClassifier:
    """Guesses the objection an utterance raises, or None."""

    def __init__(
        self,
        model: ObjectionModel,
        threshold: float,
        user_examples: Sequence[tuple[str, str]] = (),
        user_similarity: float = 0.75,
        categories: Optional[set[str]] = None,
        trigger_agreement: float = 0.0,
    ):
        self.model = model
        self.threshold = threshold
        self.trigger_agreement = trigger_agreement
        self.user_similarity = user_similarity
        # Categories the playbook does not have are never guessed.
        self.allowed = categories
        self.user_categories = [category for category, _ in user_examples]
        self.user_texts = [text for _, text in user_examples]
        self.user_vectors = model.vectors(self.user_texts)
        self._last: Optional[tuple[str, Reading]] = None

    def guess(self, text: str) -> Optional[Guess]:
        reading = self._read(text)
        own = self._closest_user_example(reading.vector)
        if own is not None:
            return own
        category, probability = max(reading.probabilities.items(), key=lambda item: item[1])
        if category == NONE or probability < self.threshold:
            return None
        if self.allowed is not None and category not in self.allowed:
            return None
        return Guess(category, probability)

    def agrees(self, text: str, categories: set[str]) -> set[str]:
        """Which of ``categories``, whose trigger phrases matched ``text``, the model
        does not contradict: those it gives at least ``trigger_agreement``. A trigger is
        a few words, the model reads the whole sentence: "send it over and I'll sign
        tonight" is no stall. When two categories matched and the model reads one of
        them, both stay: one breath can raise two ("too expensive, and I need to ask my
        wife"), and the model names only one; so do they when the model reads another
        objection but is not sure of it. A category the model was not trained on (a
        user's own) is always kept."""
        probabilities = self._read(text).probabilities
        top = max(probabilities, key=probabilities.get)
        if len(categories) > 1 and top in categories:
            return set(categories)
        if top != NONE and probabilities[top] < self.threshold:
            # Torn between objections (a long turn raising two): the trigger stays.
            return set(categories)
        return {category for category in categories
                if probabilities.get(category, 1.0) >= self.trigger_agreement}

    def _read(self, text: str) -> Reading:
        # A trigger's check and the guess read the same utterance: once.
        if self._last is None or self._last[0] != text:
            [reading] = self.model.read([text])
            self._last = (text, reading)
        return self._last[1]

    def _closest_user_example(self, vector: np.ndarray) -> Optional[Guess]:
        if not self.user_texts:
            return None
        similarities = self.user_vectors @ vector
        best = int(np.argmax(similarities))
        if similarities[best] < self.user_similarity:
            return None
        return Guess(self.user_categories[best], float(similarities[best]), self.user_texts[best])
