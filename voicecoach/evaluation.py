"""How well the coaches hear what they should: objections per category, stages per utterance.

    from voicecoach.evaluation import evaluate_objections, evaluate_stages, load_corpus, load_dialogues

    scores = evaluate_objections(load_corpus())          # text, through run_conversation
    print(scores.f1("price"), scores.false_prompt_rate)
    stages = evaluate_stages(load_dialogues())
    print(stages.accuracy)

The corpus (``tests/corpus/objections.yaml``) holds prospect utterances labelled
with the objection they raise, or ``none``; ``hard_negative`` marks the ones that
mention money, time, a spouse or another brand without objecting. The dialogues
(``tests/corpus/dialogues/*.yaml``) are calls with every line labelled with its
stage, and prospect lines with their objection.

In text mode the plugins see the exact words, through the same pipeline as a call
(:func:`voicecoach.testing.run_conversation`). In audio mode the same material is
spoken by espeak-ng, run through the real pipeline (voice activity detection, the
embedded speech model) with :func:`voicecoach.coach.coach_recording`, and each
transcribed utterance is matched back to the line it came from by its timing, so
speech-recognition errors count against the score.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import click
import yaml

from .events import PROSPECT, SELLER, Utterance
from .hookspecs import hookimpl
from .testing import make_profile, run_conversation

NONE = "none"
# tune: the trigger phrases were improved while looking at these; heldout: written
# after, scored without changing them; fresh: written by an author who saw neither
# the corpus nor the meaning classifier's training examples.
SPLITS = ("tune", "heldout", "fresh")
STAGE_NAMES = ("opening", "discovery", "presentation", "objection_handling", "closing")
# Between corpus utterances: more than the objections plugin's turn gap (1 s), so
# each utterance is a new turn and an objection still open from the last one does
# not hide the next one of the same category.
CORPUS_GAP_SECONDS = 2.0
# Corpus utterances per synthesized call in audio mode: long enough to amortise
# starting a session, short enough to report progress.
AUDIO_BATCH = 40
# A transcribed utterance further than this from every line is matched to none.
ALIGN_SLACK_SECONDS = 1.0


class CorpusError(ValueError):
    """A corpus or dialogue file that cannot be used; the message names the file and item."""


# ---- the labelled material -------------------------------------------------------


@dataclass(frozen=True)
class LabelledUtterance:
    """One prospect utterance and the objection categories it raises (empty: none)."""

    text: str
    labels: frozenset
    hard_negative: bool = False
    domain: str = ""
    split: str = "tune"


@dataclass(frozen=True)
class DialogueLine:
    speaker: str
    text: str
    stage: str
    # For prospect lines: the objections raised (empty: none); None when unlabelled.
    objections: Optional[frozenset] = None


@dataclass
class Dialogue:
    title: str
    domain: str
    path: str
    lines: list[DialogueLine]


def repository_corpus_folder() -> Path:
    """``tests/corpus`` of the source checkout this module runs from."""
    return Path(__file__).resolve().parent.parent / "tests" / "corpus"


def load_corpus(path: Optional[str] = None, split: Optional[str] = None) -> list[LabelledUtterance]:
    """The labelled utterances of ``path`` (default: the repository's corpus), of one split or all."""
    path = str(path or repository_corpus_folder() / "objections.yaml")
    data = _read_yaml(path)
    items = data.get("utterances") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise CorpusError(f"{path}: expected a mapping with a list of `utterances`")
    corpus = []
    for number, item in enumerate(items, start=1):
        where = f"{path}: utterances[{number}]"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise CorpusError(f"{where} needs a non-empty `text`")
        if "label" not in item:
            raise CorpusError(f"{where} needs a `label` (a category, a list of them, or none)")
        item_split = item.get("split", "tune")
        if item_split not in SPLITS:
            raise CorpusError(f"{where}: split must be one of {', '.join(SPLITS)}")
        corpus.append(
            LabelledUtterance(
                text=item["text"].strip(),
                labels=_labels(item["label"], where),
                hard_negative=bool(item.get("hard_negative", False)),
                domain=str(item.get("domain", "")),
                split=item_split,
            )
        )
    if split is not None:
        if split not in SPLITS:
            raise CorpusError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
        corpus = [item for item in corpus if item.split == split]
    return corpus


def load_dialogues(folder: Optional[str] = None) -> list[Dialogue]:
    """Every ``*.yaml`` dialogue in ``folder`` (default: the repository's), by file name."""
    folder = Path(folder or repository_corpus_folder() / "dialogues")
    if not folder.is_dir():
        return []
    return [load_dialogue(str(path)) for path in sorted(folder.glob("*.yaml"))]


def load_dialogue(path: str) -> Dialogue:
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list) or not data["lines"]:
        raise CorpusError(f"{path}: expected a mapping with a list of `lines`")
    lines = []
    for number, line in enumerate(data["lines"], start=1):
        where = f"{path}: lines[{number}]"
        if not isinstance(line, dict):
            raise CorpusError(f"{where} must be a mapping with speaker, text and stage")
        speaker, text, stage = line.get("speaker"), line.get("text"), line.get("stage")
        if speaker not in (SELLER, PROSPECT):
            raise CorpusError(f"{where}: speaker must be {SELLER} or {PROSPECT}, not {speaker!r}")
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(f"{where} needs a non-empty `text`")
        if stage not in STAGE_NAMES:
            raise CorpusError(f"{where}: stage must be one of {', '.join(STAGE_NAMES)}, not {stage!r}")
        objections = None
        if speaker == PROSPECT and "objection" in line:
            objections = _labels(line["objection"], where)
        lines.append(DialogueLine(speaker, text.strip(), stage, objections))
    return Dialogue(str(data.get("title") or Path(path).stem), str(data.get("domain") or ""), path, lines)


def _labels(value, where: str) -> frozenset:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(label, str) and label.strip() for label in values):
        raise CorpusError(f"{where}: a label is a category name, a list of them, or none")
    labels = frozenset(label.strip() for label in values)
    if NONE in labels and len(labels) > 1:
        raise CorpusError(f"{where}: `none` cannot be combined with categories")
    return labels - {NONE}


def _read_yaml(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise CorpusError(f"{path} does not exist") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise CorpusError(f"{path}: YAML syntax error{where}") from None


# ---- scores ----------------------------------------------------------------------


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass
class Outcome:
    """What the coach made of one labelled utterance."""

    text: str
    expected: frozenset
    found: frozenset
    hard_negative: bool = False
    heard: Optional[str] = None  # audio mode: what speech recognition wrote
    split: str = ""

    @property
    def correct(self) -> bool:
        return self.expected == self.found


@dataclass
class ObjectionScores:
    outcomes: list[Outcome]
    mode: str = "text"

    @property
    def categories(self) -> list[str]:
        return sorted({label for o in self.outcomes for label in o.expected | o.found})

    def counts(self, category: str) -> Counts:
        counts = Counts()
        for outcome in self.outcomes:
            expected, found = category in outcome.expected, category in outcome.found
            counts.tp += expected and found
            counts.fp += found and not expected
            counts.fn += expected and not found
        return counts

    def f1(self, category: str) -> float:
        return self.counts(category).f1

    @property
    def micro(self) -> Counts:
        total = Counts()
        for category in self.categories:
            counts = self.counts(category)
            total.tp += counts.tp
            total.fp += counts.fp
            total.fn += counts.fn
        return total

    @property
    def macro_f1(self) -> float:
        categories = [c for c in self.categories if self.counts(c).support]
        return sum(self.f1(c) for c in categories) / len(categories) if categories else 0.0

    @property
    def hard_negatives(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.hard_negative]

    @property
    def false_prompts(self) -> list[Outcome]:
        """Hard negatives the coach prompted on."""
        return [o for o in self.hard_negatives if o.found]

    @property
    def false_prompt_rate(self) -> float:
        return len(self.false_prompts) / len(self.hard_negatives) if self.hard_negatives else 0.0

    @property
    def mistakes(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def split(self, name: str) -> "ObjectionScores":
        """The scores of one part of the corpus (``tune``, ``heldout`` or ``fresh``)."""
        return ObjectionScores([o for o in self.outcomes if o.split == name], self.mode)

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "utterances": len(self.outcomes),
            "categories": {
                c: {"precision": round(k.precision, 3), "recall": round(k.recall, 3), "f1": round(k.f1, 3),
                    "support": k.support}
                for c in self.categories
                for k in [self.counts(c)]
            },
            "micro": {"precision": round(self.micro.precision, 3), "recall": round(self.micro.recall, 3),
                      "f1": round(self.micro.f1, 3)},
            "macro_f1": round(self.macro_f1, 3),
            "hard_negatives": len(self.hard_negatives),
            "false_prompts": len(self.false_prompts),
            "false_prompt_rate": round(self.false_prompt_rate, 3),
            "splits": {
                name: {"micro_f1": round(part.micro.f1, 3), "macro_f1": round(part.macro_f1, 3),
                       "false_prompt_rate": round(part.false_prompt_rate, 3), "utterances": len(part.outcomes)}
                for name in SPLITS
                for part in [self.split(name)]
                if part.outcomes
            },
        }


@dataclass
class StageOutcome:
    dialogue: str
    speaker: str
    text: str
    expected: str
    found: Optional[str]
    heard: Optional[str] = None


@dataclass
class StageScores:
    outcomes: list[StageOutcome]
    # The prospect lines' objection labels, scored like the corpus.
    objections: ObjectionScores
    mode: str = "text"

    @property
    def accuracy(self) -> float:
        return sum(o.expected == o.found for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def accuracy_by_stage(self) -> dict[str, tuple[float, int]]:
        result = {}
        for stage in STAGE_NAMES:
            lines = [o for o in self.outcomes if o.expected == stage]
            if lines:
                result[stage] = (sum(o.found == stage for o in lines) / len(lines), len(lines))
        return result

    def accuracy_by_dialogue(self) -> dict[str, float]:
        result = {}
        for title in dict.fromkeys(o.dialogue for o in self.outcomes):
            lines = [o for o in self.outcomes if o.dialogue == title]
            result[title] = sum(o.expected == o.found for o in lines) / len(lines)
        return result

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "dialogues": len(self.accuracy_by_dialogue()),
            "utterances": len(self.outcomes),
            "accuracy": round(self.accuracy, 3),
            "by_stage": {stage: round(value, 3) for stage, (value, _) in self.accuracy_by_stage().items()},
            "objections": self.objections.to_dict(),
        }


# ---- running the plugins ---------------------------------------------------------


class _Recorder:
    """Collects, in the order the plugins saw them, the transcripts and what was observed."""

    def __init__(self):
        self.utterances: list[Utterance] = []
        self.observations = []

    @hookimpl
    def transcript(self, session, utterance):
        if not utterance.partial:
            self.utterances.append(utterance)

    @hookimpl
    def observed(self, session, observation):
        self.observations.append(observation)

    def objections_by_utterance(self) -> dict[int, set]:
        found: dict[int, set] = {}
        for observation in self.observations:
            if observation.kind == "objection":
                found.setdefault(observation.data.get("utterance_id"), set()).add(observation.value)
        return found

    def stage_after_each(self) -> list[Optional[str]]:
        """The stage the stages plugin was in after each utterance, in processing order."""
        changes: dict[int, str] = {}
        for observation in self.observations:
            if observation.kind == "stage":
                changes[observation.data.get("utterance_id")] = observation.value
        stages, current = [], None
        for utterance in self.utterances:
            current = changes.get(utterance.id, current)
            stages.append(current)
        return stages


def _warn_to(warnings: Optional[list]):
    return warnings if warnings is not None else []


def evaluate_objections(
    corpus: list[LabelledUtterance], *, warnings: Optional[list] = None, settings: Optional[dict] = None
) -> ObjectionScores:
    """Run the objections plugin over each utterance as the prospect's words, and score it.

    ``settings`` are the plugin's profile settings (``{"by_meaning": False}``: triggers only).
    """
    recorder = _Recorder()
    lines, clock = [], 0.0
    for item in corpus:
        duration = max(0.5, len(item.text.split()) / 2.6)
        lines.append({"speaker": PROSPECT, "text": item.text, "start": clock, "end": clock + duration})
        clock += duration + CORPUS_GAP_SECONDS
    run_conversation(lines, {"objections": dict(settings or {})}, extra_plugins=[recorder], warnings=_warn_to(warnings))
    found = recorder.objections_by_utterance()
    if len(recorder.utterances) != len(corpus):
        raise RuntimeError(f"the objections run saw {len(recorder.utterances)} utterances, not {len(corpus)}")
    return ObjectionScores(
        [
            Outcome(item.text, item.labels, frozenset(found.get(utterance.id, ())), item.hard_negative, split=item.split)
            for item, utterance in zip(corpus, recorder.utterances)
        ]
    )


def evaluate_stages(dialogues: list[Dialogue], *, warnings: Optional[list] = None) -> StageScores:
    """Run the stages and objections plugins over each dialogue, and score every line."""
    outcomes, objection_outcomes = [], []
    for dialogue in dialogues:
        recorder = _Recorder()
        run_conversation(
            [(line.speaker, line.text) for line in dialogue.lines],
            {"stages": {}, "objections": {}},
            extra_plugins=[recorder],
            warnings=_warn_to(warnings),
        )
        stages = recorder.stage_after_each()
        found = recorder.objections_by_utterance()
        for line, utterance, stage in zip(dialogue.lines, recorder.utterances, stages):
            outcomes.append(StageOutcome(dialogue.title, line.speaker, line.text, line.stage, stage))
            if line.objections is not None:
                objection_outcomes.append(Outcome(line.text, line.objections, frozenset(found.get(utterance.id, ()))))
    return StageScores(outcomes, ObjectionScores(objection_outcomes))


def time_matcher(texts: Iterable[str], repeat: int = 3) -> dict:
    """Seconds the objections plugin takes to read one utterance: normalising, every
    trigger, and its objection model (which runs only when no trigger matched; timed
    on every utterance here, the worst case).

    Times the bundled plugin's parts directly, as its ``transcript`` hook runs them,
    without the pipeline around them. Empty when that plugin is not installed.
    """
    try:
        from voicecoach_objections import DEFAULTS, load_playbook
        from voicecoach_objections.encoder import shared_model
        from voicecoach_objections.matcher import find
        from voicecoach_objections.normalise import normalise
    except ImportError:
        return {}
    playbook = load_playbook()
    max_gap = DEFAULTS["max_gap"]
    model = shared_model() if DEFAULTS["by_meaning"] else None
    seconds = []
    for text in texts:
        best = None
        for _ in range(repeat):
            started = time.perf_counter()
            tokens = normalise(text)
            for objection in playbook:
                if find(objection.triggers, tokens, max_gap) is not None:
                    find(objection.unless, tokens, max_gap)
            if model is not None:
                model.read([text])
            took = time.perf_counter() - started
            best = took if best is None else min(best, took)
        seconds.append(best)
    if not seconds:
        return {}
    seconds.sort()
    return {
        "mean_ms": 1000 * sum(seconds) / len(seconds),
        "p95_ms": 1000 * seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))],
        "max_ms": 1000 * seconds[-1],
    }


# ---- audio mode ------------------------------------------------------------------


@dataclass
class _Spoken:
    """A line placed in a synthesized call: where its speech really is."""

    speaker: str
    start: float
    end: float


@dataclass
class AudioRun:
    """One synthesized call after the real pipeline: which transcripts belong to which line."""

    # For each line, the transcribed utterances matched to it, in processing order.
    heard: list[list[Utterance]]
    recorder: "_Recorder"
    order: dict = field(default_factory=dict)  # utterance id -> processing index
    _found: Optional[dict] = field(default=None, repr=False)

    def text_of(self, index: int) -> str:
        return " ".join(u.text for u in self.heard[index])

    def objections_of(self, index: int) -> frozenset:
        if self._found is None:
            self._found = self.recorder.objections_by_utterance()
        return frozenset(c for u in self.heard[index] for c in self._found.get(u.id, ()))


def _align(spoken: list[_Spoken], utterances: list[Utterance]) -> list[list[Utterance]]:
    """Match each transcribed utterance to the line of the same speaker it overlaps most."""
    heard: list[list[Utterance]] = [[] for _ in spoken]
    for utterance in utterances:
        best, best_score = None, None
        for index, line in enumerate(spoken):
            if line.speaker != utterance.speaker and utterance.speaker in (SELLER, PROSPECT):
                continue
            overlap = min(line.end, utterance.end) - max(line.start, utterance.start)
            if overlap < -ALIGN_SLACK_SECONDS:
                continue
            if best_score is None or overlap > best_score:
                best, best_score = index, overlap
        if best is not None:
            heard[best].append(utterance)
    return heard


class AudioRunner:
    """Speaks scripts with espeak-ng and coaches them with the real pipeline and model."""

    def __init__(self, model: Optional[str] = None, progress: Optional[Callable[[str], None]] = None,
                 warnings: Optional[list] = None, transcriber=None):
        self.model = model
        self.progress = progress or (lambda message: None)
        self.warnings = _warn_to(warnings)
        self._transcriber = transcriber
        self.audio_seconds = 0.0
        self.processing_seconds = 0.0

    def transcriber(self, profile):
        if self._transcriber is None:
            from .coach import make_transcriber

            self._transcriber = make_transcriber(profile, self.model)
        return self._transcriber

    def run(self, script: list, plugins: dict) -> AudioRun:
        """Coach ``script`` (:class:`voicecoach.synth.ScriptLine` list) with ``plugins`` enabled."""
        from .coach import coach_recording
        from .synth import synthesize_call

        call = synthesize_call(script)
        profile = make_profile(plugins, name="eval")
        recorder = _Recorder()
        with tempfile.TemporaryDirectory(prefix="voicecoach-eval-") as folder:
            path = os.path.join(folder, "call.wav")
            call.write_stereo(path)
            summary = coach_recording(
                profile, input=path, transcriber=self.transcriber(profile), plugins=[recorder],
                warn=self.warnings.append,
            )
        self.audio_seconds += summary.duration
        self.processing_seconds += summary.processing_seconds
        spoken = [_Spoken(line.speaker, line.start, line.end) for line in call.lines]
        heard = _align(spoken, recorder.utterances)
        order = {u.id: index for index, u in enumerate(recorder.utterances)}
        return AudioRun(heard, recorder, order)


def evaluate_objections_audio(corpus: list[LabelledUtterance], runner: Optional[AudioRunner] = None) -> ObjectionScores:
    """The corpus spoken by the prospect's voice, through the pipeline, scored per utterance."""
    from .synth import ScriptLine

    runner = runner or AudioRunner()
    outcomes = []
    for first in range(0, len(corpus), AUDIO_BATCH):
        batch = corpus[first : first + AUDIO_BATCH]
        runner.progress(f"objections: utterances {first + 1}-{first + len(batch)} of {len(corpus)}")
        script = [ScriptLine(PROSPECT, item.text, pause_before=CORPUS_GAP_SECONDS) for item in batch]
        run = runner.run(script, {"objections": {}})
        for index, item in enumerate(batch):
            outcomes.append(
                Outcome(item.text, item.labels, run.objections_of(index), item.hard_negative, run.text_of(index), item.split)
            )
    return ObjectionScores(outcomes, mode="audio")


def evaluate_stages_audio(dialogues: list[Dialogue], runner: Optional[AudioRunner] = None) -> StageScores:
    """Each dialogue spoken by two voices, through the pipeline; every line scored."""
    from .synth import ScriptLine

    runner = runner or AudioRunner()
    outcomes, objection_outcomes = [], []
    for number, dialogue in enumerate(dialogues, start=1):
        runner.progress(f"stages: dialogue {number} of {len(dialogues)}: {dialogue.title}")
        script = [ScriptLine(line.speaker, line.text, pause_before=0.6) for line in dialogue.lines]
        run = runner.run(script, {"stages": {}, "objections": {}})
        stages = run.recorder.stage_after_each()
        latest = -1  # the last utterance processed for this line or any before it
        for index, line in enumerate(dialogue.lines):
            for utterance in run.heard[index]:
                latest = max(latest, run.order[utterance.id])
            stage = stages[latest] if latest >= 0 else None
            outcomes.append(
                StageOutcome(dialogue.title, line.speaker, line.text, line.stage, stage, run.text_of(index))
            )
            if line.objections is not None:
                objection_outcomes.append(
                    Outcome(line.text, line.objections, run.objections_of(index), heard=run.text_of(index))
                )
    return StageScores(outcomes, ObjectionScores(objection_outcomes, mode="audio"), mode="audio")


def word_error_rate(pairs: Iterable[tuple[str, str]]) -> float:
    """Word error rate of heard texts against said texts, on lowercase words without punctuation."""
    errors = words = 0
    for said, heard in pairs:
        reference, hypothesis = _plain_words(said), _plain_words(heard)
        errors += _edit_distance(reference, hypothesis)
        words += len(reference)
    return errors / words if words else 0.0


def _plain_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))


def _edit_distance(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


# ---- the command -----------------------------------------------------------------


def _table_objections(scores: ObjectionScores, title: str) -> list[str]:
    lines = [title, f"  {'category':<13}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"]
    for category in scores.categories:
        counts = scores.counts(category)
        lines.append(
            f"  {category:<13}{counts.precision:>10.2f}{counts.recall:>8.2f}{counts.f1:>7.2f}{counts.support:>9}"
        )
    micro = scores.micro
    lines.append(f"  {'all (micro)':<13}{micro.precision:>10.2f}{micro.recall:>8.2f}{micro.f1:>7.2f}{micro.support:>9}")
    lines.append(f"  macro F1 {scores.macro_f1:.2f}")
    if scores.hard_negatives:
        lines.append(
            f"  false prompts on hard negatives: {len(scores.false_prompts)}/{len(scores.hard_negatives)} "
            f"({100 * scores.false_prompt_rate:.1f}%)"
        )
    splits = [name for name in SPLITS if any(o.split == name for o in scores.outcomes)]
    if len(splits) > 1:
        for name in splits:
            part = scores.split(name)
            lines.append(
                f"  {name + ':':<9}micro F1 {part.micro.f1:.2f} (precision {part.micro.precision:.2f}, "
                f"recall {part.micro.recall:.2f}), macro F1 {part.macro_f1:.2f}, false prompts "
                f"{len(part.false_prompts)}/{len(part.hard_negatives)} ({100 * part.false_prompt_rate:.1f}%)"
            )
    return lines


def _mistakes_objections(scores: ObjectionScores) -> list[str]:
    lines = ["  mistakes (expected -> found):"]
    for outcome in scores.mistakes:
        expected = ",".join(sorted(outcome.expected)) or NONE
        found = ",".join(sorted(outcome.found)) or NONE
        heard = f"   [heard: {outcome.heard!r}]" if outcome.heard is not None else ""
        lines.append(f"    {expected:>12} -> {found:<18} {outcome.text!r}{heard}")
    return lines


def _table_stages(scores: StageScores, title: str) -> list[str]:
    dialogues = len(scores.accuracy_by_dialogue())
    lines = [
        title,
        f"  per-utterance stage accuracy: {scores.accuracy:.2f} "
        f"({sum(o.expected == o.found for o in scores.outcomes)}/{len(scores.outcomes)} lines, {dialogues} dialogues)",
    ]
    by_stage = ", ".join(f"{stage} {value:.2f} ({n})" for stage, (value, n) in scores.accuracy_by_stage().items())
    lines.append(f"  by labelled stage: {by_stage}")
    if scores.objections.outcomes:
        micro = scores.objections.micro
        lines.append(
            f"  objections on its {len(scores.objections.outcomes)} labelled prospect lines: "
            f"precision {micro.precision:.2f}, recall {micro.recall:.2f}, F1 {micro.f1:.2f}"
        )
    return lines


def _mistakes_stages(scores: StageScores) -> list[str]:
    lines = ["  mistakes (expected -> found):"]
    for outcome in scores.outcomes:
        if outcome.expected != outcome.found:
            heard = f"   [heard: {outcome.heard!r}]" if outcome.heard is not None else ""
            lines.append(
                f"    {outcome.expected:>18} -> {str(outcome.found):<18} {outcome.speaker}: {outcome.text!r}{heard}"
            )
    return lines


@click.command(name="eval")
@click.option("--audio", is_flag=True, help="Also speak everything with espeak-ng and run it through the speech model (minutes).")
@click.option("--corpus", "corpus_path", type=click.Path(dir_okay=False), help="Labelled objections (default: tests/corpus/objections.yaml).")
@click.option("--dialogues", "dialogues_path", type=click.Path(file_okay=False), help="Folder of labelled dialogues (default: tests/corpus/dialogues).")
@click.option("--split", type=click.Choice(SPLITS + ("all",)), default="all", show_default=True, help="Which part of the objection corpus to score.")
@click.option("--only", type=click.Choice(["objections", "stages"]), help="Score only one coach.")
@click.option("--mistakes", is_flag=True, help="List every utterance scored wrong.")
@click.option("--model", help="faster-whisper model folder or installed name for --audio (default: embedded tiny.en).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="An objections plugin setting for the text scores, e.g. meaning_threshold=0.95 or by_meaning=false.")
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def eval_command(audio, corpus_path, dialogues_path, split, only, mistakes, model, settings, as_json):
    """Measure the objection and stage coaches on the labelled corpus.

    Prints precision, recall and F1 per objection category, the share of hard
    negatives that drew a prompt, and per-utterance stage accuracy; with --audio,
    the same figures again through synthesized speech and the speech model.
    """
    try:
        corpus = [] if only == "stages" else load_corpus(corpus_path, None if split == "all" else split)
        dialogues = [] if only == "objections" else load_dialogues(dialogues_path)
    except CorpusError as error:
        raise click.ClickException(str(error))
    if only == "stages" and not dialogues:
        raise click.ClickException(f"no dialogues in {dialogues_path or repository_corpus_folder() / 'dialogues'}")

    objection_settings = {}
    for setting in settings:
        key, separator, value = setting.partition("=")
        if not separator or not key.strip():
            raise click.BadParameter(f"{setting!r} is not KEY=VALUE", param_hint="--set")
        objection_settings[key.strip()] = yaml.safe_load(value)
    warnings: list[str] = []
    results: dict = {}
    out: list[str] = []
    if corpus:
        text = evaluate_objections(corpus, warnings=warnings, settings=objection_settings)
        timing = time_matcher(item.text for item in corpus)
        results["objections_text"] = {**text.to_dict(), "matcher": {k: round(v, 3) for k, v in timing.items()}}
        out += _table_objections(text, f"Objections, text: {len(corpus)} utterances ({split})")
        if timing:
            out.append(
                f"  time per utterance, triggers and model: mean {timing['mean_ms']:.2f} ms, p95 {timing['p95_ms']:.2f} ms, "
                f"max {timing['max_ms']:.2f} ms"
            )
        out += _mistakes_objections(text) if mistakes else []
        out.append("")
    if dialogues:
        stages = evaluate_stages(dialogues, warnings=warnings)
        results["stages_text"] = stages.to_dict()
        out += _table_stages(stages, "Stages, text")
        out += _mistakes_stages(stages) if mistakes else []
        out.append("")
    if audio:
        progress = (lambda message: click.echo(f"  ... {message}", err=True))
        runner = AudioRunner(model=model, progress=progress, warnings=warnings)
        if not as_json:
            click.echo("\n".join(out))
            out = []
        if corpus:
            spoken = evaluate_objections_audio(corpus, runner)
            wer = word_error_rate((o.text, o.heard or "") for o in spoken.outcomes)
            results["objections_audio"] = {**spoken.to_dict(), "word_error_rate": round(wer, 3)}
            out += _table_objections(
                spoken, f"Objections, audio (espeak-ng -> VAD -> speech model): {len(corpus)} utterances ({split})"
            )
            out.append(f"  speech recognition word error rate: {100 * wer:.1f}%")
            out += _mistakes_objections(spoken) if mistakes else []
            out.append("")
        if dialogues:
            spoken_stages = evaluate_stages_audio(dialogues, runner)
            wer = word_error_rate((o.text, o.heard or "") for o in spoken_stages.outcomes)
            results["stages_audio"] = {**spoken_stages.to_dict(), "word_error_rate": round(wer, 3)}
            out += _table_stages(spoken_stages, "Stages, audio (espeak-ng -> VAD -> speech model)")
            out.append(f"  speech recognition word error rate: {100 * wer:.1f}%")
            out += _mistakes_stages(spoken_stages) if mistakes else []
            out.append("")
        if runner.processing_seconds:
            out.append(
                f"Audio: {runner.audio_seconds / 60:.1f} min of speech processed in "
                f"{runner.processing_seconds / 60:.1f} min."
            )
    for warning in dict.fromkeys(warnings):
        click.echo(f"voicecoach: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        click.echo("\n".join(out).rstrip())
