import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from voicecoach.log import (
    LogError,
    close_abandoned_sessions,
    import_recovery,
    migrations,
    open_log,
    process_started,
    read_recovery,
    recovery_files,
    save_recovery,
)
from voicecoach.paths import default_database_path


def test_migrating_an_empty_database_creates_the_schema(db_path):
    db = open_log(db_path)
    assert {"sessions", "utterances", "speech_activity", "prompts", "observations"} <= set(db.table_names())
    assert {"id", "session_id", "speaker", "start", "end", "text", "confidence"} <= set(
        db["utterances"].columns_dict
    )
    assert {"latency_total", "latency_vad", "latency_transcription", "latency_plugins"} <= set(
        db["prompts"].columns_dict
    )
    assert {"pid", "host", "process_started"} <= set(db["sessions"].columns_dict)
    assert db["utterances"].detect_fts() == "utterances_fts"
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_migrations_run_once(db_path):
    open_log(db_path).close()
    db = open_log(db_path)
    names = [row["name"] for row in db.query("select name from _sqlite_migrations")]
    assert names[:3] == ["m001_initial", "m002_prompt_feedback", "m003_session_process"]
    assert len(names) == len(set(names)) and migrations.pending(db) == []


def test_a_log_from_before_ratings_is_upgraded_and_keeps_its_calls(db_path):
    db = open_log(db_path)
    db["sessions"].insert({"id": "old-call", "status": "ended", "profile": "zoom"})
    # Roll the file back to how the first release left it.
    db["prompt_feedback"].drop()
    db.execute("delete from _sqlite_migrations where name = 'm002_prompt_feedback'")
    db.conn.commit()
    db.close()
    db = open_log(db_path)
    assert "prompt_feedback" in db.table_names()
    assert db["sessions"].get("old-call")["profile"] == "zoom"


def test_default_log_is_private_to_the_user():
    db = open_log()
    db.close()
    path = default_database_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def add_running_session(db, session_id, **process):
    db["sessions"].insert({"id": session_id, "started_at": "2026-11-02T10:00:00+00:00", "status": "running",
                           "profile": "zoom", "duration": 0.0, **process})


def test_a_call_whose_process_died_is_marked_interrupted_at_the_next_open(db_path):
    db = open_log(db_path)
    host = socket.gethostname()
    add_running_session(db, "killed", pid=dead_pid(), host=host)
    db["utterances"].insert({"id": "killed:1", "session_id": "killed", "start": 1.0, "end": 4.25, "text": "hi"})
    db["observations"].insert({"session_id": "killed", "at": 5.5, "plugin": "stages", "kind": "stage"})
    add_running_session(db, "still-going", pid=os.getpid(), host=host, process_started=process_started(os.getpid()))
    add_running_session(db, "other-laptop", pid=dead_pid(), host="not-" + host)
    db.close()

    db = open_log(db_path)

    sessions = {row["id"]: row for row in db["sessions"].rows}
    assert sessions["killed"]["status"] == "interrupted"
    assert sessions["killed"]["duration"] == 5.5  # where the call stopped
    assert sessions["still-going"]["status"] == "running"
    assert sessions["other-laptop"]["status"] == "running"  # its process cannot be seen from here


def test_a_reused_pid_does_not_keep_a_dead_call_running(db_path):
    if process_started(os.getpid()) is None:
        pytest.skip("process start times are read from /proc (Linux)")
    db = open_log(db_path)
    # This process's pid, but started at another time: the call's process died
    # and the system gave its pid to another.
    add_running_session(db, "before-reboot", pid=os.getpid(), host=socket.gethostname(), process_started="another-boot:1")
    assert close_abandoned_sessions(db) == ["before-reboot"]
    assert db["sessions"].get("before-reboot")["status"] == "interrupted"


def test_a_log_from_before_pids_were_logged_is_upgraded_and_its_running_calls_closed(db_path):
    db = open_log(db_path)
    for column in ("pid", "host", "process_started"):
        db["sessions"].transform(drop={column})
    db.execute("delete from _sqlite_migrations where name = 'm003_session_process'")
    db["sessions"].insert({"id": "old-crash", "status": "running", "profile": "zoom", "duration": 0.0})
    db.conn.commit()
    db.close()

    db = open_log(db_path)

    assert db["sessions"].get("old-crash")["status"] == "interrupted"
    assert {"pid", "host", "process_started"} <= set(db["sessions"].columns_dict)


def test_a_locked_log_still_opens_and_closes_abandoned_calls_later(db_path):
    db = open_log(db_path)
    add_running_session(db, "killed", pid=dead_pid(), host=socket.gethostname())
    db.close()
    import sqlite3

    locker = sqlite3.connect(db_path, isolation_level=None)
    locker.execute("begin exclusive")
    try:
        reader = open_log(db_path, timeout=0.05)  # a report while another program writes
        assert reader["sessions"].get("killed")["status"] == "running"
        reader.close()
    finally:
        locker.execute("rollback")
        locker.close()
    assert open_log(db_path)["sessions"].get("killed")["status"] == "interrupted"


def test_recovery_files_round_trip_into_the_log(tmp_path, db_path):
    records = [
        {"table": "sessions", "row": {"id": "s1", "status": "running", "profile": "zoom", "duration": 0.0}},
        {"table": "utterances", "row": {"id": "s1:1", "session_id": "s1", "speaker": "prospect", "start": 0.0,
                                        "end": 2.0, "text": "Too expensive"}},
        {"table": "speech_activity", "row": {"session_id": "s1", "speaker": "prospect", "start": 0.0, "end": 2.0}},
        {"table": "sessions", "id": "s1", "update": {"status": "ended", "duration": 2.0}},
    ]
    path = save_recovery(records[:2], db_path, "s1")
    assert os.path.dirname(path) == os.path.dirname(db_path)
    assert os.path.basename(path).startswith("log.db.recovery-") and path.endswith("-s1.jsonl")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert save_recovery(records[2:], db_path, "s1", path) == path  # appended
    with open(path, "a") as handle:
        handle.write('{"table": "utter')  # the process died while saving
    header, read = read_recovery(path)
    assert header["database"] == os.path.abspath(db_path) and header["session_id"] == "s1"
    assert read == records
    assert recovery_files(db_path) == [path]

    db = open_log(db_path)
    assert import_recovery(db, path)[1] == 4
    assert db["sessions"].get("s1")["status"] == "ended"
    assert [row["text"] for row in db["utterances"].rows] == ["Too expensive"]
    # Keyed rows are not doubled by a second import.
    import_recovery(db, path)
    assert db["utterances"].count == 1


def test_a_file_that_is_not_a_recovery_file_is_refused(tmp_path):
    other = tmp_path / "notes.jsonl"
    other.write_text(json.dumps({"hello": 1}) + "\n")
    with pytest.raises(LogError, match="not a VoiceCoach recovery file"):
        read_recovery(str(other))
