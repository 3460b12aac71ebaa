"""Prompt arbitration: which of the plugins' prompts the seller actually sees, and when.

A busy display is ignored, so: the most urgent prompt first; the same prompt
(kind and key) never twice; one kind not again within its cool-down; at most one
new prompt every ``min_interval`` seconds, except critical ones; prompts held back
longer than ``max_age`` are dropped as stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import CRITICAL, PRIORITIES, Prompt


@dataclass
class ArbitrationSettings:
    # Seconds between two delivered prompts (critical prompts skip the queue).
    min_interval: float = 3.0
    # Seconds before a prompt of the same kind may be shown again.
    cooldown: float = 20.0
    # Seconds a held-back prompt stays worth showing.
    max_age: float = 10.0

    @classmethod
    def from_dict(cls, values: dict) -> "ArbitrationSettings":
        allowed = set(cls.__dataclass_fields__)
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(
                f"unknown arbitration setting {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(allowed))}"
            )
        return cls(**{key: float(value) for key, value in values.items()})


class Arbiter:
    def __init__(self, settings: ArbitrationSettings | None = None):
        self.settings = settings or ArbitrationSettings()
        self._held: list[Prompt] = []
        self._seen_keys: set[tuple] = set()
        self._last_of_kind: dict[str, float] = {}
        self._last_delivery = float("-inf")
        self.suppressed: list[tuple[Prompt, str]] = []

    def offer(self, prompt: Prompt, now: float) -> None:
        """A plugin produced ``prompt`` at session time ``now``."""
        identity = (prompt.kind, prompt.key) if prompt.key is not None else None
        if identity is not None and identity in self._seen_keys:
            self.suppressed.append((prompt, "duplicate"))
            return
        last = self._last_of_kind.get(prompt.kind)
        if last is not None and now - last < self.settings.cooldown and prompt.key is None:
            self.suppressed.append((prompt, "cooldown"))
            return
        if any(held.kind == prompt.kind and held.key == prompt.key for held in self._held):
            self.suppressed.append((prompt, "duplicate"))
            return
        prompt.at = now
        self._held.append(prompt)

    def due(self, now: float) -> list[Prompt]:
        """The prompts to deliver at session time ``now``, most urgent first."""
        fresh = []
        for prompt in self._held:
            if now - prompt.at > self.settings.max_age:
                self.suppressed.append((prompt, "stale"))
            else:
                fresh.append(prompt)
        fresh.sort(key=lambda p: (PRIORITIES.index(p.priority), p.at))
        delivered, held = [], []
        for prompt in fresh:
            interval_passed = now - self._last_delivery >= self.settings.min_interval
            if prompt.priority == CRITICAL or (interval_passed and not delivered):
                delivered.append(prompt)
                self._last_delivery = now
                self._last_of_kind[prompt.kind] = now
                if prompt.key is not None:
                    self._seen_keys.add((prompt.kind, prompt.key))
            else:
                held.append(prompt)
        self._held = held
        return delivered

    def flush(self, now: float) -> list[Prompt]:
        """The session is ending: everything still held and fresh, most urgent first."""
        held, self._held = self._held, []
        fresh = [p for p in held if now - p.at <= self.settings.max_age]
        return sorted(fresh, key=lambda p: (PRIORITIES.index(p.priority), p.at))

    @property
    def waiting(self) -> int:
        return len(self._held)
