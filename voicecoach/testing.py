"""Helpers for testing plugins without audio or a model.

    from voicecoach.testing import run_conversation

    def test_price_objection():
        summary = run_conversation(
            [("seller", "So what do you think?"), ("prospect", "It is too expensive for us.")],
            plugins={"objections": {}},
        )
        assert summary.prompts[0].kind == "objection.price"
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterable, Optional

from .hookspecs import hookimpl
from .pipeline import Pipeline
from .profiles import Profile
from .script import ScriptSource, lines_to_utterances, utterance_events
from .session import SessionSummary

# In tests every prompt counts: no pacing, no cool-down.
NO_PACING = {"min_interval": 0, "cooldown": 0, "max_age": 1e9}


def make_profile(plugins: dict | Iterable[str], arbitration: Optional[dict] = None, name: str = "test") -> Profile:
    """A profile in memory enabling ``plugins`` (names, or names to settings)."""
    if not isinstance(plugins, dict):
        plugins = {plugin: {} for plugin in plugins}
    return Profile(
        name=name,
        path=f"<{name} profile>",
        plugins={key: dict(value or {}) for key, value in plugins.items()},
        arbitration=dict(NO_PACING if arbitration is None else arbitration),
    )


def run_conversation(
    lines: Iterable,
    plugins: dict | Iterable[str] = (),
    *,
    extra_plugins: Iterable[object] = (),
    arbitration: Optional[dict] = None,
    db_path: Optional[str] = None,
    warnings: Optional[list] = None,
    controls=None,
) -> SessionSummary:
    """Run a scripted conversation through ``plugins`` and return the session summary.

    ``lines`` are ``(speaker, text)`` pairs or mappings with ``speaker``, ``text`` and
    optional ``start``/``end``. ``summary.prompts`` holds the delivered prompts.
    ``extra_plugins`` are plugin objects enabled for this run only (registered and
    unregistered for you). Warnings go to ``warnings`` when a list is given.
    ``controls`` (a :class:`voicecoach.keys.CallControls`) gets the pipeline, so a
    test can press the rating keys.
    """
    utterances = lines_to_utterances(lines)
    return run_events(
        utterance_events(utterances), plugins, extra_plugins=extra_plugins, arbitration=arbitration,
        db_path=db_path, warnings=warnings, controls=controls, source=ScriptSource(utterances),
    )


def run_events(
    events: Iterable,
    plugins: dict | Iterable[str] = (),
    *,
    extra_plugins: Iterable[object] = (),
    arbitration: Optional[dict] = None,
    db_path: Optional[str] = None,
    warnings: Optional[list] = None,
    controls=None,
    source=None,
) -> SessionSummary:
    """Like :func:`run_conversation`, from ready-made events in time order:
    :class:`voicecoach.Utterance` (partial ones too) and :class:`voicecoach.SpeechActivity`."""
    events = list(events)
    if source is None:
        source = ScriptSource([event for event in events if getattr(event, "name", "") == "utterance"])
    pipeline = Pipeline(
        source,
        None,
        make_profile(plugins, arbitration),
        db_path=db_path,
        plugins=extra_plugins,
        warn=warnings.append if warnings is not None else None,
    )
    if controls is not None:
        controls.pipeline = pipeline
    return pipeline.run_events(events)


class CallRecorder:
    """A plugin that records what a session produced, with the instant each arrived.

    Pass it as ``plugins=[recorder]`` to ``coach_recording``/``coach_live`` (or as
    ``extra_plugins`` to ``run_conversation``). ``on_start`` is called on its own
    thread when the session starts, after ``start_delay`` seconds: the place to
    start playing audio into live devices.
    """

    def __init__(self, on_start: Optional[Callable[[], object]] = None, start_delay: float = 0.0):
        self.on_start = on_start
        self.start_delay = start_delay
        self.started_at: Optional[float] = None  # monotonic instant on_start was called
        self.utterances = []  # final transcripts
        self.partials = []
        self.prompts = []  # (monotonic delivery instant, Prompt)
        self.observations = []
        self.events = []  # ("transcript" | "partial" | "prompt", item) in arrival order

    @hookimpl
    def session_started(self, session):
        if self.on_start is None:
            return

        def start():
            time.sleep(self.start_delay)
            self.started_at = time.monotonic()
            self.on_start()

        threading.Thread(target=start, name="voicecoach-test-start", daemon=True).start()

    @hookimpl
    def partial_transcript(self, session, utterance):
        self.partials.append(utterance)
        self.events.append(("partial", utterance))

    @hookimpl
    def transcript(self, session, utterance):
        self.utterances.append(utterance)
        self.events.append(("transcript", utterance))

    @hookimpl
    def prompt_delivered(self, session, prompt):
        self.prompts.append((time.monotonic(), prompt))
        self.events.append(("prompt", prompt))

    @hookimpl
    def observed(self, session, observation):
        self.observations.append(observation)

    def said(self, speaker: str) -> str:
        """Everything ``speaker`` said, lower-cased, in one string."""
        return " ".join(u.text.lower() for u in self.utterances if u.speaker == speaker)

    def prompts_of(self, kind: str) -> list:
        return [prompt for _, prompt in self.prompts if prompt.kind == kind]


class RatesPrompts:
    """A plugin that rates every prompt the moment it is shown, the way a seller presses
    ``+`` or ``-`` in the terminal: useful when ``useful(prompt)`` says so. Pass the
    same ``controls`` (a :class:`voicecoach.keys.CallControls`) to the session."""

    def __init__(self, controls, useful: Callable[[object], bool]):
        self.controls = controls
        self.useful = useful

    @hookimpl
    def prompt_delivered(self, session, prompt):
        self.controls.key("+" if self.useful(prompt) else "-")
