"""The seller's call history: find words in past calls, export a call, forget calls for good.

    from voicecoach.history import search, export_session, forget
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Optional

import sqlite_utils

from .log import LogError, find_session_id

# Every table that holds something about a session, children first.
SESSION_TABLES = ("prompt_feedback", "observations", "prompts", "speech_activity", "utterances")


def search(db: sqlite_utils.Database, text: str, limit: int = 20) -> list[dict]:
    """Utterances whose words match ``text`` (full-text search), best match first."""
    query = _fts_query(text)
    if not query:
        raise LogError("give some words to search for")
    return list(
        db.query(
            """
            select u.session_id, s.started_at, u.speaker, u.start, u.end, u.text,
              snippet(utterances_fts, 0, '[', ']', '…', 12) as snippet
            from utterances_fts
            join utterances u on u.rowid = utterances_fts.rowid
            join sessions s on s.id = u.session_id
            where utterances_fts match ?
            order by rank limit ?
            """,
            [query, limit],
        )
    )


def _fts_query(text: str) -> str:
    # Each word as a quoted term: what people type is words, not FTS5 syntax.
    words = re.findall(r"\w+", text)
    return " ".join(f'"{word}"' for word in words)


def export_session(db: sqlite_utils.Database, session_id: str) -> dict:
    """Everything the log holds about one session, as plain data."""
    session_id = find_session_id(db, session_id)
    exported = {"session": db["sessions"].get(session_id)}
    for table in reversed(SESSION_TABLES):
        if db[table].exists():
            rows = db.query(f"select * from [{table}] where session_id = ? order by rowid", [session_id])
            exported[table] = [_decoded(row) for row in rows]
    return exported


def _decoded(row: dict) -> dict:
    for key in ("data", "detail"):
        if isinstance(row.get(key), str):
            try:
                row[key] = json.loads(row[key])
            except ValueError:
                pass
    return row


def sessions_to_forget(
    db: sqlite_utils.Database,
    session_id: Optional[str] = None,
    everything: bool = False,
    before: Optional[datetime] = None,
) -> list[str]:
    if session_id:
        return [find_session_id(db, session_id)]
    if everything:
        return [row["id"] for row in db.query("select id from sessions")]
    if before is not None:
        cutoff = before.astimezone(timezone.utc).isoformat(timespec="seconds")
        return [row["id"] for row in db.query("select id from sessions where started_at < ?", [cutoff])]
    raise LogError("say what to forget: a session id, --all, or --before DATE")


def forget(db: sqlite_utils.Database, session_ids: list[str]) -> int:
    """Delete these sessions and everything about them, leaving no trace in the file.

    SQLite keeps deleted rows in free pages, the write-ahead log and the full-text
    index until they are overwritten; ``secure_delete``, an index rebuild, a WAL
    checkpoint and VACUUM make the deletion real.
    """
    if not session_ids:
        return 0
    db.execute("PRAGMA secure_delete = ON")
    with db.conn:
        for session_id in session_ids:
            for table in SESSION_TABLES:
                if db[table].exists():
                    db.execute(f"delete from [{table}] where session_id = ?", [session_id])
            db.execute("delete from sessions where id = ?", [session_id])
    if db["utterances_fts"].exists():
        with db.conn:
            db.execute("insert into utterances_fts(utterances_fts) values('rebuild')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return len(session_ids)


def parse_date(text: str) -> datetime:
    """``2026-11-01`` (midnight UTC) or a full ISO 8601 time."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise LogError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-01") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
