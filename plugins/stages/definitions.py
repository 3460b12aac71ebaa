"""The call stages and their cues, read from the shipped ``stages.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import yaml

from voicecoach import PRIORITIES

from .cues import Cue, compile_cue

SPEAKER_LISTS = ("seller", "prospect", "anyone")


@dataclass
class Stage:
    name: str
    label: str
    priority: str
    advice: str
    # "seller", "prospect", "anyone" -> the cues that speaker's words can carry.
    cues: dict[str, list[Cue]]


@dataclass
class StageBook:
    stages: list[Stage]  # in their usual order through a call
    next_step: list[Cue]


def load_stage_book(path: str | None = None) -> StageBook:
    """Read ``path`` (the shipped ``stages.yaml`` by default); errors name the file and key."""
    path = path or str(files(__package__).joinpath("stages.yaml"))
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        raise ValueError(f"{path}: expected a 'stages' mapping")
    stages = [_stage(path, name, entry) for name, entry in data["stages"].items()]
    return StageBook(stages, _cues(path, "next_step", data.get("next_step") or []))


def _stage(path: str, name: str, entry) -> Stage:
    where = f"{path}: stages.{name}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a mapping with label, priority, advice and cues")
    priority = entry.get("priority", "low")
    if priority not in PRIORITIES:
        raise ValueError(f"{where}.priority must be one of {', '.join(PRIORITIES)}")
    cue_lists = entry.get("cues") or {}
    unknown = sorted(set(cue_lists) - set(SPEAKER_LISTS))
    if unknown:
        raise ValueError(f"{where}.cues.{unknown[0]} is not a speaker; use {', '.join(SPEAKER_LISTS)}")
    return Stage(
        name=name,
        label=str(entry.get("label") or name),
        priority=priority,
        advice=str(entry.get("advice") or ""),
        cues={speaker: _cues(path, f"stages.{name}.cues.{speaker}", cue_lists.get(speaker) or []) for speaker in SPEAKER_LISTS},
    )


def _cues(path: str, key: str, phrases) -> list[Cue]:
    if not isinstance(phrases, list):
        raise ValueError(f"{path}: {key} must be a list of phrases")
    compiled = []
    for number, phrase in enumerate(phrases, start=1):
        try:
            compiled.append(compile_cue(phrase))
        except ValueError as error:
            raise ValueError(f"{path}: {key}[{number}]: {error}") from None
    return compiled
