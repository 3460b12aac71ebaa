"""The call stages and their cues, read from the shipped ``stages.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

import yaml

from voicecoach import MIXED, PRIORITIES, PROSPECT, SELLER

from .cues import Cue, CueList, compile_cue

# libyaml when installed: the stage book is read at the start of every first call.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SPEAKER_LISTS = ("seller", "prospect", "anyone")
# The cue lists each speaker's words are read against. On one channel every list applies.
HEARD_IN = {SELLER: ("seller", "anyone"), PROSPECT: ("prospect", "anyone"), MIXED: SPEAKER_LISTS}
# What moves a call from one stage into another: any cue of the new stage, a strong
# cue or plain cues in two sentences running, or only a strong cue.
EVIDENCE = ("cue", "twice", "strong")


@dataclass
class Stage:
    name: str
    label: str
    priority: str
    advice: str
    # "seller", "prospect", "anyone" -> the cues that speaker's words can carry.
    cues: dict[str, list[Cue]]
    strong_cues: dict[str, list[Cue]] = field(default_factory=dict)
    # Plain cues that count only as the first words of a speaker's turn ("I hear you").
    openers: dict[str, list[Cue]] = field(default_factory=dict)
    # Previous stage -> "cue" or "strong": the evidence that moves the call here from it.
    entered_from: dict[str, str] = field(default_factory=dict)
    # Whose questions (not small talk, not check-ins) count as cues of this stage.
    questions: str | None = None


@dataclass(eq=False)
class StageBook:
    stages: list[Stage]  # in their usual order through a call
    next_step: list[Cue]
    wrap_up: list[Cue] = field(default_factory=list)
    check_ins: list[Cue] = field(default_factory=list)
    _searches: dict = field(default_factory=dict, repr=False)

    def cues_for(self, stage: Stage, speaker: str) -> tuple[CueList, CueList, CueList]:
        """The strong cues, plain cues and turn openers of ``stage`` that ``speaker``'s words can carry."""
        key = (stage.name, speaker)
        if key not in self._searches:
            self._searches[key] = tuple(
                CueList(cue for heard in HEARD_IN[speaker] for cue in cues.get(heard, []))
                for cues in (stage.strong_cues, stage.cues, stage.openers)
            )
        return self._searches[key]


def load_stage_book(path: str | None = None) -> StageBook:
    """Read ``path`` (the shipped ``stages.yaml`` by default); errors name the file and key."""
    return _load(path or str(files(__package__).joinpath("stages.yaml")))


@lru_cache(maxsize=8)
def _load(path: str) -> StageBook:
    # Compiling thousands of cue spellings takes a while: once per file, not once per call.
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=SAFE_LOADER)
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        raise ValueError(f"{path}: expected a 'stages' mapping")
    names = list(data["stages"])
    stages = [_stage(path, name, entry, names) for name, entry in data["stages"].items()]
    return StageBook(
        stages,
        _cues(path, "next_step", data.get("next_step") or []),
        _cues(path, "wrap_up", data.get("wrap_up") or []),
        _cues(path, "check_ins", data.get("check_ins") or []),
    )


def _stage(path: str, name: str, entry, names: list[str]) -> Stage:
    where = f"{path}: stages.{name}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a mapping with label, priority, advice and cues")
    priority = entry.get("priority", "low")
    if priority not in PRIORITIES:
        raise ValueError(f"{where}.priority must be one of {', '.join(PRIORITIES)}")
    entered_from = entry.get("from") or {}
    if not isinstance(entered_from, dict):
        raise ValueError(f"{where}.from must map earlier stages to cue or strong")
    for source, evidence in entered_from.items():
        if source not in names or source == name:
            raise ValueError(f"{where}.from.{source} is not another stage; the stages are {', '.join(names)}")
        if evidence not in EVIDENCE:
            raise ValueError(f"{where}.from.{source} must be one of {', '.join(EVIDENCE)}, not {evidence!r}")
    questions = entry.get("questions")
    if questions is not None and questions not in SPEAKER_LISTS:
        raise ValueError(f"{where}.questions must be one of {', '.join(SPEAKER_LISTS)}")
    return Stage(
        name=name,
        label=str(entry.get("label") or name),
        priority=priority,
        advice=str(entry.get("advice") or ""),
        cues=_speaker_cues(path, f"stages.{name}.cues", entry.get("cues")),
        strong_cues=_speaker_cues(path, f"stages.{name}.strong_cues", entry.get("strong_cues")),
        openers=_speaker_cues(path, f"stages.{name}.openers", entry.get("openers")),
        entered_from=dict(entered_from),
        questions=questions,
    )


def _speaker_cues(path: str, key: str, cue_lists) -> dict[str, list[Cue]]:
    cue_lists = cue_lists or {}
    if not isinstance(cue_lists, dict):
        raise ValueError(f"{path}: {key} must map speakers to lists of phrases")
    unknown = sorted(set(cue_lists) - set(SPEAKER_LISTS))
    if unknown:
        raise ValueError(f"{path}: {key}.{unknown[0]} is not a speaker; use {', '.join(SPEAKER_LISTS)}")
    return {speaker: _cues(path, f"{key}.{speaker}", cue_lists.get(speaker) or []) for speaker in SPEAKER_LISTS}


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
