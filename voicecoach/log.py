"""The call log: one SQLite database, created and upgraded by numbered migrations.

Writers (the ``sqlite_log`` sink) and readers (reports, ``sessions``) both open it
through :func:`open_log`, which applies any pending migration first and marks as
interrupted the calls whose process is gone (killed, crashed, a power cut). Each
record is committed on its own, so a crash loses at most what was in flight.

When the log cannot be written during a call (a full disk, a read-only, locked or
damaged file) the writer keeps the call's records and, if the log does not come
back before the call ends, saves them to a recovery file: JSON lines that
:func:`import_recovery` (``voicecoach doctor --import-recovery FILE``) puts into
a log later.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import shlex
import socket
import sqlite3
import tempfile
import time
from datetime import datetime, timezone
from typing import Iterable, Optional

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .paths import default_database_path, ensure_private_dir, user_data_dir

migrations = Migrations("voicecoach")

# While the log cannot be written during a call, its records wait in memory (at
# most MAX_PENDING; more go to a recovery file) and the log is tried again every
# RETRY_SECONDS. A write waits at most WRITE_TIMEOUT for another program's lock
# while the call goes on, since coaching must not stall, and FINAL_TIMEOUT at
# the end of the call.
RETRY_SECONDS = 2.0
MAX_PENDING = 5000
WRITE_TIMEOUT = 0.2
FINAL_TIMEOUT = 5.0

RECOVERY_FORMAT = "voicecoach-recovery"
RECOVERY_VERSION = 1


class LogError(Exception):
    """The log database cannot be used; the message says what to do."""


def is_damaged(error: BaseException) -> bool:
    """Whether ``error`` says the database file itself is broken (not busy, full or read-only)."""
    name = getattr(error, "sqlite_errorname", None)
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    # Python before 3.11 gives no code; SQLite's damaged-file errors are the bare base class.
    return type(error) is sqlite3.DatabaseError


def explain(error: BaseException, path: Optional[str] = None) -> str:
    """One line for the user: what is wrong with the log at ``path`` and the way out."""
    path = path or default_database_path()
    reason = _one_line(error)
    if is_damaged(error):
        return (
            f"the call log {path} is damaged ({reason}): `voicecoach doctor --fix` moves it aside "
            "and starts a new one, or pass --db NEW_PATH"
        )
    if "locked" in reason or "busy" in reason:
        return f"the call log {path} is locked by another program ({reason}): close it, or pass --db NEW_PATH"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return f"the call log {path} cannot be written: its folder or file is read-only ({reason}); pass --db NEW_PATH"
    return f"the call log {path} cannot be used ({reason}); `voicecoach doctor` says why, or pass --db NEW_PATH"


@migrations()
def m001_initial(db: sqlite_utils.Database):
    db["sessions"].create(
        {
            "id": str,
            "started_at": str,  # ISO 8601, UTC
            "ended_at": str,
            "status": str,  # running, ended, interrupted
            "profile": str,
            "source": str,
            "transcriber": str,
            "speakers": str,  # JSON list
            "duration": float,  # seconds of session time
        },
        pk="id",
    )
    db["utterances"].create(
        {
            "id": str,  # <session id>:<n>
            "session_id": str,
            "speaker": str,
            "start": float,
            "end": float,
            "text": str,
            "confidence": float,
            "transcription_seconds": float,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
    )
    db["speech_activity"].create(
        {"session_id": str, "speaker": str, "start": float, "end": float},
        foreign_keys=[("session_id", "sessions", "id")],
    )
    db["prompts"].create(
        {
            "id": str,
            "session_id": str,
            "at": float,  # session time it was delivered
            "plugin": str,
            "kind": str,
            "priority": str,
            "text": str,
            "detail": str,  # JSON list of lines
            "data": str,  # JSON
            "trigger_utterance_id": str,
            "trigger_text": str,
            "trigger_speaker": str,
            "latency_total": float,
            "latency_vad": float,
            "latency_transcription": float,
            "latency_plugins": float,
            "latency_delivery": float,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
    )
    db["observations"].create(
        {"session_id": str, "at": float, "plugin": str, "kind": str, "value": str, "data": str},
        foreign_keys=[("session_id", "sessions", "id")],
    )
    for table, column in (
        ("utterances", "session_id"),
        ("speech_activity", "session_id"),
        ("prompts", "session_id"),
        ("observations", "session_id"),
    ):
        db[table].create_index([column])
    db["utterances"].enable_fts(["text"], create_triggers=True)


@migrations()
def m002_prompt_feedback(db: sqlite_utils.Database):
    # The seller's verdict on a prompt, pressed during the call; the latest counts.
    db["prompt_feedback"].create(
        {"session_id": str, "prompt_id": str, "plugin": str, "useful": int, "given_at": str},
        foreign_keys=[("session_id", "sessions", "id"), ("prompt_id", "prompts", "id")],
    )
    db["prompt_feedback"].create_index(["session_id"])


@migrations()
def m003_session_process(db: sqlite_utils.Database):
    # Which process runs a call, so the next start can tell a call whose process
    # died (status still "running") from one going on in another window.
    sessions = db["sessions"]
    sessions.add_column("pid", int)
    sessions.add_column("host", str)
    sessions.add_column("process_started", str)  # tells a reused pid from the original


@migrations()
def m004_source_sha256(db: sqlite_utils.Database):
    # `voicecoach analyze` keys a recording on its content, so a second run skips
    # the calls already analysed whatever their file is called now.
    db["sessions"].add_column("source_sha256", str)
    db["sessions"].create_index(["source_sha256"])


def open_log(path: Optional[str] = None, create: bool = True, timeout: float = 5.0) -> sqlite_utils.Database:
    """Open (and migrate) the log at ``path``, the user data directory by default.

    ``timeout`` is how long a write waits for another program's lock. Calls left
    "running" by a process that is gone are marked interrupted.
    """
    path = path or default_database_path()
    if not create and not os.path.exists(path):
        raise LogError(f"no call log at {path} yet: run `voicecoach demo` or `voicecoach run` first")
    folder = os.path.dirname(os.path.abspath(path))
    connection = None
    try:
        if path == default_database_path():
            ensure_private_dir(folder)
        else:
            os.makedirs(folder, exist_ok=True)
        if not os.path.exists(path):
            # Private from the start, even if the process dies right after (an
            # empty file is an empty database); SQLite gives -wal and -shm its mode.
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
        connection = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
        db = sqlite_utils.Database(connection)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        migrations.apply(db)
    except sqlite3.DatabaseError as error:
        if connection is not None:
            connection.close()
        raise LogError(explain(error, path)) from None
    except OSError as error:
        if connection is not None:
            connection.close()
        raise LogError(f"the call log {path} cannot be created ({error.strerror})") from None
    try:
        close_abandoned_sessions(db)
    except sqlite3.OperationalError:
        pass  # locked or read-only right now: the next open marks them
    except sqlite3.DatabaseError as error:
        connection.close()
        raise LogError(explain(error, path)) from None
    return db


def close_abandoned_sessions(db: sqlite_utils.Database) -> list[str]:
    """Mark as interrupted the calls still "running" whose process is gone; return their ids.

    Calls logged on another machine (logs merged from a team) are left alone:
    whether their process lives cannot be known here.
    """
    host = socket.gethostname()
    rows = list(db.query("select id, pid, host, process_started from sessions where status = 'running'"))
    abandoned = [row["id"] for row in rows if row["host"] in (None, host) and not _running(row)]
    if not abandoned:
        return []
    with db.atomic():
        for session_id in abandoned:
            db.execute(
                "update sessions set status = 'interrupted', duration = max(coalesce(duration, 0), ?) "
                "where id = ? and status = 'running'",
                [last_logged_moment(db, session_id), session_id],
            )
    return abandoned


def last_logged_moment(db: sqlite_utils.Database, session_id: str) -> float:
    """The latest session time anything was logged at for ``session_id``: where a cut-off call stopped."""
    row = db.execute(
        """
        select max(coalesce((select max("end") from utterances where session_id = :id), 0),
                   coalesce((select max("end") from speech_activity where session_id = :id), 0),
                   coalesce((select max("at") from prompts where session_id = :id), 0),
                   coalesce((select max("at") from observations where session_id = :id), 0))
        """,
        {"id": session_id},
    ).fetchone()
    return round(row[0] or 0.0, 3)


def this_process() -> dict:
    """The session columns that name the running process (see :func:`close_abandoned_sessions`)."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "process_started": process_started(pid)}


def process_started(pid: int) -> Optional[str]:
    """When process ``pid`` started, as a token that differs for a reused pid (Linux); None elsewhere."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return f"{boot}:{fields[19]}"  # field 22 of stat: start time in clock ticks since boot
    except (OSError, IndexError):
        return None


def _running(row: dict) -> bool:
    pid = row["pid"]
    if pid is None:
        return False  # logged before pids were: its process ended long ago
    if not _pid_alive(pid):
        return False
    if row["process_started"] is None:
        return True
    # A pid the system has since given to another process (after a reboot, say).
    return process_started(pid) in (None, row["process_started"])


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":
        import ctypes

        kernel = ctypes.windll.kernel32
        handle = kernel.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


# -- writing a call -------------------------------------------------------------


class LogWriter:
    """Writes one call's records to the log at ``path``, each committed on its own,
    and rides out a log that cannot be written.

    When a write fails (a full disk, a read-only, locked or damaged file) the user
    is warned once through ``warn``, the call goes on, and records are kept until
    the log can be written again, tried every :data:`RETRY_SECONDS`. What cannot
    be written by the end of the call is saved to a recovery file.
    """

    def __init__(self, path: str, session_id: str, warn):
        self.path = path
        self.session_id = session_id
        self.warn = warn
        self.db: Optional[sqlite_utils.Database] = None
        self.pending: collections.deque = collections.deque()
        self.spilled: Optional[str] = None  # recovery file holding records that overflowed memory
        self.problem: Optional[str] = None  # why the log cannot be written, while it cannot
        self.troubled = False  # the log failed at some moment of this call
        self.lost = 0
        self._retry_at = 0.0
        self._timeout = WRITE_TIMEOUT  # how long the open connection waits for a lock
        try:
            self.db = open_log(path, timeout=WRITE_TIMEOUT)
        except (LogError, sqlite3.Error) as error:
            self._failed(error)

    def begin_session(self, row: dict) -> None:
        """The session's own row, marked as this process's while the call runs."""
        self.insert("sessions", {**row, "status": "running", **this_process()})

    def insert(self, table: str, row: dict) -> None:
        self._add({"table": table, "row": row})

    def update(self, table: str, key: str, values: dict) -> None:
        self._add({"table": table, "id": key, "update": values})

    def end_session(self, values: dict) -> Optional[str]:
        """Record how the session ended, write everything still waiting and close.

        Returns the recovery file the call went to when the log could not take it.
        """
        self.update("sessions", self.session_id, values)
        saved = None
        if self.flush(FINAL_TIMEOUT):
            if self.troubled:
                self.warn(f"the call log {self.path} can be written again: all of this call is in it")
        else:
            try:
                saved = self.spilled = save_recovery(list(self.pending), self.path, self.session_id, self.spilled)
                self.pending.clear()
            except OSError as error:
                self.lost += len(self.pending)
                self.pending.clear()
                self.warn(
                    f"this call could not be written to the call log {self.path} nor saved to a recovery "
                    f"file ({error.strerror}): {self.lost} records are lost"
                )
            else:
                lost = f" ({self.lost} records had to be dropped)" if self.lost else ""
                self.warn(
                    f"this call is saved in {saved}{lost}, as the call log {self.path} could not be written: "
                    "`voicecoach doctor --fix` puts it in the log once the log works again "
                    f"(or voicecoach doctor --import-recovery {shlex.quote(saved)})"
                )
        self._close()
        return saved

    def _add(self, record: dict) -> None:
        self.pending.append(record)
        if self.problem is None or time.monotonic() >= self._retry_at:
            self.flush()
        if len(self.pending) > MAX_PENDING:
            self._spill()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Write every waiting record in one transaction; False (keeping them) when the log cannot take them."""
        if not self.pending and self.spilled is None:
            return True
        timeout = WRITE_TIMEOUT if timeout is None else timeout
        try:
            if self.db is None:
                self.db = open_log(self.path, timeout=timeout)
                self._timeout = timeout
            elif timeout != self._timeout:
                self.db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                self._timeout = timeout
            with self.db.atomic():
                if self.spilled is not None:
                    apply_records(self.db, read_recovery(self.spilled)[1])
                apply_records(self.db, self.pending)
        except (sqlite3.Error, LogError) as error:
            self._failed(error)
            return False
        self.pending.clear()
        if self.spilled is not None:
            try:
                os.remove(self.spilled)
            except OSError:
                pass
            self.spilled = None
        self.problem = None
        return True

    def _failed(self, error: Exception) -> None:
        # A fresh connection at the next try: one opened read-only stays read-only.
        self._close()
        self.problem = str(error)
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if self.troubled:
            return  # the user was told once already this call
        self.troubled = True
        if isinstance(error, LogError):
            why = str(error)
        else:
            why = f"the call log {self.path} cannot be written ({_one_line(error)})"
            if is_damaged(error):
                why += ": it is damaged; `voicecoach doctor --fix` moves it aside after the call"
        self.warn(f"{why}. Coaching goes on; this call's log is kept until it can be written")

    def _spill(self) -> None:
        """Memory is bounded: past MAX_PENDING records, they go to a recovery file."""
        try:
            self.spilled = save_recovery(list(self.pending), self.path, self.session_id, self.spilled)
            self.pending.clear()
        except OSError:
            # Nowhere to put them: the oldest go, but never the session's own row.
            sessions = [r for r in self.pending if r["table"] == "sessions"]
            others = [r for r in self.pending if r["table"] != "sessions"]
            excess = len(self.pending) - MAX_PENDING
            self.lost += excess
            self.pending = collections.deque(sessions + others[excess:])

    def _close(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None


# -- recovery files -----------------------------------------------------------
# A record is {"table": name, "row": {...}} (an insert) or
# {"table": name, "id": key, "update": {...}}. A file starts with a header line
# naming the log it belongs to.


def apply_records(db: sqlite_utils.Database, records: Iterable[dict]) -> int:
    """Write ``records`` (inserts and updates) to the log; return how many. The caller
    holds the transaction. An insert of a row already there is skipped, so applying
    the same records twice does no harm for tables with keys."""
    count = 0
    for record in records:
        table = db[record["table"]]
        if "update" in record:
            db.execute(
                f"update [{record['table']}] set "
                + ", ".join(f"[{column}] = ?" for column in record["update"])
                + f" where [{table.pks[0]}] = ?",
                [*record["update"].values(), record["id"]],
            )
        else:
            table.insert(record["row"], ignore=True)
        count += 1
    return count


def save_recovery(records: list[dict], db_path: str, session_id: str, path: Optional[str] = None) -> str:
    """Append ``records`` to the recovery file ``path``, or to a new one; return its path.

    A new file goes beside the log, or where the log's folder cannot be written
    (the disk that is full, a read-only mount), in the data folder or the
    temporary folder. Raises OSError when no place can be written.
    """
    if path is not None:
        with open(path, "a", encoding="utf-8") as handle:
            _write_lines(handle, records)
        return path
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{os.path.basename(db_path)}.recovery-{stamp}-{session_id[:8]}.jsonl"
    header = {
        "format": RECOVERY_FORMAT, "version": RECOVERY_VERSION, "database": os.path.abspath(db_path),
        "session_id": session_id, "saved_at": utc_now(),
    }
    error: Optional[OSError] = None
    for folder in _recovery_folders(db_path):
        candidate = os.path.join(folder, name)
        try:
            os.makedirs(folder, exist_ok=True)
            # Private from the first byte: it holds the call's words.
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                _write_lines(handle, [header, *records])
            return candidate
        except OSError as failure:
            error = failure
            try:
                os.remove(candidate)  # a half-written file would only confuse
            except OSError:
                pass
    raise error or OSError("no folder to save the recovery file in")


def _write_lines(handle, records) -> None:
    for record in records:
        handle.write(json.dumps(record, default=str) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _recovery_folders(db_path: str) -> list[str]:
    folders = [os.path.dirname(os.path.abspath(db_path)), user_data_dir(), tempfile.gettempdir()]
    return list(dict.fromkeys(folders))


def recovery_files(db_path: Optional[str] = None) -> list[str]:
    """The recovery files saved for the log at ``db_path`` (the default log) and not yet imported."""
    db_path = os.path.abspath(db_path or default_database_path())
    found = []
    for folder in _recovery_folders(db_path):
        for candidate in sorted(glob.glob(os.path.join(folder, f"{glob.escape(os.path.basename(db_path))}.recovery-*.jsonl"))):
            try:
                header = read_recovery(candidate)[0]
            except LogError:
                continue
            if os.path.abspath(header.get("database", "")) == db_path:
                found.append(candidate)
    return found


def read_recovery(path: str) -> tuple[dict, list[dict]]:
    """A recovery file's header and records. A last line cut short (the process
    died while saving) is left out."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise LogError(f"cannot read the recovery file {path} ({error.strerror})") from None
    except UnicodeDecodeError:
        lines = []
    try:
        header = json.loads(lines[0]) if lines else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != RECOVERY_FORMAT:
        raise LogError(f"{path} is not a VoiceCoach recovery file")
    records = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise LogError(f"{path}: line {number} is not a record (the file was changed?)") from None
        if not isinstance(record, dict) or "table" not in record:
            raise LogError(f"{path}: line {number} is not a record (the file was changed?)")
        records.append(record)
    return header, records


def import_recovery(db: sqlite_utils.Database, path: str) -> tuple[dict, int]:
    """Put a recovery file's records into ``db`` in one transaction; return its header
    and how many records were written. The file is left for the caller to remove."""
    header, records = read_recovery(path)
    try:
        with db.atomic():
            count = apply_records(db, records)
    except sqlite3.Error as error:
        raise LogError(f"{path} could not be imported ({_one_line(error)}); `voicecoach doctor` checks the log") from None
    return header, count


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def latest_session_id(db: sqlite_utils.Database) -> Optional[str]:
    row = next(db.query("select id from sessions order by started_at desc, rowid desc limit 1"), None)
    return row["id"] if row else None


def find_session_id(db: sqlite_utils.Database, prefix: str) -> str:
    """Full id of the session whose id starts with ``prefix`` (ids are long UUIDs)."""
    rows = list(db.query("select id from sessions where id like ? limit 2", [prefix + "%"]))
    if not rows:
        raise LogError(f"no session {prefix!r} in the log; `voicecoach sessions` lists them")
    if len(rows) > 1:
        raise LogError(f"{prefix!r} matches several sessions; give more of the id")
    return rows[0]["id"]
