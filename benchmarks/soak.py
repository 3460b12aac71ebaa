"""Soak: a two-hour call, synthesized and replayed faster than real time, must leave
memory flat, queues short and the coach as quick at the end as at the start.

    python benchmarks/soak.py                 # two hours of call; 15-30 minutes on a laptop
    python benchmarks/soak.py --minutes 4     # the shortened form CI runs (tests/test_soak.py)

The call is the demo dialogue said over and over, each round with its pauses varied
and its own faint line noise, written to a temporary FLAC file (WAV without sox) one
round at a time, so two hours never sit in memory. It is coached by the recorded-call
path (``coach_recording``, a fast replay) with the plugins of the zoom profile that
need no desktop (objections, stages, talk ratio, sentiment) and the SQLite log. A
probe plugin samples, every ten seconds of call, the process's resident memory
(VmRSS) and the length of the pipeline's three queues, and times every utterance.

Criteria, each printed with its figures and PASS or FAIL:

* memory: resident memory grows less than 50 MB after the warm-up (the first five
  minutes of call): the highest point in the last ten minutes against the highest in
  the ten minutes after the warm-up (memory swings by tens of megabytes with the
  length of the utterance being decoded); the trend is printed too;
* queues: the unbounded event queue is no longer in the last ten minutes than in
  the first (the audio and utterance queues are bounded by construction and are
  full most of a fast replay: that is the replay reading ahead, not growth);
* latency: p95 over the last ten minutes within 10 % of the first ten. A fast
  replay keeps its bounded queues full on purpose, so the time from the end of the
  words counts the replay's own read-ahead; the latency judged is the coach's work
  on each utterance, from the start of its transcription until every plugin has
  seen it. The end-of-words figures and the prompts' are printed too.

Shorter runs compare the first and last quarter (at most ten minutes each) and warm
up for a fifth (at most five minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from voicecoach import hookimpl  # noqa: E402
from voicecoach.coach import coach_recording  # noqa: E402
from voicecoach.demo import demo_script_path  # noqa: E402
from voicecoach.keys import CallControls  # noqa: E402
from voicecoach.synth import SAMPLE_RATE, ScriptLine, load_script, synthesize_call  # noqa: E402
from voicecoach.testing import make_profile  # noqa: E402

PLUGINS = ["objections", "stages", "talk_ratio", "sentiment", "sqlite_log"]
ARBITRATION = {"min_interval": 4, "cooldown": 30}  # the zoom profile's pacing
SAMPLE_EVERY = 10.0  # seconds of call between samples
MEMORY_LIMIT_MB = 50.0
LATENCY_TOLERANCE = 0.10
# The event queue is unbounded: a few hundred items is a second of dispatch work.
EVENT_QUEUE_SLACK = 50


def vm_rss_mb() -> float:
    """This process's resident memory, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def queue_sizes(pipeline) -> dict:
    """The pipeline's queues, read from its private attributes (it has no public accessor)."""
    return {
        "audio": pipeline._audio_queue.qsize(),
        "segments": pipeline._segment_queue.qsize(),
        "events": pipeline._events.qsize(),
    }


def queue_bounds(pipeline) -> dict:
    return {"audio": pipeline._audio_queue.maxsize, "segments": pipeline._segment_queue.maxsize, "events": 0}


# -- the call ------------------------------------------------------------------------------------


def write_long_call(path: str, minutes: float, seed: int = 0, log=print) -> tuple[float, int]:
    """Write ``minutes`` of call to ``path`` round by round; return (seconds, rounds)."""
    _meta, lines = load_script(demo_script_path())
    rng = random.Random(seed)
    target = minutes * 60 * SAMPLE_RATE
    written = rounds = 0
    writer = _StreamWriter(path)
    try:
        while written < target:
            varied = [ScriptLine(line.speaker, line.text, overlap=line.overlap,
                                 pause_before=max(0.2, line.pause_before + rng.uniform(-0.3, 0.6)))
                      for line in lines]
            call = synthesize_call(varied, seed=rng.randrange(1 << 30), noise=0.0005, tail=rng.uniform(1.0, 4.0))
            frames = np.stack([call.seller, call.prospect], axis=1)[: int(target - written)]
            writer.write(frames)
            written += len(frames)
            rounds += 1
            if rounds == 1:
                log(f"one round of the demo dialogue: {call.duration:.0f} s, {len(lines)} lines")
    finally:
        writer.close()
    return written / SAMPLE_RATE, rounds


class _StreamWriter:
    """16-bit stereo audio appended block by block: FLAC through sox, else WAV."""

    def __init__(self, path: str):
        self.sox = None
        if path.endswith(".flac"):
            command = ["sox", "-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed", "-b", "16", "-c", "2", "-", path]
            self.sox = subprocess.Popen(command, stdin=subprocess.PIPE)
        else:
            self.wav = wave.open(path, "wb")
            self.wav.setnchannels(2)
            self.wav.setsampwidth(2)
            self.wav.setframerate(SAMPLE_RATE)

    def write(self, frames: np.ndarray) -> None:
        pcm = np.round(np.clip(frames, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        if self.sox is not None:
            self.sox.stdin.write(pcm)
        else:
            self.wav.writeframes(pcm)

    def close(self) -> None:
        if self.sox is not None:
            self.sox.stdin.close()
            if self.sox.wait() != 0:
                raise RuntimeError("sox could not write the call")
        else:
            self.wav.close()


# -- the probe -------------------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # seconds of call
    wall: float  # seconds since the replay started
    rss_mb: float
    queues: dict


class Probe:
    """Samples memory and queues on the call's clock; times each utterance and prompt."""

    def __init__(self, controls: CallControls):
        self.controls = controls
        self.samples: list[Sample] = []
        self.utterances: list[tuple[float, float, float]] = []  # (call time, work s, since end of words s)
        self.prompts: list[tuple[float, float]] = []  # (call time, end of words -> delivered s)
        self.started = time.monotonic()
        self._next = 0.0

    @hookimpl
    def session_started(self, session):
        self.started = time.monotonic()

    @hookimpl
    def clock_tick(self, session, now):
        if now >= self._next and self.controls.pipeline is not None:
            self._next = now + SAMPLE_EVERY
            self.samples.append(Sample(now, time.monotonic() - self.started, vm_rss_mb(),
                                       queue_sizes(self.controls.pipeline)))

    @hookimpl(trylast=True)  # after every other plugin has had the words
    def transcript(self, session, utterance):
        timing = utterance.timing
        if utterance.partial or not timing.transcription_started_at:
            return
        done = time.monotonic()
        self.utterances.append((utterance.end, done - timing.transcription_started_at, done - timing.speech_ended_at))

    @hookimpl
    def prompt_delivered(self, session, prompt):
        if prompt.latency is not None:
            self.prompts.append((session.now, prompt.latency.total))


# -- judging -----------------------------------------------------------------------------------------


@dataclass
class Criterion:
    name: str
    passed: bool
    figures: str


@dataclass
class SoakResult:
    minutes: float
    rounds: int
    processing_seconds: float
    utterances: int
    prompts: int
    criteria: list[Criterion] = field(default_factory=list)
    samples: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(criterion.passed for criterion in self.criteria)

    def report(self) -> str:
        lines = [f"soak: {self.minutes:.1f} min of call ({self.rounds} rounds of the demo dialogue), fast replay, "
                 f"plugins {', '.join(PLUGINS)}",
                 f"processed in {self.processing_seconds / 60:.1f} min "
                 f"({self.minutes * 60 / max(self.processing_seconds, 1e-9):.1f}x real time), "
                 f"{self.utterances} utterances, {self.prompts} prompts"]
        width = max(len(criterion.name) for criterion in self.criteria)
        for criterion in self.criteria:
            lines.append(f"{criterion.name:<{width}}  {'PASS' if criterion.passed else 'FAIL'}  {criterion.figures}")
        lines.extend(f"  {note}" for note in self.notes)
        lines.append(f"RESULT: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)


def p95(values) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(0.95 * len(values)))] if values else float("nan")


def judge(probe: Probe, bounds: dict, minutes: float, memory_limit_mb: float, latency_tolerance: float,
          warmup_minutes: Optional[float] = None, window_minutes: Optional[float] = None) -> tuple:
    seconds = minutes * 60
    warmup = 60 * (warmup_minutes if warmup_minutes is not None else min(5.0, minutes / 5))
    window = 60 * (window_minutes if window_minutes is not None else min(10.0, minutes / 4))
    first, last = (0.0, window), (seconds - window, seconds)
    inside = lambda at, span: span[0] <= at < span[1]  # noqa: E731
    criteria, notes = [], []

    # Memory comes and goes by tens of megabytes as utterances of different lengths
    # are decoded, so growth is the highest point of the last window over the highest
    # point of the first window after the warm-up; the trend is printed too.
    settled = [sample for sample in probe.samples if inside(sample.at, (warmup, warmup + window))]
    final = [sample for sample in probe.samples if inside(sample.at, last)]
    if settled and final:
        before, after = max(s.rss_mb for s in settled), max(s.rss_mb for s in final)
        growth = after - before
        criteria.append(Criterion(
            "memory", growth < memory_limit_mb,
            f"peak {before:.0f} MB in the {window / 60:.0f} min after a {warmup / 60:.1f} min warm-up, "
            f"{after:.0f} MB in the last {window / 60:.0f} min: growth {growth:+.1f} MB (limit {memory_limit_mb:.0f})"))
        trend = [sample for sample in probe.samples if sample.at >= warmup]
        if len(trend) > 2:
            hours = np.array([sample.at for sample in trend]) / 3600
            slope = np.polyfit(hours, np.array([sample.rss_mb for sample in trend]), 1)[0]
            notes.append(f"memory trend after the warm-up: {slope:+.1f} MB an hour "
                         f"({slope * (hours[-1] - hours[0]):+.1f} MB over the call); "
                         f"lowest {min(s.rss_mb for s in trend):.0f} MB, highest {max(s.rss_mb for s in trend):.0f} MB")
    else:
        criteria.append(Criterion("memory", False, "no samples after the warm-up"))

    def queue_stat(name, span, pick=max):
        values = [sample.queues[name] for sample in probe.samples if inside(sample.at, span)]
        return pick(values) if values else 0

    events_first, events_last = queue_stat("events", first), queue_stat("events", last)
    figures = ", ".join(
        f"{name} {queue_stat(name, first)}/{queue_stat(name, last)}" + (f" (bounded {bound})" if bound else "")
        for name, bound in bounds.items())
    criteria.append(Criterion("queues", events_last <= events_first + EVENT_QUEUE_SLACK,
                              f"longest in the first/last {window / 60:.0f} min: {figures}"))

    work_first = [work for at, work, _ in probe.utterances if inside(at, first)]
    work_last = [work for at, work, _ in probe.utterances if inside(at, last)]
    if work_first and work_last:
        before, after_p95 = p95(work_first), p95(work_last)
        change = after_p95 / before - 1 if before else 0.0
        criteria.append(Criterion(
            "latency", change <= latency_tolerance,
            f"p95 transcription start -> every plugin done, first/last {window / 60:.0f} min: "
            f"{before:.2f} s / {after_p95:.2f} s ({change:+.0%}, limit {latency_tolerance:+.0%}; "
            f"{len(work_first)}/{len(work_last)} utterances)"))
        ends_first = [since for at, _, since in probe.utterances if inside(at, first)]
        ends_last = [since for at, _, since in probe.utterances if inside(at, last)]
        notes.append(f"end of words -> every plugin done (counts the replay's read-ahead), p95 first/last: "
                     f"{p95(ends_first):.2f} s / {p95(ends_last):.2f} s")
        prompts_first = [latency for at, latency in probe.prompts if inside(at, first)]
        prompts_last = [latency for at, latency in probe.prompts if inside(at, last)]
        if prompts_first and prompts_last:
            notes.append(f"end of words -> prompt delivered, p95 first/last: {p95(prompts_first):.2f} s / "
                         f"{p95(prompts_last):.2f} s ({len(prompts_first)}/{len(prompts_last)} prompts)")
    else:
        criteria.append(Criterion("latency", False, "too few utterances in the first or last window"))
    return criteria, notes


def soak(minutes: float, transcriber=None, memory_limit_mb: float = MEMORY_LIMIT_MB,
         latency_tolerance: float = LATENCY_TOLERANCE, keep: Optional[str] = None, log=print,
         warmup_minutes: Optional[float] = None, window_minutes: Optional[float] = None) -> SoakResult:
    """Synthesize ``minutes`` of call, coach it, and judge the run."""
    folder = tempfile.mkdtemp(prefix="voicecoach-soak-")
    try:
        path = os.path.join(folder, "call.flac" if shutil.which("sox") else "call.wav")
        started = time.monotonic()
        seconds, rounds = write_long_call(path, minutes, log=log)
        log(f"wrote {seconds / 60:.1f} min of call to {os.path.basename(path)} "
            f"({os.path.getsize(path) / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s")
        if transcriber is None:
            from voicecoach.default_plugins.faster_whisper_transcriber import FasterWhisperTranscriber

            transcriber = FasterWhisperTranscriber()
        controls = CallControls()
        probe = Probe(controls)
        profile = make_profile(PLUGINS, arbitration=ARBITRATION, name="soak")
        warnings: list[str] = []
        log("coaching it as fast as the machine allows...")
        started = time.monotonic()
        summary = coach_recording(profile, input=path, transcriber=transcriber, plugins=[probe],
                                  db_path=os.path.join(folder, "log.db"), controls=controls, warn=warnings.append)
        took = time.monotonic() - started
        criteria, notes = judge(probe, queue_bounds(controls.pipeline), seconds / 60, memory_limit_mb,
                                latency_tolerance, warmup_minutes, window_minutes)
        notes.extend(f"warning: {warning}" for warning in warnings)
        result = SoakResult(seconds / 60, rounds, took, summary.utterances, len(summary.prompts), criteria,
                            [sample.__dict__ for sample in probe.samples], notes)
        if keep:
            with open(keep, "w", encoding="utf-8") as handle:
                json.dump({"samples": result.samples, "utterances": probe.utterances, "prompts": probe.prompts},
                          handle)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=120.0, help="length of the call (default 120)")
    parser.add_argument("--memory-limit-mb", type=float, default=MEMORY_LIMIT_MB)
    parser.add_argument("--latency-tolerance", type=float, default=LATENCY_TOLERANCE,
                        help="allowed rise of the p95 latency, last window over first (default 0.10)")
    parser.add_argument("--json", dest="keep", help="also save every sample and timing to this file")
    args = parser.parse_args(argv)
    result = soak(args.minutes, memory_limit_mb=args.memory_limit_mb, latency_tolerance=args.latency_tolerance,
                  keep=args.keep)
    print(result.report())
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
