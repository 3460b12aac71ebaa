"""`voicecoach sync` against a real PostgreSQL server started for the test run."""

import json
import os
import uuid

import pytest
from click.testing import CliRunner

from voicecoach.log import open_log, this_process
from voicecoach.paths import default_database_path
from voicecoach.pipeline import Pipeline
from voicecoach.script import ScriptSource, lines_to_utterances, utterance_events
from voicecoach.sync import (
    APPLICATION_NAME,
    MIGRATIONS,
    SyncError,
    connect,
    config_path,
    sync,
    sync_command,
    without_password,
)
from voicecoach.testing import make_profile, run_conversation

CALL = [
    ("seller", "Good morning Sam, how do you plan your deliveries today?"),
    ("prospect", "On a whiteboard, but honestly this sounds too expensive for us."),
    ("seller", "I understand. What does a missed delivery cost you every week?"),
    ("prospect", "Let me think about it and talk to my partner."),
]
PHONE = "555 867 5309"


class Team:
    def __init__(self, server, url, password):
        self.server, self.url, self.password = server, url, password
        self.dbname = url.rsplit("/", 1)[1]

    def query(self, sql, params=None):
        with self.server.admin(self.dbname) as conn:
            conn.execute("set search_path to voicecoach")
            return conn.execute(sql, params).fetchall()


@pytest.fixture
def team(postgres, monkeypatch):
    owner = f"seller_{uuid.uuid4().hex[:6]}"
    url = postgres.create_database(owner=owner)
    password = postgres.passwords[owner]
    monkeypatch.setenv("PGPASSWORD", password)
    monkeypatch.delenv("PGPASSFILE", raising=False)
    return Team(postgres, url, password)


def log_calls(db_path, count, lines=CALL):
    ids = []
    for _ in range(count):
        summary = run_conversation(lines, plugins=["objections", "talk_ratio", "sqlite_log"], db_path=db_path)
        ids.append(summary.session_id)
    return ids


def local_counts(db_path, session_id):
    db = open_log(db_path)
    return {
        table: db.execute(f"select count(*) from [{table}] where session_id = ?", [session_id]).fetchone()[0]
        for table in ("utterances", "speech_activity", "prompts", "observations")
    }


def team_counts(team, session_id):
    return {
        table: team.query(f"select count(*) from {table} where session_id = %s", [session_id])[0][0]
        for table in ("utterances", "speech_activity", "prompts", "observations")
    }


def test_a_second_sync_sends_nothing_and_unfinished_calls_wait(team, db_path):
    ids = log_calls(db_path, 3)
    db = open_log(db_path)
    running = str(uuid.uuid4())
    # A call going on right now in another window of this laptop: this process stands for it.
    db["sessions"].insert(
        {"id": running, "started_at": "2026-11-24T10:00:00+00:00", "status": "running", "profile": "zoom",
         **this_process()}
    )
    db.conn.commit()

    runner = CliRunner()
    first = runner.invoke(sync_command, ["--to", team.url, "--seller", "Alice", "--db", db_path])
    assert first.exit_code == 0, first.output
    assert "Sent 3 calls" in first.output and "'Alice'" in first.output and "1 not finished yet" in first.output
    rows = team.query("select id::text, seller, status from sessions order by started_at")
    assert sorted(r[0] for r in rows) == sorted(ids) and {r[1] for r in rows} == {"Alice"}
    for session_id in ids:
        assert team_counts(team, session_id) == local_counts(db_path, session_id)

    # Remembered: the next sync needs no options, and sends nothing new.
    second = runner.invoke(sync_command, ["--db", db_path])
    assert second.exit_code == 0, second.output
    assert "Sent 0 calls" in second.output and "3 already there" in second.output
    assert team.query("select count(*) from sessions")[0][0] == 3
    assert team.query("select count(*) from utterances")[0][0] == 3 * len(CALL)

    # The running call ends; the next sync sends it alone.
    db["sessions"].update(running, {"status": "ended", "ended_at": "2026-11-24T10:05:00+00:00"})
    db.conn.commit()
    third = runner.invoke(sync_command, ["--db", db_path])
    assert "Sent 1 call " in third.output, third.output
    assert team.query("select count(*) from sessions")[0][0] == 4


def _cut_the_connection_after(team, sessions):
    """A progress callback that kills the sync's connection on the server once ``sessions`` are in."""

    def progress(session_id, done, total):
        if done == sessions:
            killed = team.query(
                "select pg_terminate_backend(pid) from pg_stat_activity where application_name = %s",
                [APPLICATION_NAME],
            )
            assert killed and all(row[0] for row in killed)

    return progress


def test_an_interrupted_sync_resumes_where_it_stopped(team, db_path):
    ids = log_calls(db_path, 5)
    with pytest.raises(SyncError) as stopped:
        sync(open_log(db_path), team.url, "alice", progress=_cut_the_connection_after(team, 2), retries=0)
    assert "after 2 of 5 calls" in str(stopped.value) and "run `voicecoach sync` again" in str(stopped.value)
    there = [row[0] for row in team.query("select id::text from sessions")]
    assert sorted(there) == sorted(ids[:2])
    for session_id in there:  # whole sessions only: each went in one transaction
        assert team_counts(team, session_id) == local_counts(db_path, session_id)

    resumed = sync(open_log(db_path), team.url, "alice")
    assert resumed.sent == ids[2:] and resumed.already == 2
    assert team.query("select count(*), count(distinct id) from sessions")[0] == (5, 5)
    for session_id in ids:
        assert team_counts(team, session_id) == local_counts(db_path, session_id)


def test_a_connection_lost_mid_sync_is_retried_and_the_sync_finishes(team, db_path):
    ids = log_calls(db_path, 4)
    warnings = []
    result = sync(
        open_log(db_path), team.url, "alice", progress=_cut_the_connection_after(team, 1),
        retry_wait=0.05, warn=warnings.append,
    )
    assert result.reconnects == 1 and any("lost the connection" in w for w in warnings)
    assert sorted(result.sent) == sorted(ids)
    assert team.query("select count(*), count(distinct id) from sessions")[0] == (4, 4)


def test_only_redacted_text_reaches_the_team_database(team, db_path):
    lines = [
        ("seller", "Thanks for calling, can I take your number in case we get cut off?"),
        ("prospect", f"Sure, it is {PHONE}, and my email is sam.lee@example.com. But it is too expensive."),
        ("seller", f"Got it, {PHONE}. What budget did you have in mind?"),
    ]
    profile = make_profile(["objections", "talk_ratio", "sqlite_log"])
    profile.redact = False  # a profile that turned redaction off: the log keeps the number
    utterances = lines_to_utterances(lines)
    Pipeline(ScriptSource(utterances), None, profile, db_path=db_path).run_events(utterance_events(utterances))
    local = open_log(db_path)
    raw = [row[0] for row in local.execute("select text from utterances")]
    assert any(PHONE in text for text in raw)
    assert any(PHONE in (row[0] or "") for row in local.execute("select data from observations"))

    sync(open_log(db_path), team.url, "alice")
    columns = team.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'voicecoach' and data_type in ('text', 'jsonb')"
    )
    assert len(columns) > 10
    for table, column in columns:
        leaks = team.query(
            f'select count(*) from "{table}" where "{column}"::text like %s or "{column}"::text like %s',
            ["%5309%", "%sam.lee%"],
        )[0][0]
        assert leaks == 0, f"{table}.{column} holds the raw number or email"
    texts = [row[0] for row in team.query("select text from utterances order by seq")]
    assert "[phone number]" in texts[1] and "[email]" in texts[1] and "[phone number]" in texts[2]
    # The figures survive redaction: the objection is still there.
    assert team.query("select category from call_objections")[0][0] == "price"


def _files_under(folder):
    for root, _, names in os.walk(folder):
        for name in names:
            yield os.path.join(root, name)


def test_the_password_is_never_written_under_voicecoach_home(team, voicecoach_home, monkeypatch, tmp_path):
    log_calls(default_database_path(), 2)  # the default log lives under VOICECOACH_HOME
    runner = CliRunner()
    # From PGPASSWORD.
    result = runner.invoke(sync_command, ["--to", team.url, "--seller", "alice"])
    assert result.exit_code == 0, result.output
    # From a password file, as libpq reads it.
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    host_port_db = team.url.split("@", 1)[1]
    host, rest = host_port_db.split(":", 1)
    port, dbname = rest.split("/", 1)
    user = team.url.split("//", 1)[1].split("@", 1)[0]
    passfile.write_text(f"{host}:{port}:{dbname}:{user}:{team.password}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    log_calls(default_database_path(), 1)
    result = runner.invoke(sync_command, [])
    assert result.exit_code == 0 and "Sent 1 call " in result.output, result.output
    # Typed into --to: used once, with a warning, and not remembered.
    monkeypatch.delenv("PGPASSFILE")
    with_password = team.url.replace(f"{user}@", f"{user}:{team.password}@")
    log_calls(default_database_path(), 1)
    result = runner.invoke(sync_command, ["--to", with_password])
    assert result.exit_code == 0, result.output
    assert "not remembered" in result.output and team.password not in result.output

    config = json.loads(open(config_path()).read())
    assert config["sync"] == {"to": team.url, "seller": "alice"}
    assert team.query("select count(*) from sessions")[0][0] == 4
    files = list(_files_under(voicecoach_home))
    assert config_path() in files and default_database_path() in files
    for path in files:
        with open(path, "rb") as handle:
            assert team.password.encode() not in handle.read(), path


def test_a_wrong_password_or_no_seller_name_is_one_clear_line(team, db_path, monkeypatch):
    log_calls(db_path, 1)
    runner = CliRunner()
    result = runner.invoke(sync_command, ["--to", team.url, "--db", db_path])
    assert result.exit_code == 1 and "--seller NAME" in result.output
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    result = runner.invoke(sync_command, ["--to", team.url, "--seller", "alice", "--db", db_path])
    assert result.exit_code == 1 and "password authentication failed" in result.output
    assert "Traceback" not in result.output


def test_the_schema_is_migrated_once_and_recorded(team):
    from voicecoach.sync import migrate

    with connect(team.url) as conn:  # migrates
        assert migrate(conn) == []  # nothing left to do the second time
    names = [row[0] for row in team.query("select name from schema_migrations order by name")]
    assert names == [name for name, _ in MIGRATIONS]
    tables = {row[0] for row in team.query(
        "select table_name from information_schema.tables where table_schema = 'voicecoach'"
    )}
    assert {"sessions", "utterances", "speech_activity", "prompts", "observations", "prompt_feedback",
            "schema_migrations", "call_figures", "call_objections", "prompt_ratings"} <= tables


def test_passwords_are_taken_out_of_remembered_addresses():
    assert without_password("postgresql://ann:s3cret@db.example:5432/team") == "postgresql://ann@db.example:5432/team"
    assert without_password("postgresql://db.example/team?password=s3cret&sslmode=require") == (
        "postgresql://db.example/team?sslmode=require"
    )
    assert "s3cret" not in without_password("host=db.example dbname=team password=s3cret")
    assert without_password("postgresql://ann@db.example/team") == "postgresql://ann@db.example/team"
