import os
import stat

from voicecoach.log import open_log
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
    assert db["utterances"].detect_fts() == "utterances_fts"
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_migrations_run_once(db_path):
    open_log(db_path).close()
    db = open_log(db_path)
    names = [row["name"] for row in db.query("select name from _sqlite_migrations")]
    assert names == ["m001_initial", "m002_prompt_feedback"]


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
