"""The call log: one SQLite database, created and upgraded by numbered migrations.

Writers (the ``sqlite_log`` sink) and readers (reports, ``sessions``) both open it
through :func:`open_log`, which applies any pending migration first. Each record
is committed on its own, so a crash loses at most what was in flight.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from typing import Optional

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .paths import default_database_path, ensure_private_dir

migrations = Migrations("voicecoach")


class LogError(Exception):
    """The log database cannot be used; the message says what to do."""


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


def open_log(path: Optional[str] = None, create: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the log at ``path``, the user data directory by default."""
    path = path or default_database_path()
    if not create and not os.path.exists(path):
        raise LogError(f"no call log at {path} yet: run `voicecoach demo` or `voicecoach run` first")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        if path == default_database_path():
            ensure_private_dir(folder)
        else:
            os.makedirs(folder, exist_ok=True)
        new = not os.path.exists(path)
        connection = sqlite3.connect(path, check_same_thread=False, timeout=5)
        if new:
            os.chmod(path, 0o600)
        db = sqlite_utils.Database(connection)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        migrations.apply(db)
    except sqlite3.DatabaseError as error:
        raise LogError(
            f"the call log {path} cannot be used ({error}); move it aside or pass --db NEW_PATH"
        ) from None
    except OSError as error:
        raise LogError(f"the call log {path} cannot be created ({error.strerror})") from None
    return db


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
