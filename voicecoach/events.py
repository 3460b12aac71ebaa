"""The typed events that flow from the pipeline to plugins, and back.

Every time is *session time*: seconds since the session's audio began. A recorded
file replayed fast and a live device feed the same code, so session time is the
one clock plugins reason with. Wall-clock instants used for latency accounting
are ``time.monotonic()`` values and live in ``*_at`` fields.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Optional

SELLER = "seller"
PROSPECT = "prospect"
# One channel that carries both voices (a mono recording, a mic-only call).
MIXED = "mixed"
SPEAKERS = (SELLER, PROSPECT, MIXED)

# Priorities, most urgent first. Arbitration delivers critical before high, etc.
CRITICAL = "critical"
HIGH = "high"
MEDIUM = "medium"
LOW = "low"
PRIORITIES = (CRITICAL, HIGH, MEDIUM, LOW)

_utterance_ids = itertools.count(1)


@dataclass
class SpeechActivity:
    """A speaker started (``end is None``) or stopped talking.

    Emitted from voice activity alone, before any transcription, so monitors that
    need timing without text (talk ratio, interruptions, silences) react at once.
    """

    speaker: str
    start: float
    end: Optional[float] = None
    name: str = "speech_activity"

    @property
    def is_start(self) -> bool:
        return self.end is None

    @property
    def duration(self) -> float:
        return 0.0 if self.end is None else self.end - self.start


@dataclass
class UtteranceTiming:
    """Monotonic instants in the life of one utterance, for latency accounting.

    ``speech_ended_at`` is when the last audio of the words was available to the
    pipeline (for a live device: when it was captured), ``endpointed_at`` when voice
    activity detection confirmed the end, ``transcribed_at`` when its text was ready.
    """

    speech_ended_at: float = 0.0
    endpointed_at: float = 0.0
    transcription_started_at: float = 0.0
    transcribed_at: float = 0.0

    @property
    def transcription_seconds(self) -> float:
        return max(0.0, self.transcribed_at - self.transcription_started_at)


@dataclass
class Utterance:
    """One finished stretch of speech by one speaker, with its text."""

    speaker: str
    text: str
    start: float
    end: float
    id: int = field(default_factory=lambda: next(_utterance_ids))
    # Early, not yet final text of an utterance still being spoken.
    partial: bool = False
    # Mean log probability of the decoded tokens (None when unknown, e.g. text mode).
    confidence: Optional[float] = None
    timing: UtteranceTiming = field(default_factory=UtteranceTiming)
    name: str = "utterance"

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def words(self) -> list[str]:
        return self.text.split()


@dataclass
class PromptLatency:
    """How long after the end of the words a prompt reached the sinks, and why.

    ``total`` = ``vad`` (waiting for silence to confirm the end of speech)
    + ``transcription`` (queueing and decoding) + ``plugins`` (coaching hooks)
    + ``delivery`` (arbitration hold-back and hand-off to the sinks).
    """

    total: float
    vad: float
    transcription: float
    plugins: float
    delivery: float


@dataclass
class Prompt:
    """A coaching prompt a plugin wants the seller to see.

    ``kind`` names what the prompt is about (``objection.price``, ``talk_ratio``);
    arbitration suppresses repeats of one kind within its cool-down and collapses
    duplicates with the same ``kind`` and ``key``. ``trigger`` is the utterance whose
    words called for it, so the seller can see why; the core fills ``plugin``,
    ``at`` and ``latency``.
    """

    kind: str
    text: str
    priority: str = MEDIUM
    detail: list[str] = field(default_factory=list)
    trigger: Optional[Utterance] = None
    # Distinguishes separate instances of one kind (e.g. two different price objections).
    key: Optional[str] = None
    data: dict = field(default_factory=dict)
    plugin: Optional[str] = None
    at: Optional[float] = None
    created_at: float = 0.0
    latency: Optional[PromptLatency] = None
    name: str = "prompt"

    def __post_init__(self):
        if self.priority not in PRIORITIES:
            raise ValueError(
                f"prompt priority {self.priority!r} is not one of {', '.join(PRIORITIES)}"
            )


@dataclass
class Observation:
    """A fact a plugin noticed that is worth logging but not showing as a prompt.

    Examples: ``stage`` changed to ``discovery``; an objection was ``answered``. The
    SQLite log stores them and reports read them back.
    """

    kind: str
    value: object = None
    at: Optional[float] = None
    data: dict = field(default_factory=dict)
    plugin: Optional[str] = None
    name: str = "observation"
