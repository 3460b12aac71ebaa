"""`voicecoach analyze`: coach an archive of recorded calls, on this machine or a Dask cluster.

    voicecoach analyze calls/ more/call-17.flac
    voicecoach analyze calls/ --cluster tcp://scheduler:8786
    voicecoach analyze calls/ --to postgresql://coach@db/team --seller archive

Every call goes down the same pipeline as ``voicecoach run --input``: the
profile's transcriber and coaching plugins, with the sinks that show things to
a person (the terminal view, desktop notifications) left out. A call is a file
(stereo: seller left, prospect right; mono: one mixed channel), or two files
named ``NAME.seller.EXT`` and ``NAME.prospect.EXT`` side by side.

Each worker loads the speech model once and keeps it for every call it is
given (a cached global, so the same code serves the local pool and Dask). A
worker logs a call into a private scratch database and hands back its rows;
this process writes them into the one log in a single transaction, with the
recording's SHA-256, so a call is in the log whole or not at all, and a second
run skips every recording already analysed, whatever its file is called now.
With ``--to`` the rows go straight to the team's PostgreSQL database instead
(redacted, as ``voicecoach sync`` sends them), and the skip check asks it.

Failures at scale: a file that cannot be decoded or holds no speech is reported
in the summary and the run goes on; a worker process that dies takes its calls
with it, and they are tried again on a fresh worker (up to MAX_ATTEMPTS times);
Dask reschedules the calls of a lost worker itself; a team database that goes
away is reconnected to (voicecoach.sync.TeamDatabase).
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import click

# Files a folder is searched for (named files are taken whatever they end with).
AUDIO_EXTENSIONS = {
    ".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma", ".webm", ".mp4", ".aif", ".aiff",
}
# NAME.seller.EXT + NAME.prospect.EXT: one call recorded as two files.
PAIR = re.compile(r"^(?P<name>.+)\.(?P<side>seller|prospect)$", re.IGNORECASE)
# Sinks for a person watching a live call: nobody watches an archive being analysed.
INTERACTIVE_SINKS = ("terminal", "notifier")
# A call whose worker died is tried this many times in all before it is reported.
MAX_ATTEMPTS = 3
# Memory one worker needs (model, VAD, buffers), to size the local pool.
WORKER_MEMORY_BYTES = 600 * 1024 * 1024


class AnalyzeError(Exception):
    """The run cannot start; the message says what to do."""


@dataclass
class CallJob:
    """One recorded call: a file, or a seller file and a prospect file."""

    name: str
    input: Optional[str] = None
    seller: Optional[str] = None
    prospect: Optional[str] = None
    sha256: str = ""
    audio_seconds: float = 0.0
    attempts: int = 0

    @property
    def paths(self) -> list[str]:
        return [p for p in (self.input, self.seller, self.prospect) if p]


@dataclass
class CallResult:
    job: CallJob
    rows: Optional[dict] = None  # the session's rows, table by table (voicecoach.sync.read_session)
    error: Optional[str] = None
    session_id: Optional[str] = None
    audio_seconds: float = 0.0
    utterances: int = 0
    prompts: int = 0
    seconds: float = 0.0  # wall-clock seconds the worker spent on it
    worker: str = ""  # host:pid
    model_loads: int = 0  # how many times that worker process has loaded a model


@dataclass
class AnalyzeSummary:
    calls: int = 0  # found
    analysed: list = field(default_factory=list)  # CallResult
    skipped: list = field(default_factory=list)  # CallJob, already analysed
    failed: list = field(default_factory=list)  # CallResult with error
    problems: list = field(default_factory=list)  # (path, why) found while gathering the calls
    duplicates: list = field(default_factory=list)  # (path, the file with the same recording)
    wall_seconds: float = 0.0
    workers: int = 0
    where: str = ""
    destination: str = ""

    @property
    def audio_seconds(self) -> float:
        return sum(r.audio_seconds for r in self.analysed)

    def to_dict(self) -> dict:
        minutes = self.wall_seconds / 60 if self.wall_seconds else 0
        return {
            "calls": self.calls,
            "analysed": [
                {"call": r.job.name, "session_id": r.session_id, "audio_seconds": round(r.audio_seconds, 2),
                 "utterances": r.utterances, "prompts": r.prompts, "seconds": round(r.seconds, 2), "worker": r.worker,
                 "model_loads": r.model_loads}
                for r in self.analysed
            ],
            "skipped": [job.name for job in self.skipped],
            "duplicates": [{"call": name, "same_as": other} for name, other in self.duplicates],
            "failed": [{"call": r.job.name, "error": r.error} for r in self.failed]
            + [{"call": path, "error": why} for path, why in self.problems],
            "wall_seconds": round(self.wall_seconds, 2),
            "audio_seconds": round(self.audio_seconds, 2),
            "calls_per_minute": round(len(self.analysed) / minutes, 2) if minutes else None,
            "audio_hours_per_hour": round(self.audio_seconds / self.wall_seconds, 2) if self.wall_seconds else None,
            "workers": self.workers,
            "where": self.where,
            "destination": self.destination,
        }


# -- finding the calls -------------------------------------------------------------


def find_calls(paths: Iterable[str]) -> tuple[list[CallJob], list[tuple[str, str]]]:
    """The calls under ``paths`` (files and folders, searched recursively), and what could not be used."""
    files, problems = [], []
    for path in paths:
        if os.path.isdir(path):
            for folder, subfolders, names in os.walk(path):
                subfolders.sort()
                for name in sorted(names):
                    if os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS and not name.startswith("."):
                        files.append(os.path.join(folder, name))
        elif os.path.isfile(path):
            files.append(path)
        else:
            problems.append((path, "no such file or folder"))
    halves: dict = {}
    jobs, seen = [], set()
    for path in files:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        stem, _ = os.path.splitext(os.path.basename(path))
        match = PAIR.match(stem)
        if match:
            key = (os.path.dirname(real), match.group("name"))
            halves.setdefault(key, {})[match.group("side").lower()] = path
        else:
            jobs.append(CallJob(name=path, input=path))
    for (folder, name), sides in halves.items():
        if "seller" in sides and "prospect" in sides:
            display = os.path.join(os.path.dirname(sides["seller"]), name)
            jobs.append(CallJob(name=display, seller=sides["seller"], prospect=sides["prospect"]))
        else:
            have, missing = ("seller", "prospect") if "seller" in sides else ("prospect", "seller")
            problems.append((sides[have], f"a {have} recording without its {name}.{missing}.* beside it"))
    jobs.sort(key=lambda job: job.name)
    return jobs, problems


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def call_sha256(job: CallJob) -> str:
    """The recording's identity: its bytes (for two files, both, in their roles)."""
    if job.input:
        return file_sha256(job.input)
    both = f"seller:{file_sha256(job.seller)}\nprospect:{file_sha256(job.prospect)}\n"
    return hashlib.sha256(both.encode()).hexdigest()


def audio_seconds(path: str) -> float:
    """The recording's length from its header (0 when unknown): it weighs the time-left estimate."""
    try:
        import av

        with av.open(path) as container:
            if container.duration:
                return container.duration / 1_000_000
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    except Exception:
        pass
    return 0.0


# -- the worker side -----------------------------------------------------------------

_engines: dict = {}
_engine_lock = threading.Lock()
# One call at a time per process: the plugin manager is the process's own, and
# the model is already as busy as its threads allow.
_call_lock = threading.Lock()
_model_loads = 0


def _engine(profile, model: Optional[str]):
    """The speech engine for this process, loaded on first use and kept for every later call."""
    global _model_loads
    from .plugins import get_transcribers

    key = (profile.transcriber, model or profile.model, tuple(sorted(profile.decoding.items())))
    with _engine_lock:
        if key not in _engines:
            # The engine's own thread count: one per decode is the fastest even with cores to spare.
            factory = get_transcribers()[profile.transcriber]
            _engines[key] = factory(model=model or profile.model, **profile.decoding)
            _model_loads += 1
        return _engines[key]


def analysis_profile(profile):
    """``profile`` for an archive: its coaches and the log, none of the sinks a person watches."""
    plugins = {name: settings for name, settings in profile.plugins.items() if name not in INTERACTIVE_SINKS}
    plugins.setdefault("sqlite_log", {})
    return dataclasses.replace(profile, plugins=plugins)


def analyze_call(job: CallJob, profile, model: Optional[str] = None, audio: Optional[dict] = None) -> CallResult:
    """Coach one call and return its rows. Runs in a worker (a pool process or a Dask worker).

    ``audio`` maps each of the job's paths to its bytes when the worker cannot
    read the caller's files (a cluster without shared storage).
    """
    from .coach import coach_recording
    from .log import open_log
    from .sync import read_session

    worker = f"{socket.gethostname()}:{os.getpid()}"
    started = time.monotonic()
    with _call_lock:
        folder = tempfile.mkdtemp(prefix="voicecoach-analyze-")
        try:
            local = _materialise(job, audio, folder)
            warnings: list[str] = []
            try:
                transcriber = _engine(profile, model)
                summary = coach_recording(
                    profile, input=local.get(job.input), seller=local.get(job.seller),
                    prospect=local.get(job.prospect), transcriber=transcriber,
                    db_path=os.path.join(folder, "call.db"), warn=warnings.append,
                )
            except Exception as error:
                message = _one_line(error)
                for path, copy in local.items():
                    message = message.replace(copy, path)
                if job.input and message.startswith(job.input + " "):  # the summary names the file already
                    message = message[len(job.input) + 1:]
                return CallResult(job=job, error=message, seconds=time.monotonic() - started,
                                  worker=worker, model_loads=_model_loads)
            db = open_log(os.path.join(folder, "call.db"))
            try:
                rows = read_session(db, summary.session_id)
            finally:
                db.close()
            session = rows["sessions"][0]
            for path, copy in local.items():  # the log names the caller's files, not the scratch copies
                session["source"] = (session.get("source") or "").replace(copy, path)
            session["source_sha256"] = job.sha256
            return CallResult(
                job=job, rows=rows, session_id=summary.session_id, audio_seconds=summary.duration,
                utterances=summary.utterances, prompts=len(summary.prompts),
                seconds=time.monotonic() - started, worker=worker, model_loads=_model_loads,
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _materialise(job: CallJob, audio: Optional[dict], folder: str) -> dict:
    """Each of the job's paths -> where this worker reads it (a scratch copy of shipped bytes)."""
    local = {}
    for index, path in enumerate(job.paths):
        if audio is None:
            local[path] = path
            continue
        copy = os.path.join(folder, f"{index}-{os.path.basename(path)}")
        with open(copy, "wb") as handle:
            handle.write(audio[path])
        local[path] = copy
    return local


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else ""
    return line if line else type(error).__name__


# -- where results go ---------------------------------------------------------------


class LocalLog:
    """The one SQLite log: every call's rows in one transaction, keyed by the recording's hash."""

    def __init__(self, db_path: Optional[str]):
        from .log import open_log

        self.db = open_log(db_path)
        self.path = db_path

    def describe(self) -> str:
        from .paths import default_database_path

        return self.path or default_database_path()

    def known(self, hashes: list[str]) -> set[str]:
        found = set()
        for start in range(0, len(hashes), 500):
            batch = hashes[start:start + 500]
            marks = ", ".join("?" * len(batch))
            found.update(
                row["source_sha256"]
                for row in self.db.query(f"select source_sha256 from sessions where source_sha256 in ({marks})", batch)
            )
        return found

    def store(self, rows: dict) -> None:
        conn = self.db.conn
        with conn:  # one transaction: the call is in the log whole, or not at all
            for table, table_rows in rows.items():
                if not table_rows:
                    continue
                columns = list(table_rows[0])
                names = ", ".join(f"[{c}]" for c in columns)
                marks = ", ".join("?" * len(columns))
                conn.executemany(
                    f"insert into [{table}] ({names}) values ({marks})",
                    [[row.get(c) for c in columns] for row in table_rows],
                )

    def close(self):
        self.db.close()


class TeamDestination:
    """Straight to the team's PostgreSQL database, redacted, as `voicecoach sync` sends calls."""

    def __init__(self, conninfo: str, seller: str, warn=None):
        from .sync import TeamDatabase, without_password

        self.team = TeamDatabase(conninfo, warn=warn)
        self.seller = seller
        self.target = without_password(conninfo)

    def describe(self) -> str:
        return f"{self.target} as {self.seller!r}"

    def known(self, hashes: list[str]) -> set[str]:
        def query(conn):
            rows = conn.execute(
                "select source_sha256 from sessions where source_sha256 = any(%s)", [hashes]
            ).fetchall()
            return {row[0] for row in rows}

        import psycopg

        from .sync import SyncError

        try:
            return self.team.run(query)
        except psycopg.Error as error:
            raise SyncError(f"cannot read {self.target}: {_one_line(error)}") from None

    def store(self, rows: dict) -> None:
        from .sync import push_session, redacted

        clean = redacted(rows)
        self.team.run(lambda conn: push_session(conn, clean, self.seller))

    def close(self):
        self.team.close()


# -- running the calls --------------------------------------------------------------


def default_workers() -> int:
    """As many workers as cores, fewer if memory is short."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    available = _available_memory()
    if available:
        cores = min(cores, max(1, available // WORKER_MEMORY_BYTES))
    return max(1, cores)


def _available_memory() -> Optional[int]:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_local(jobs: list[CallJob], profile, model, workers: int, on_result: Callable[[CallResult], None]) -> None:
    """The calls on a pool of ``workers`` processes on this machine; a pool that loses a worker is rebuilt."""
    queue = list(jobs)
    # spawn: a fresh interpreter per worker, never a fork of a process holding threads and a model.
    context = multiprocessing.get_context("spawn")
    while queue:
        lost = []
        with ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=context) as pool:
            running = {pool.submit(analyze_call, job, profile, model): job for job in queue}
            queue = []
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        lost.append(job)
                        continue
                    except Exception as error:
                        result = CallResult(job=job, error=_one_line(error))
                    on_result(result)
        for job in lost:
            job.attempts += 1
            if job.attempts >= MAX_ATTEMPTS:
                on_result(CallResult(job=job, error=f"its worker process died {job.attempts} times"))
            else:
                queue.append(job)


def run_dask(jobs: list[CallJob], profile, model, address: str, on_result: Callable[[CallResult], None]) -> int:
    """The calls on an existing Dask cluster; returns its worker count.

    The recordings travel with the tasks, so the workers need no access to this
    machine's files; at most two calls per worker thread are in flight, so an
    archive never sits in memory whole.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise AnalyzeError("--cluster needs Dask: pip install 'dask[distributed]'") from None
    try:
        client = Client(address, timeout="20s")
    except Exception as error:
        raise AnalyzeError(f"cannot reach the Dask scheduler at {address}: {_one_line(error)}") from None
    try:
        workers = client.nthreads()
        if not workers:
            raise AnalyzeError(f"the Dask cluster at {address} has no workers")
        window = 2 * sum(workers.values())
        queue = list(jobs)

        def submit(job):
            # The recording goes straight to a worker, not through the task graph.
            [audio] = client.scatter([{path: _read(path) for path in job.paths}], hash=False)
            # pure=False: the same recording analysed twice is two runs. A worker lost
            # mid-call: the scheduler reruns its task elsewhere.
            future = client.submit(analyze_call, job, profile, model, audio, pure=False)
            futures[future.key] = (job, audio)
            pending.add(future)

        futures = {}
        pending = as_completed()
        while queue and len(futures) < window:
            submit(queue.pop(0))
        for future in pending:
            job, audio = futures.pop(future.key)
            try:
                result = future.result()
            except Exception as error:  # KilledWorker, a worker without voicecoach, ...
                result = CallResult(job=job, error=f"on the cluster: {_one_line(error)}")
            future.release()
            audio.release()
            on_result(result)
            if queue:
                submit(queue.pop(0))
        return len(workers)
    finally:
        client.close()


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def analyze(
    paths: Iterable[str],
    profile,
    *,
    model: Optional[str] = None,
    workers: Optional[int] = None,
    cluster: Optional[str] = None,
    destination=None,
    progress=None,
) -> AnalyzeSummary:
    """Analyse every call under ``paths`` not analysed yet; ``destination`` is a LocalLog or TeamDestination."""
    started = time.monotonic()
    summary = AnalyzeSummary(destination=destination.describe())
    jobs, summary.problems = find_calls(paths)
    summary.calls = len(jobs) + len(summary.problems)
    todo, seen = [], {}
    for job in jobs:
        try:
            job.sha256 = call_sha256(job)
        except OSError as error:
            summary.problems.append((job.name, f"cannot be read ({error.strerror})"))
            continue
        if job.sha256 in seen:
            summary.duplicates.append((job.name, seen[job.sha256]))
            continue
        seen[job.sha256] = job.name
        todo.append(job)
    known = destination.known([job.sha256 for job in todo]) if todo else set()
    summary.skipped = [job for job in todo if job.sha256 in known]
    todo = [job for job in todo if job.sha256 not in known]
    for job in todo:
        job.audio_seconds = sum(audio_seconds(path) for path in ([job.input] if job.input else [job.seller]))
    if progress is not None:
        progress.start(todo, summary)

    def on_result(result: CallResult):
        if result.error is None:
            try:
                destination.store(result.rows)
            except Exception as error:  # the log or the team database refused it: reported, the run goes on
                result.error = f"analysed, but could not be stored: {_one_line(error)}"
        result.rows = None  # done with them: an archive's rows never pile up here
        (summary.failed if result.error else summary.analysed).append(result)
        if progress is not None:
            progress.advance(result)

    profile = analysis_profile(profile)
    if not todo:
        summary.workers = 0
        summary.where = "nothing to do"
    elif cluster:
        summary.where = f"the Dask cluster at {cluster}"
        summary.workers = run_dask(todo, profile, model, cluster, on_result)
    else:
        summary.workers = min(workers or default_workers(), len(todo))
        summary.where = f"{summary.workers} local worker{'s' * (summary.workers != 1)}"
        run_local(todo, profile, model, summary.workers, on_result)
    summary.wall_seconds = time.monotonic() - started
    if progress is not None:
        progress.finish()
    return summary


# -- progress ----------------------------------------------------------------------


class Progress:
    """A bar with the time left on a terminal; one line per call otherwise (logs, CI).

    The time left weighs calls by their length: elapsed time x audio still to
    do / audio done.
    """

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.bar = None

    def start(self, jobs: list[CallJob], summary: AnalyzeSummary) -> None:
        self.total_calls = len(jobs)
        self.total_audio = sum(job.audio_seconds for job in jobs)
        self.done_calls = 0
        self.done_audio = 0.0
        self.started = time.monotonic()
        skipped = len(summary.skipped)
        self._line(
            f"{self.total_calls} call{'s' * (self.total_calls != 1)} to analyse"
            + (f" ({_hours(self.total_audio)} of audio)" if self.total_audio else "")
            + (f", {skipped} already analysed" if skipped else "")
        )
        if self.total_calls and self.stream.isatty() and not os.environ.get("TERM") == "dumb":
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

            self.bar = Bar(
                TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[left]}"), console=Console(file=self.stream), transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("calls", total=self.total_calls, left="")

    def advance(self, result: CallResult) -> None:
        self.done_calls += 1
        self.done_audio += result.job.audio_seconds
        left = self.time_left()
        left_text = "" if left is None else f"about {_duration(left)} left"
        if self.bar is not None:
            self.bar.update(self.task, advance=1, left=left_text)
            if result.error:
                from rich.markup import escape

                self.bar.console.print(f"[red]failed[/red] {escape(result.job.name)}: {escape(result.error)}")
            return
        outcome = (
            f"failed: {result.error}" if result.error
            else f"{result.audio_seconds:.1f} s of audio, {result.utterances} remarks, {result.prompts} prompts"
        )
        self._line(
            f"[{self.done_calls}/{self.total_calls}] {result.job.name}: {outcome}"
            + (f" · {left_text}" if left_text and self.done_calls < self.total_calls else "")
        )

    def time_left(self) -> Optional[float]:
        elapsed = time.monotonic() - self.started
        if self.done_calls == 0:
            return None
        if self.total_audio and self.done_audio:
            return elapsed * max(self.total_audio - self.done_audio, 0.0) / self.done_audio
        return elapsed * (self.total_calls - self.done_calls) / self.done_calls

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.stop()

    def _line(self, text: str) -> None:
        print(f"voicecoach: {text}", file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    from .report import duration_text

    return duration_text(seconds)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else _duration(seconds)


def render_summary(summary: AnalyzeSummary) -> str:
    figures = summary.to_dict()
    lines = []
    count = len(summary.analysed)
    if count:
        lines.append(
            f"Analysed {count} call{'s' * (count != 1)} ({_hours(summary.audio_seconds)} of audio) in "
            f"{_duration(summary.wall_seconds)} on {summary.where}: {figures['calls_per_minute']:.1f} calls a minute, "
            f"{figures['audio_hours_per_hour']:.1f} hours of audio an hour."
        )
    else:
        lines.append("No new calls analysed.")
    if summary.skipped:
        lines.append(f"Skipped {len(summary.skipped)} already analysed.")
    for name, other in summary.duplicates:
        lines.append(f"Skipped {name}: the same recording as {other}.")
    failures = [(r.job.name, r.error) for r in summary.failed] + list(summary.problems)
    if failures:
        lines.append(f"{len(failures)} not analysed:")
        lines += [f"  {name}: {why}" for name, why in failures]
    if count:
        lines.append(f"Logged to {summary.destination}.")
    return "\n".join(lines)


# -- the command ---------------------------------------------------------------------


@click.command(name="analyze")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--profile", "profile_name", default="zoom", show_default=True, help="Profile name or YAML file: its transcriber and coaches.")
@click.option("--model", help="faster-whisper model folder or installed name (default: embedded tiny.en).")
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: one per core, as memory allows).")
@click.option("--cluster", metavar="ADDRESS", help="Run on this Dask cluster instead, e.g. tcp://scheduler:8786.")
@click.option("--to", "to", metavar="URL", help="Store the calls straight in the team's PostgreSQL database instead of the log.")
@click.option("--seller", help="With --to: the name the calls are stored under (default: the one sync remembers).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Call log database (default: the user data folder).")
@click.pass_context
def analyze_command(ctx, paths, profile_name, model, workers, cluster, to, seller, as_json, db_path):
    """Coach many recorded calls and log each one; calls already analysed are skipped.

    PATHS are files and folders (searched recursively). A stereo file is seller
    left, prospect right; two files NAME.seller.EXT and NAME.prospect.EXT are
    one call. Exits with status 1 if any call could not be analysed.
    """
    import json

    from .coach import resolve_profile
    from .log import LogError
    from .profiles import ProfileError
    from .sync import SyncError, resolve_seller

    if cluster and workers:
        raise click.UsageError("--workers sizes the local pool; a --cluster has its own workers")
    if to and db_path:
        raise click.UsageError("--to stores the calls in the team database, --db in a local log: give one")
    try:
        profile = resolve_profile(profile_name)
        if to:
            destination = TeamDestination(to, resolve_seller(seller), warn=_warn)
        else:
            destination = LocalLog(db_path)
        try:
            summary = analyze(
                paths, profile, model=model, workers=workers, cluster=cluster,
                destination=destination, progress=Progress(),
            )
        finally:
            destination.close()
    except (AnalyzeError, LogError, ProfileError, SyncError, ValueError) as error:
        raise click.ClickException(str(error).splitlines()[0])
    click.echo(json.dumps(summary.to_dict(), indent=2) if as_json else render_summary(summary))
    if summary.failed or summary.problems:
        ctx.exit(1)


def _warn(message: str) -> None:
    click.echo(f"voicecoach: warning: {message}", err=True)
