"""The call history: search, export, forget for good, and events as JSON lines."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import voicecoach
from voicecoach.cli import build_cli

FIRST_CALL = [
    {"speaker": "seller", "text": "Thanks for joining, how do you handle payroll today?", "start": 0.0, "end": 3.0},
    {"speaker": "prospect", "text": "We do it by hand with a zebra-striped binder.", "start": 3.5, "end": 6.0},
    {"speaker": "prospect", "text": "Honestly it sounds too expensive for us.", "start": 7.0, "end": 9.0},
]
SECOND_CALL = [
    {"speaker": "seller", "text": "Good morning, what made you take this call?", "start": 0.0, "end": 2.5},
    {"speaker": "prospect", "text": "Our payroll takes the whole of Friday.", "start": 3.0, "end": 5.5},
]


@pytest.fixture
def profile(tmp_path):
    path = tmp_path / "quiet.yaml"
    path.write_text("plugins:\n  objections: {}\n  sqlite_log: {}\n  terminal: {}\n")
    return str(path)


def coach(tmp_path, profile, db_path, lines, name, *extra):
    transcript = tmp_path / f"{name}.yaml"
    transcript.write_text(json.dumps({"lines": lines}))
    result = CliRunner().invoke(build_cli(), ["run", "--profile", profile, "--transcript", str(transcript), "--db", db_path, *extra])
    assert result.exit_code == 0, result.output
    return result


def cli(*args):
    return CliRunner().invoke(build_cli(), list(args))


def test_search_finds_words_with_the_call_and_the_moment(tmp_path, profile, db_path):
    coach(tmp_path, profile, db_path, FIRST_CALL, "first")
    coach(tmp_path, profile, db_path, SECOND_CALL, "second")
    result = cli("search", "payroll", "--db", db_path, "--json")
    matches = json.loads(result.output)
    assert len(matches) == 2 and {m["speaker"] for m in matches} == {"seller", "prospect"}
    assert all("[payroll]" in m["snippet"].lower() for m in matches)
    text = cli("search", "zebra striped", "--db", db_path).output
    assert "00:03" in text and "prospect" in text and "binder" in text
    assert "No call mentions" in cli("search", "submarine", "--db", db_path).output


def test_export_holds_everything_about_one_call(tmp_path, profile, db_path):
    coach(tmp_path, profile, db_path, FIRST_CALL, "first")
    session_id = voicecoach.open_log(db_path)["sessions"].rows.__next__()["id"]
    exported = json.loads(cli("export", session_id[:8], "--db", db_path).output)
    assert exported["session"]["id"] == session_id
    assert [u["text"] for u in exported["utterances"]] == [line["text"] for line in FIRST_CALL]
    assert exported["prompts"][0]["kind"] == "objection.price"
    assert isinstance(exported["prompts"][0]["detail"], list)


def test_forget_leaves_no_trace_of_the_call_in_the_database_files(tmp_path, profile, db_path):
    coach(tmp_path, profile, db_path, FIRST_CALL, "first")
    coach(tmp_path, profile, db_path, SECOND_CALL, "second")
    db = voicecoach.open_log(db_path)
    first_id = next(db.query("select session_id from utterances where text like '%zebra%'"))["session_id"]
    db.close()
    result = cli("forget", first_id[:8], "--yes", "--db", db_path)
    assert result.exit_code == 0 and "Forgot 1 call" in result.output
    for suffix in ("", "-wal"):
        try:
            raw = open(db_path + suffix, "rb").read()
        except FileNotFoundError:
            continue
        assert b"zebra" not in raw and b"binder" not in raw, f"trace left in {db_path + suffix}"
    db = voicecoach.open_log(db_path)
    assert db["sessions"].count == 1 and db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert "payroll" in cli("search", "payroll", "--db", db_path).output  # the other call is kept
    assert list(db["utterances"].search("zebra")) == []


def test_forget_all_or_before_a_date_and_never_without_confirmation(tmp_path, profile, db_path):
    coach(tmp_path, profile, db_path, FIRST_CALL, "first")
    assert cli("forget", "--before", "2000-01-01", "--yes", "--db", db_path).output.strip() == "Nothing to forget."
    refused = cli("forget", "--all", "--db", db_path)
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert cli("forget", "--before", "tomorrow", "--yes", "--db", db_path).output.count("is not a date") == 1
    assert "Forgot 1 call" in cli("forget", "--all", "--yes", "--db", db_path).output
    assert voicecoach.open_log(db_path)["sessions"].count == 0


def test_jsonl_streams_every_event_to_stdout_and_nothing_else(tmp_path, profile, db_path):
    transcript = tmp_path / "call.yaml"
    transcript.write_text(json.dumps({"lines": FIRST_CALL}))
    result = subprocess.run(
        [sys.executable, "-m", "voicecoach", "run", "--profile", profile, "--transcript", str(transcript),
         "--db", db_path, "--jsonl", "-"],
        capture_output=True, text=True, check=True,
    )
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line is JSON
    names = [event["event"] for event in events]
    assert names[0] == "session_started" and names[-1] == "session_ended"
    assert names.count("transcript") == 3
    [prompt] = [event for event in events if event["event"] == "prompt_delivered"]
    assert prompt["kind"] == "objection.price" and "expensive" in prompt["trigger"]["text"]
    assert len({event["session_id"] for event in events}) == 1
    assert "Session" in result.stderr  # the summary moved out of the way


def test_jsonl_to_a_file_alongside_the_terminal(tmp_path, profile, db_path):
    path = tmp_path / "events.jsonl"
    result = coach(tmp_path, profile, db_path, SECOND_CALL, "second", "--jsonl", str(path))
    assert "payroll" in result.output.lower()  # the terminal view still shows the call
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["event"] for e in events].count("transcript") == 2
    bad = cli("run", "--profile", profile, "--transcript", str(tmp_path / "second.yaml"), "--jsonl", "/no/such/dir/x.jsonl")
    assert bad.exit_code == 1 and "cannot write events to /no/such/dir/x.jsonl" in bad.output


def test_sessions_can_be_filtered_by_date_profile_and_status(tmp_path, profile, db_path):
    coach(tmp_path, profile, db_path, FIRST_CALL, "first")
    coach(tmp_path, profile, db_path, SECOND_CALL, "second")
    db = voicecoach.open_log(db_path)
    first = next(db.query("select session_id from utterances where text like '%zebra%'"))["session_id"]
    db["sessions"].update(first, {"started_at": "2020-01-01T09:00:00+00:00", "status": "interrupted"})
    db.close()

    def listed(*options):
        return [s["id"] for s in json.loads(cli("sessions", "--json", "--db", db_path, *options).output)]

    assert len(listed()) == 2
    assert first not in listed("--since", "7d") and len(listed("--since", "7d")) == 1
    assert listed("--status", "interrupted") == [first]
    assert listed("--profile", "quiet") == listed() and listed("--profile", "zoom") == []
    assert cli("sessions", "--since", "soon", "--db", db_path).exit_code == 1
