"""A call log that cannot be written never breaks the call, and loses nothing.

The faults are real, made the way they happen on a laptop: a small tmpfs filled
to the last byte (SQLITE_FULL), the log's folder behind a read-only bind mount,
another program holding the database in ``BEGIN EXCLUSIVE``, a file that is not a
database. Mounting needs root (CI runs as root); those tests skip without it.
The call is text-only, so each fault lands on a known utterance.
"""

import os
import sqlite3
import subprocess
import uuid

import pytest
from click.testing import CliRunner

from voicecoach import log
from voicecoach.cli import build_cli
from voicecoach.doctor import doctor_command
from voicecoach.hookspecs import hookimpl
from voicecoach.log import open_log, read_recovery, recovery_files
from voicecoach.plugins import load_plugins
from voicecoach.testing import run_conversation

CALL = [
    ("seller", "Hi Maria, thanks for taking the time today."),
    ("prospect", "Happy to talk."),
    ("seller", "How do you handle your bookkeeping today?"),
    ("prospect", "I do it myself in a spreadsheet, usually at night."),
    ("seller", "It is forty nine dollars a month, and that includes support."),
    ("prospect", "To be honest, that sounds too expensive for us right now."),
    ("seller", "I understand. How much is your time worth each week?"),
    ("prospect", "Maybe five or six hours every week."),
    ("seller", "Would a free trial this month help you decide?"),
    ("prospect", "Yes, let us try it."),
    ("seller", "Great, I will send the link today."),
    ("prospect", "Thank you, talk on Friday."),
]
PLUGINS = {"objections": {}, "sqlite_log": {}}


class Faults:
    """A plugin that does something to the disk as a given utterance (1-based) is heard,
    and counts the utterances the log holds at that moment, read by another program."""

    def __init__(self, db_path, **actions):
        self.db_path = db_path
        self.actions = {int(number[1:]): action for number, action in actions.items()}
        self.logged_at = {}  # utterance number -> utterances in the log then
        self.most_pending = 0
        self.count = 0

    @hookimpl
    def transcript(self, session, utterance):
        self.count += 1
        self.logged_at[self.count] = logged_utterances(self.db_path)
        sink = next((p for p in load_plugins().get_plugins() if type(p).__name__ == "SqliteLog"), None)
        if sink is not None:
            self.most_pending = max(self.most_pending, len(sink.log.pending))
        if self.count in self.actions:
            self.actions[self.count]()


def logged_utterances(db_path) -> int:
    try:
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=0.5)
        try:
            return connection.execute("select count(*) from utterances").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return -1


def log_warnings(warnings):
    return [w for w in warnings if any(words in w for words in ("cannot be written", "is damaged", "cannot be used", "cannot be created"))]


def assert_whole_call_logged(db_path, status="ended"):
    db = open_log(str(db_path), create=False)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    [session] = db["sessions"].rows
    assert session["status"] == status and session["ended_at"]
    assert [row["text"] for row in db["utterances"].rows_where(order_by="start")] == [text for _, text in CALL]
    assert db["prompts"].count >= 1
    db.close()


def run_call(db_path, faults, warnings):
    summary = run_conversation(CALL, PLUGINS, extra_plugins=[faults], db_path=str(db_path), warnings=warnings)
    # The coaching went on: the price objection, heard while the log was failing, was prompted.
    assert "objection.price" in [prompt.kind for prompt in summary.prompts]
    return summary


def sh(*command):
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB file system of its own, to fill up."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder):
    def action():
        with open(folder / "filler", "wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass
        assert os.statvfs(folder).f_bavail == 0

    return action


def free(folder):
    return lambda: os.remove(folder / "filler")


@pytest.fixture
def read_only_folder(tmp_path):
    """The log's folder seen through a bind mount that can be made read-only and back."""
    real, view = tmp_path / "real", tmp_path / "view"
    real.mkdir(), view.mkdir()
    if subprocess.run(["mount", "--bind", str(real), str(view)], capture_output=True).returncode:
        pytest.skip("bind mounts need root")
    try:
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


def make_read_only(folder):
    return lambda: sh("mount", "-o", "remount,bind,ro", str(folder))


def make_writable(folder):
    return lambda: sh("mount", "-o", "remount,bind,rw", str(folder))


@pytest.fixture
def retry_at_once(monkeypatch):
    # A text-only call takes milliseconds: try the log again at every record.
    monkeypatch.setattr(log, "RETRY_SECONDS", 0)
    monkeypatch.setattr(log, "WRITE_TIMEOUT", 0.02)


def test_a_full_disk_mid_call_is_ridden_out_and_the_records_written_when_space_returns(small_disk, retry_at_once):
    db_path = small_disk / "logs.db"
    faults = Faults(db_path, u3=fill(small_disk), u9=free(small_disk))
    warnings = []

    run_call(db_path, faults, warnings)

    [warning] = log_warnings(warnings)  # told once, though every write failed for a while
    assert f"the call log {db_path} cannot be written (database or disk is full)" in warning
    assert "Coaching goes on" in warning
    assert faults.logged_at[9] < 8  # the disk was full: the records waited...
    assert faults.logged_at[10] >= 9  # ... and were written as soon as there was room
    assert any("can be written again: all of this call is in it" in w for w in warnings)
    assert_whole_call_logged(db_path)
    assert recovery_files(str(db_path)) == []


def test_a_disk_full_to_the_end_saves_the_call_elsewhere_and_doctor_imports_it(small_disk, retry_at_once, voicecoach_home):
    db_path = small_disk / "logs.db"
    faults = Faults(db_path, u4=fill(small_disk))
    warnings = []

    run_call(db_path, faults, warnings)

    assert len(log_warnings(warnings)) == 1
    [saved] = [w for w in warnings if "this call is saved in" in w]
    [recovery] = recovery_files(str(db_path))
    # Not on the full disk: in the user's data folder.
    assert recovery.startswith(str(voicecoach_home / "data")) and recovery in saved
    assert "`voicecoach doctor --fix`" in saved and f"voicecoach doctor --import-recovery {recovery}" in saved
    header, records = read_recovery(recovery)
    assert header["database"] == str(db_path)
    assert sum(record["table"] == "utterances" for record in records) == len(CALL) - faults.logged_at[4]

    free(small_disk)()
    result = CliRunner().invoke(doctor_command, ["--import-recovery", recovery])

    assert result.exit_code == 0, result.output
    assert f"into {db_path}; removed {recovery}" in result.output
    assert not os.path.exists(recovery)
    assert_whole_call_logged(db_path)


def test_a_log_locked_by_another_program_is_written_once_it_lets_go(db_path, retry_at_once):
    other = sqlite3.connect(db_path, isolation_level=None)
    faults = Faults(
        db_path, u2=lambda: other.execute("begin exclusive"), u8=lambda: other.execute("commit"),
    )
    warnings = []
    open_log(db_path).close()

    run_call(db_path, faults, warnings)

    [warning] = log_warnings(warnings)
    assert "cannot be written (database is locked)" in warning
    assert faults.logged_at[8] < 7 and faults.logged_at[9] >= 8
    assert_whole_call_logged(db_path)
    other.close()


def test_a_log_locked_to_the_end_of_the_call_goes_to_a_recovery_file_beside_it(db_path, retry_at_once, monkeypatch):
    monkeypatch.setattr(log, "FINAL_TIMEOUT", 0.1)
    open_log(db_path).close()
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("begin exclusive")
    warnings = []
    try:
        summary = run_call(db_path, Faults(db_path), warnings)
    finally:
        other.execute("rollback")
        other.close()

    [recovery] = recovery_files(db_path)
    assert os.path.dirname(recovery) == os.path.dirname(db_path)
    assert summary.db_path is None  # the summary does not send the seller to a log without the call

    assert "Imported" in CliRunner().invoke(doctor_command, ["--import-recovery", recovery]).output
    assert_whole_call_logged(db_path)


def test_a_read_only_log_folder_is_written_once_it_is_writable_again(read_only_folder, retry_at_once):
    db_path = read_only_folder / "logs.db"
    open_log(str(db_path)).close()
    make_read_only(read_only_folder)()
    faults = Faults(db_path, u7=make_writable(read_only_folder))
    warnings = []

    run_call(db_path, faults, warnings)

    [warning] = log_warnings(warnings)
    assert f"the call log {db_path} cannot be written: its folder or file is read-only" in warning
    assert faults.logged_at[7] <= 0 and faults.logged_at[8] >= 7  # -1: not even readable
    assert_whole_call_logged(db_path)


def test_a_log_read_only_for_the_whole_call_is_saved_in_the_data_folder(read_only_folder, retry_at_once, voicecoach_home):
    db_path = read_only_folder / "logs.db"
    open_log(str(db_path)).close()
    make_read_only(read_only_folder)()
    warnings = []

    run_call(db_path, Faults(db_path), warnings)

    assert len(log_warnings(warnings)) == 1
    [recovery] = recovery_files(str(db_path))
    assert recovery.startswith(str(voicecoach_home / "data"))
    make_writable(read_only_folder)()
    assert CliRunner().invoke(doctor_command, ["--import-recovery", recovery]).exit_code == 0
    assert_whole_call_logged(db_path)


def test_a_log_that_cannot_even_be_created_still_keeps_the_call(tmp_path, voicecoach_home):
    (tmp_path / "a-file").write_text("not a folder")
    db_path = tmp_path / "a-file" / "logs.db"
    warnings = []

    run_call(db_path, Faults(db_path), warnings)

    [warning] = log_warnings(warnings)
    assert "cannot be created" in warning
    [recovery] = [w.split("this call is saved in ")[1].split(",")[0] for w in warnings if "this call is saved in" in w]
    assert recovery.startswith(str(voicecoach_home / "data"))
    header, records = read_recovery(recovery)
    assert [r["row"]["text"] for r in records if r["table"] == "utterances"] == [text for _, text in CALL]
    assert records[-1]["update"]["status"] == "ended"


def test_records_held_in_memory_are_bounded(db_path, monkeypatch):
    """A long outage: past MAX_PENDING records go to a recovery file, which is
    written into the log with the rest when it comes back."""
    monkeypatch.setattr(log, "MAX_PENDING", 10)
    monkeypatch.setattr(log, "RETRY_SECONDS", 3600)  # no retry until the end of the call
    monkeypatch.setattr(log, "WRITE_TIMEOUT", 0.02)
    open_log(db_path).close()
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("begin exclusive")
    spilled = []
    faults = Faults(db_path, u11=lambda: (spilled.extend(recovery_files(db_path)), other.execute("rollback")))
    warnings = []

    run_call(db_path, faults, warnings)
    other.close()

    assert faults.most_pending <= 10 + 1
    assert len(spilled) == 1  # what overflowed memory, until the log came back
    assert recovery_files(db_path) == []  # written into the log at the end, and removed
    assert_whole_call_logged(db_path)


# -- a damaged log ---------------------------------------------------------------


def transcript_file(tmp_path):
    path = tmp_path / "call.yaml"
    path.write_text("".join(f'- {{speaker: {speaker}, text: "{text}"}}\n' for speaker, text in CALL))
    return str(path)


def test_run_with_a_damaged_log_still_coaches_and_says_how_to_fix_it(tmp_path, voicecoach_home):
    db_path = tmp_path / "logs.db"
    db_path.write_bytes(os.urandom(16384))

    result = CliRunner().invoke(
        build_cli(), ["run", "--transcript", transcript_file(tmp_path), "--profile", "demo", "--db", str(db_path)]
    )

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Price:" in result.output  # the coaching
    damaged = [line for line in result.stderr.splitlines() if "is damaged" in line]
    assert len(damaged) == 1
    assert f"the call log {db_path} is damaged (file is not a database)" in damaged[0]
    assert "`voicecoach doctor --fix` moves it aside" in damaged[0]
    [recovery] = recovery_files(str(db_path))
    assert f"this call is saved in {recovery}" in result.stderr
    assert "Logged to" not in result.output


def test_reading_a_log_with_damaged_pages_is_one_line_not_a_traceback(tmp_path):
    db_path = str(tmp_path / "logs.db")
    run_conversation(CALL * 20, PLUGINS, db_path=db_path)
    db = open_log(db_path)
    session_id = db["sessions"].rows.__next__()["id"]
    db.execute("pragma wal_checkpoint(truncate)")
    pages = db.execute("pragma page_count").fetchone()[0]
    db.close()
    with open(db_path, "r+b") as handle:
        for page in range(pages // 3, pages, 5):
            handle.seek((page - 1) * 4096 + 100)
            handle.write(uuid.uuid4().bytes * 30)

    result = CliRunner().invoke(build_cli(), ["report", "--session", session_id[:8], "--db", db_path])

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: the call log {db_path} is damaged (database disk image is malformed): "
        "`voicecoach doctor --fix` moves it aside and starts a new one, or pass --db NEW_PATH"
    ]
