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

from typing import Iterable, Optional

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
) -> SessionSummary:
    """Run a scripted conversation through ``plugins`` and return the session summary.

    ``lines`` are ``(speaker, text)`` pairs or mappings with ``speaker``, ``text`` and
    optional ``start``/``end``. ``summary.prompts`` holds the delivered prompts.
    ``extra_plugins`` are plugin objects enabled for this run only (registered and
    unregistered for you). Warnings go to ``warnings`` when a list is given.
    """
    utterances = lines_to_utterances(lines)
    profile = make_profile(plugins, arbitration)
    pipeline = Pipeline(
        ScriptSource(utterances),
        None,
        profile,
        db_path=db_path,
        plugins=extra_plugins,
        warn=warnings.append if warnings is not None else None,
    )
    return pipeline.run_events(utterance_events(utterances))
