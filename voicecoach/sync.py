"""`voicecoach sync`: finished calls from the seller's log to the team's PostgreSQL database.

The SQLite log on the laptop stays the source of truth; the team database holds
copies. A sync sends each finished session that the team database does not hold
yet, in one transaction per session, so an interrupted sync leaves whole sessions
or none of a session, and the next one carries on where it stopped (session ids
are UUIDs: two laptops never send the same id). Raw audio never leaves the
laptop, and every text goes through :func:`voicecoach.redaction.redact` again
on the way out, whatever the profile that coached the call said, so a number
logged raw (a profile with ``redact: false``) stays on the laptop.

The team database's schema is VoiceCoach's own: a ``voicecoach`` schema created
and upgraded by the numbered migrations below, recorded in its
``schema_migrations`` table. The password comes from libpq's usual places
(``PGPASSWORD``, ``~/.pgpass`` or ``PGPASSFILE``) and is never written by
VoiceCoach; the config file remembers the address without it.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import click
import sqlite_utils

from .log import LogError, open_log
from .paths import ensure_private_dir, user_config_dir
from .redaction import redact

SCHEMA = "voicecoach"
APPLICATION_NAME = "voicecoach-sync"
# Children of a session, in the order they are sent.
SESSION_TABLES = ("utterances", "speech_activity", "prompts", "observations", "prompt_feedback")
# A connection lost mid-sync (the server restarting, a network blip) is retried
# this many times, waiting RETRY_WAIT, 2 x RETRY_WAIT, ... in between.
RETRIES = 3
RETRY_WAIT = 2.0


class SyncError(Exception):
    """The team database cannot be reached or used; the message says what to do."""


# -- the team database's schema ------------------------------------------------

MIGRATIONS: list[tuple[str, str]] = [
    (
        "m001_initial",
        """
        create table sessions (
            id uuid primary key,
            seller text not null,
            started_at timestamptz,
            ended_at timestamptz,
            status text,
            profile text,
            source text,
            transcriber text,
            speakers jsonb,
            duration double precision,
            source_sha256 text,
            synced_at timestamptz not null default now()
        );
        create index sessions_seller_started on sessions (seller, started_at);
        create index sessions_source_sha256 on sessions (source_sha256);
        create table utterances (
            id text primary key,
            session_id uuid not null references sessions (id) on delete cascade,
            seq integer not null,
            speaker text,
            start double precision,
            "end" double precision,
            text text,
            confidence double precision,
            transcription_seconds double precision
        );
        create index utterances_session on utterances (session_id);
        create table speech_activity (
            session_id uuid not null references sessions (id) on delete cascade,
            seq integer not null,
            speaker text,
            start double precision,
            "end" double precision,
            primary key (session_id, seq)
        );
        create table prompts (
            id text primary key,
            session_id uuid not null references sessions (id) on delete cascade,
            seq integer not null,
            at double precision,
            plugin text,
            kind text,
            priority text,
            text text,
            detail jsonb,
            data jsonb,
            trigger_utterance_id text,
            trigger_text text,
            trigger_speaker text,
            latency_total double precision,
            latency_vad double precision,
            latency_transcription double precision,
            latency_plugins double precision,
            latency_delivery double precision
        );
        create index prompts_session on prompts (session_id);
        create table observations (
            session_id uuid not null references sessions (id) on delete cascade,
            seq integer not null,
            at double precision,
            plugin text,
            kind text,
            value text,
            data jsonb,
            primary key (session_id, seq)
        );
        create index observations_kind on observations (kind, session_id);
        create table prompt_feedback (
            session_id uuid not null references sessions (id) on delete cascade,
            seq integer not null,
            prompt_id text,
            plugin text,
            useful boolean,
            given_at timestamptz,
            primary key (session_id, seq)
        );
        """,
    ),
    (
        # What the team report groups: one row per call, per objection raised,
        # per prompt shown. They read the raw rows exactly as the personal report
        # does (voicecoach/report.py), so the two agree on every call.
        "m002_team_views",
        r"""
        create view call_figures as
        select s.id as session_id, s.seller, s.started_at, s.status, s.duration,
            date_trunc('week', s.started_at at time zone 'UTC')::date as week,
            t.seller_seconds, t.prospect_seconds,
            case when t.seller_seconds + t.prospect_seconds > 0
                then t.seller_seconds / (t.seller_seconds + t.prospect_seconds) end as seller_share,
            q.questions
        from sessions s
        left join lateral (
            select coalesce(sum(a."end" - a.start) filter (where a.speaker = 'seller'), 0) as seller_seconds,
                coalesce(sum(a."end" - a.start) filter (where a.speaker = 'prospect'), 0) as prospect_seconds
            from speech_activity a where a.session_id = s.id
        ) t on true
        left join lateral (
            -- the talk_ratio plugin's count, logged at the end of the call; the latest counts
            select case when o.value ~ '^-?[0-9]+(\.[0-9]+)?$' then o.value::double precision end as questions
            from observations o
            where o.session_id = s.id and o.kind = 'questions' and (o.plugin is null or o.plugin = 'talk_ratio')
            order by o.seq desc limit 1
        ) q on true;

        -- An objection is raised once per (utterance, category), whether the
        -- plugin observed it, prompted it, or both; answered or not is the
        -- latest verdict on that utterance (its own category first).
        create view call_objections as
        with raised as (
            select session_id, coalesce(data->>'utterance_id', 'o' || seq) as utterance_id, value as category
            from observations where kind = 'objection'
            union
            select session_id, coalesce(data->>'utterance_id', 'p' || id), substr(kind, 11)
            from prompts where kind like 'objection.%'
        )
        select r.session_id, r.utterance_id, r.category, v.answered
        from raised r
        left join lateral (
            select o.kind = 'objection_answered' as answered
            from observations o
            where o.session_id = r.session_id and o.kind in ('objection_answered', 'objection_unanswered')
                and o.data->>'utterance_id' = r.utterance_id
            order by (o.value = r.category) desc, o.seq desc limit 1
        ) v on true;

        -- Each prompt shown, with the seller's latest verdict (null: not rated).
        create view prompt_ratings as
        select p.session_id, p.id as prompt_id, p.plugin, p.kind, f.useful
        from prompts p
        left join lateral (
            select pf.useful from prompt_feedback pf
            where pf.session_id = p.session_id and pf.prompt_id = p.id
            order by pf.seq desc limit 1
        ) f on true;
        """,
    ),
]


def migrate(conn) -> list[str]:
    """Create or upgrade the team schema; returns the migrations applied now."""
    pending = _pending(conn)
    if not pending:
        return []
    with conn.transaction():
        # Two sellers syncing for the first time at once: one migrates, the other waits.
        conn.execute("select pg_advisory_xact_lock(hashtext('voicecoach schema migrations'))")
        conn.execute(f"create schema if not exists {SCHEMA}")
        conn.execute(
            "create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())"
        )
        done = {row[0] for row in conn.execute("select name from schema_migrations")}
        applied = []
        for name, statements in MIGRATIONS:
            if name in done:
                continue
            conn.execute(statements)
            conn.execute("insert into schema_migrations (name) values (%s)", [name])
            applied.append(name)
    return applied


def _pending(conn) -> list[str]:
    exists = conn.execute("select to_regclass(%s)", [f"{SCHEMA}.schema_migrations"]).fetchone()[0]
    done = set()
    if exists is not None:
        done = {row[0] for row in conn.execute(f"select name from {SCHEMA}.schema_migrations")}
    return [name for name, _ in MIGRATIONS if name not in done]


# -- where the team database is, and who this seller is ---------------------------


def config_path() -> str:
    return os.path.join(user_config_dir(), "config.json")


def read_config() -> dict:
    try:
        with open(config_path(), encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def remember(**settings) -> None:
    """Keep ``settings`` under ``sync`` in the user config (never a password)."""
    config = read_config()
    section = config.setdefault("sync", {})
    for key, value in settings.items():
        if value is not None:
            section[key] = without_password(value) if key == "to" else value
    ensure_private_dir(user_config_dir())
    path = config_path()
    temporary = path + ".tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
    os.replace(temporary, path)


def remembered(key: str) -> Optional[str]:
    return (read_config().get("sync") or {}).get(key)


def has_password(conninfo: str) -> bool:
    return without_password(conninfo) != conninfo


def without_password(conninfo: str) -> str:
    """``conninfo`` (a URL or ``key=value`` string) with any password taken out."""
    if "://" in conninfo:
        parts = urlsplit(conninfo)
        netloc = parts.netloc
        if "@" in netloc:
            credentials, host = netloc.rsplit("@", 1)
            netloc = credentials.split(":", 1)[0] + "@" + host
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(conninfo)
    except Exception:
        return conninfo
    if "password" not in params:
        return conninfo
    params.pop("password")
    return make_conninfo(**params)


def resolve_target(to: Optional[str], option: str = "--to") -> str:
    """The team database: ``to``, or the one the last sync remembered."""
    target = to or remembered("to")
    if not target:
        raise SyncError(
            f"which team database? give {option} postgresql://USER@HOST/DB (`voicecoach sync` remembers it, "
            "without the password; put the password in PGPASSWORD or ~/.pgpass)"
        )
    return target


def resolve_seller(seller: Optional[str]) -> str:
    name = (seller or remembered("seller") or "").strip()
    if not name:
        raise SyncError(
            "choose the name your team will see your calls under: --seller NAME (remembered for next time)"
        )
    return name


def connect(conninfo: str):
    """A connection to the team database, its schema migrated and on the search path."""
    import psycopg

    try:
        # Autocommit: every write below opens its own transaction, and nothing
        # holds one open between sessions. The tables live in their own schema.
        conn = psycopg.connect(
            conninfo, application_name=APPLICATION_NAME, connect_timeout=10, autocommit=True,
            options=f"-c search_path={SCHEMA}",
        )
    except psycopg.Error as error:
        raise SyncError(f"cannot connect to {without_password(conninfo)}: {_first_line(error)}") from None
    try:
        migrate(conn)
    except psycopg.Error as error:
        conn.close()
        raise SyncError(
            f"cannot set up VoiceCoach's tables in {without_password(conninfo)}: {_first_line(error)} "
            "(the first sync needs a role allowed to create a schema in that database)"
        ) from None
    return conn


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# -- reading a session from the log, redacted ------------------------------------


def read_session(db: sqlite_utils.Database, session_id: str) -> dict[str, list[dict]]:
    """Every row the log holds about one session, table by table, in logged order."""
    rows = {"sessions": list(db.query("select * from sessions where id = ?", [session_id]))}
    for table in SESSION_TABLES:
        if db[table].exists():
            rows[table] = list(db.query(f"select * from [{table}] where session_id = ? order by rowid", [session_id]))
    return rows


def redacted(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """A copy of a session's rows with every free text redacted again."""
    out = {table: [dict(row) for row in table_rows] for table, table_rows in rows.items()}
    for row in out.get("sessions", []):
        row["source"] = redact(row.get("source"))
    for row in out.get("utterances", []):
        row["text"] = redact(row.get("text"))
    for row in out.get("prompts", []):
        row["text"] = redact(row.get("text"))
        row["trigger_text"] = redact(row.get("trigger_text"))
        row["detail"] = _redact_json_text(row.get("detail"))
        row["data"] = _redact_json_text(row.get("data"))
    for row in out.get("observations", []):
        value = row.get("value")
        if isinstance(value, str) and not _is_json_number(value):
            row["value"] = _redact_json_text(value) if value[:1] in "[{\"" else redact(value)
        row["data"] = _redact_json_text(row.get("data"))
    return out


def _is_json_number(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, (int, float))


def _redact_json_text(text):
    if not isinstance(text, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return redact(text)
    return json.dumps(_redact_value(value))


def _redact_value(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


# -- writing a session to the team database ----------------------------------------


def _json(text):
    from psycopg.types.json import Jsonb

    if text is None:
        return None
    try:
        return Jsonb(json.loads(text))
    except (TypeError, ValueError):
        return Jsonb(text)


def _instant(text) -> Optional[datetime]:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _session_values(row: dict, seller: str) -> list:
    return [
        row["id"], seller, _instant(row.get("started_at")), _instant(row.get("ended_at")), row.get("status"),
        row.get("profile"), row.get("source"), row.get("transcriber"), _json(row.get("speakers")),
        row.get("duration"), row.get("source_sha256"),
    ]


_CHILDREN = {
    "utterances": (
        'id, session_id, seq, speaker, start, "end", text, confidence, transcription_seconds',
        lambda r, seq: [r["id"], r["session_id"], seq, r.get("speaker"), r.get("start"), r.get("end"), r.get("text"),
                        r.get("confidence"), r.get("transcription_seconds")],
    ),
    "speech_activity": (
        'session_id, seq, speaker, start, "end"',
        lambda r, seq: [r["session_id"], seq, r.get("speaker"), r.get("start"), r.get("end")],
    ),
    "prompts": (
        "id, session_id, seq, at, plugin, kind, priority, text, detail, data, trigger_utterance_id, trigger_text, "
        "trigger_speaker, latency_total, latency_vad, latency_transcription, latency_plugins, latency_delivery",
        lambda r, seq: [r["id"], r["session_id"], seq, r.get("at"), r.get("plugin"), r.get("kind"), r.get("priority"),
                        r.get("text"), _json(r.get("detail")), _json(r.get("data")), r.get("trigger_utterance_id"),
                        r.get("trigger_text"), r.get("trigger_speaker"), r.get("latency_total"), r.get("latency_vad"),
                        r.get("latency_transcription"), r.get("latency_plugins"), r.get("latency_delivery")],
    ),
    "observations": (
        "session_id, seq, at, plugin, kind, value, data",
        lambda r, seq: [r["session_id"], seq, r.get("at"), r.get("plugin"), r.get("kind"), r.get("value"),
                        _json(r.get("data"))],
    ),
    "prompt_feedback": (
        "session_id, seq, prompt_id, plugin, useful, given_at",
        lambda r, seq: [r["session_id"], seq, r.get("prompt_id"), r.get("plugin"),
                        None if r.get("useful") is None else bool(r["useful"]), _instant(r.get("given_at"))],
    ),
}


def push_session(conn, rows: dict[str, list[dict]], seller: str) -> bool:
    """Send one session (already redacted) in one transaction; False if the team database had it."""
    session = rows["sessions"][0]
    with conn.transaction():
        inserted = conn.execute(
            "insert into sessions (id, seller, started_at, ended_at, status, profile, source, transcriber, "
            "speakers, duration, source_sha256) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "on conflict (id) do nothing returning id",
            _session_values(session, seller),
        ).fetchone()
        if inserted is None:
            return False
        for table in SESSION_TABLES:
            table_rows = rows.get(table) or []
            if not table_rows:
                continue
            columns, values = _CHILDREN[table]
            placeholders = ", ".join(["%s"] * len(columns.split(",")))
            with conn.cursor() as cursor:
                cursor.executemany(
                    f"insert into {table} ({columns}) values ({placeholders})",
                    [values(row, seq) for seq, row in enumerate(table_rows)],
                )
    return True


def present(conn, session_ids: list[str]) -> set[str]:
    """Which of ``session_ids`` the team database already holds."""
    found = set()
    for start in range(0, len(session_ids), 1000):
        batch = session_ids[start:start + 1000]
        rows = conn.execute("select id::text from sessions where id = any(%s::uuid[])", [batch]).fetchall()
        found.update(row[0] for row in rows)
    return found


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


@dataclass
class SyncResult:
    target: str  # the address, without a password
    seller: str
    sent: list[str] = field(default_factory=list)
    already: int = 0  # finished sessions the team database held before
    unfinished: int = 0  # still running (or crashed before they ended): not sent
    skipped: list[str] = field(default_factory=list)  # ids that are not UUIDs
    reconnects: int = 0


class TeamDatabase:
    """A connection that comes back: a server restart or a network blip costs a retry, not the sync."""

    def __init__(self, conninfo: str, retries: int = RETRIES, retry_wait: float = RETRY_WAIT, warn=None):
        self.conninfo = conninfo
        self.retries = retries
        self.retry_wait = retry_wait
        self.warn = warn or (lambda message: None)
        self.reconnects = 0
        self.conn = connect(conninfo)

    def run(self, action: Callable):
        """``action(conn)``, again on a fresh connection if the connection was lost."""
        import psycopg

        attempt = 0
        while True:
            try:
                return action(self.conn)
            except psycopg.OperationalError as error:
                if attempt >= self.retries:
                    raise
                attempt += 1
                wait = self.retry_wait * 2 ** (attempt - 1)
                self.warn(
                    f"lost the connection to {without_password(self.conninfo)} ({_first_line(error)}); "
                    f"trying again in {wait:g} s"
                )
                self.close()
                time.sleep(wait)
                self.conn = self._reconnect()
                self.reconnects += 1

    def _reconnect(self):
        deadline_attempts = max(1, self.retries)
        for attempt in range(deadline_attempts):
            try:
                return connect(self.conninfo)
            except SyncError:
                if attempt == deadline_attempts - 1:
                    raise
                time.sleep(self.retry_wait * 2 ** attempt)

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


def sync(
    db: sqlite_utils.Database,
    conninfo: str,
    seller: str,
    *,
    progress: Optional[Callable[[str, int, int], None]] = None,
    retries: int = RETRIES,
    retry_wait: float = RETRY_WAIT,
    warn=None,
) -> SyncResult:
    """Send every finished session of ``db`` that the team database does not hold yet.

    ``progress(session_id, done, total)`` is called after each session is committed.
    """
    import psycopg

    result = SyncResult(target=without_password(conninfo), seller=seller)
    finished = []
    for row in db.query("select id, status from sessions order by started_at, rowid"):
        if row["status"] == "running":
            result.unfinished += 1
        elif not _is_uuid(row["id"]):
            result.skipped.append(row["id"])
        else:
            finished.append(row["id"])
    team = TeamDatabase(conninfo, retries=retries, retry_wait=retry_wait, warn=warn)
    try:
        there = team.run(lambda conn: present(conn, finished))
        result.already = len(there)
        to_send = [session_id for session_id in finished if session_id not in there]
        for index, session_id in enumerate(to_send, start=1):
            rows = redacted(read_session(db, session_id))
            try:
                if team.run(lambda conn: push_session(conn, rows, seller)):
                    result.sent.append(session_id)
                else:
                    result.already += 1
            except (psycopg.Error, SyncError) as error:
                raise SyncError(
                    f"sync stopped after {len(result.sent)} of {len(to_send)} calls: {_first_line(error)}; "
                    "run `voicecoach sync` again to send the rest"
                ) from None
            if progress is not None:
                progress(session_id, index, len(to_send))
    finally:
        result.reconnects = team.reconnects
        team.close()
    return result


# -- the command -------------------------------------------------------------------


@click.command(name="sync")
@click.option("--to", "to", metavar="URL", help="The team's PostgreSQL database, postgresql://USER@HOST/DB (remembered).")
@click.option("--seller", help="Your name as your team will see it (remembered).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Call log database (default: the user data folder).")
def sync_command(to, seller, db_path):
    """Send your finished calls to your team's PostgreSQL database.

    Only what is not there yet is sent, one call at a time, so an interrupted
    sync picks up where it stopped. Transcripts are redacted again on the way
    out; audio never leaves this computer. The password comes from PGPASSWORD
    or ~/.pgpass and is never written by VoiceCoach.
    """
    try:
        target = resolve_target(to)
        name = resolve_seller(seller)
        if to and has_password(to):
            _warn(
                "the password in --to is used for this sync only and not remembered: put it in "
                "PGPASSWORD or ~/.pgpass (a password on the command line stays in your shell history)"
            )
        db = open_log(db_path, create=False)
        result = sync(db, target, name, warn=_warn, progress=_progress)
        remember(to=to, seller=seller)
    except (SyncError, LogError) as error:
        raise click.ClickException(str(error))
    click.echo(
        f"Sent {len(result.sent)} call{'s' * (len(result.sent) != 1)} to {result.target} as {result.seller!r}"
        f" ({result.already} already there"
        + (f", {result.unfinished} not finished yet" if result.unfinished else "")
        + (f", {len(result.skipped)} with an id that is not a UUID left out" if result.skipped else "")
        + ")."
    )


def _warn(message: str) -> None:
    click.echo(f"voicecoach: warning: {message}", err=True)


def _progress(session_id: str, done: int, total: int) -> None:
    click.echo(f"  sent {session_id[:8]} ({done}/{total})", err=True)
