"""The terminal sink: a live view redrawn in place on a terminal, plain lines anywhere else.

The CLI runs for real, with a pipe or a pseudo-terminal as its stdout; the view
object also draws into a recording rich Console, fed by the real pipeline.
"""

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time

import click
import pytest
import yaml
from rich.console import Console

from voicecoach import HIGH, PROSPECT, SELLER, Prompt, Session, SessionSummary, SpeechActivity, Utterance
from voicecoach.synth import ScriptLine, synthesize_call
from voicecoach.testing import make_profile, run_conversation
from voicecoach_sinks.live_view import LiveView
from voicecoach_sinks.terminal import DEFAULTS

CALL = [
    {"speaker": SELLER, "text": "Hi Maria, thanks for taking the time today."},
    {"speaker": PROSPECT, "text": "Happy to talk."},
    {"speaker": SELLER, "text": "What do you use for your bookkeeping right now?"},
    {"speaker": PROSPECT, "text": "Honestly, that sounds too expensive for us right now."},
]
SPOKEN_CALL = [
    ScriptLine(SELLER, "Hi Maria, thanks for taking the time today.", pause_before=0.3),
    ScriptLine(PROSPECT, "Honestly, that sounds too expensive for us right now.", pause_before=0.5),
]
STAGES = r"(opening|discovery|presentation|objection handling|closing)"
# What redrawing in place needs: cursor up, erase line, hide the cursor.
CURSOR_CODES = ("\x1b[1A", "\x1b[2K", "\x1b[?25l")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def write_profile(folder, capture="two-way", **terminal):
    path = folder / "view.yaml"
    path.write_text(yaml.safe_dump({
        "description": "terminal view test",
        "capture": capture,
        "arbitration": {"min_interval": 0, "cooldown": 0},
        "plugins": {"objections": {}, "stages": {}, "terminal": terminal},
    }))
    return str(path)


@pytest.fixture
def transcript_file(tmp_path):
    path = tmp_path / "call.yaml"
    path.write_text(yaml.safe_dump(CALL))
    return str(path)


def plain_text(raw: str) -> str:
    return ANSI.sub("", raw).replace("\r", "")


class TerminalRun:
    """The CLI with a pseudo-terminal (100 x 40) as its stdin, stdout and stderr."""

    def __init__(self, args, **env):
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        self.terminal_before = termios.tcgetattr(follower)
        self.follower = follower
        environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
        environment.update({"TERM": "xterm-256color", **env})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voicecoach", *args],
            stdin=follower, stdout=follower, stderr=follower, env=environment,
        )
        self.raw = b""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            ready, _, _ = select.select([self.leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.leader, 65536)
                except OSError:  # every writer is gone
                    return
                if not data:
                    return
                self.raw += data
            elif self.process.poll() is not None:
                return

    @property
    def output(self) -> str:
        return self.raw.decode(errors="replace")

    def wait_for(self, text: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while text not in plain_text(self.output):
            if self.process.poll() is not None:
                self.reader.join(timeout=5)
                assert text in plain_text(self.output), f"exited {self.process.returncode}:\n{plain_text(self.output)}"
                return
            assert time.monotonic() < deadline, f"no {text!r} in:\n{plain_text(self.output)}"
            time.sleep(0.05)

    def press(self, key: str):
        os.write(self.leader, key.encode())

    def finish(self, timeout: float = 60) -> int:
        returncode = self.process.wait(timeout=timeout)
        terminal_after = termios.tcgetattr(self.follower)
        os.close(self.follower)  # the child's copies are closed: the reader sees the end
        self.reader.join(timeout=5)
        os.close(self.leader)
        assert terminal_after == self.terminal_before, "the terminal is given back as it was"
        return returncode


def final_frame(output: str) -> str:
    """The view's last frame, which stays on screen, and what the CLI printed after it."""
    text = plain_text(output)
    start = text.rindex("■ ENDED")
    return text[start:]


# -- plain output where the screen cannot be redrawn ------------------------------------


def test_a_pipe_gets_plain_lines_without_any_escape_codes(tmp_path, transcript_file, db_path):
    result = subprocess.run(
        [sys.executable, "-m", "voicecoach", "run", "--profile", write_profile(tmp_path),
         "--transcript", transcript_file, "--db", db_path],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == f"▶ REPLAY  transcript {transcript_file}"
    assert "[00:00] SELLER   Hi Maria, thanks for taking the time today." in lines
    said = next(n for n, line in enumerate(lines) if re.fullmatch(r"\[00:\d\d\] PROSPECT Honestly, that sounds too expensive for us right now\.", line))
    assert any(line.strip().startswith("▶ HIGH  Price") for line in lines[said:])
    assert any(line.startswith("■ session ended after 00:1") for line in lines)
    assert lines[-1].startswith("Logged to ")


@pytest.mark.parametrize("how", ["TERM=dumb", "live_view: false", "NO_COLOR"])
def test_a_terminal_that_cannot_or_should_not_redraw_gets_plain_lines(how, tmp_path, transcript_file, db_path):
    settings = {} if how == "TERM=dumb" else {"live_view": False}
    env = {"TERM": "dumb"} if how == "TERM=dumb" else {"NO_COLOR": "1"} if how == "NO_COLOR" else {}
    run = TerminalRun(["run", "--profile", write_profile(tmp_path, **settings), "--transcript", transcript_file,
                       "--db", db_path], **env)
    assert run.finish() == 0, run.output
    assert not any(code in run.output for code in CURSOR_CODES)
    if how == "NO_COLOR":  # (the CLI's own warnings on stderr are not the sink's to colour)
        assert not [line for line in run.output.splitlines() if "\x1b[" in line and "voicecoach: warning" not in line]
    else:
        assert "\x1b[" in run.output  # plain, yet coloured on a terminal
    lines = plain_text(run.output).splitlines()
    assert "[00:05] SELLER   What do you use for your bookkeeping right now?" in lines
    assert "■ ENDED" not in run.output


# -- the live view on a terminal --------------------------------------------------------


@pytest.fixture(scope="module")
def spoken_call(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("call") / "call.wav")
    call = synthesize_call(SPOKEN_CALL, tail=1.5)  # time to see the last prompt before the end
    call.write_stereo(path)
    return path


@pytest.mark.slow
def test_a_realtime_replay_is_redrawn_in_place_and_its_final_state_kept(tmp_path, spoken_call, db_path):
    run = TerminalRun(["run", "--profile", write_profile(tmp_path), "--input", spoken_call, "--realtime",
                       "--db", db_path])
    run.wait_for("▶ REPLAY  replaying file")
    run.wait_for("Price")
    assert run.finish() == 0, plain_text(run.output)
    output = run.output

    during = plain_text(output[: output.index("■ ENDED")])
    assert during.count("▶ REPLAY  replaying file") >= 3, "redrawn several times as the call went on"
    assert "\x1b[1A" in output and "\x1b[2K" in output  # in place, not scrolling
    assert "● LIVE" not in output
    assert "q stop · + useful · - not useful" in during  # keys are read at real-time pace
    assert "no speech yet" in during
    assert "Price" in during  # drawn while the call was still being replayed

    final = final_frame(output)
    header = final.splitlines()[0]
    assert f"replayed file {spoken_call}" in header and re.search(r" 00:\d\d$", header.rstrip()), header
    assert re.search(r"stage\s+" + STAGES, final), final
    assert re.search(r"talk\s+seller\s+\d+% █+░+\s+\d+% prospect", final), final
    assert "SELLER   Hi Maria" in final and "PROSPECT" in final
    assert "HIGH · objections" in final or re.search(r"earlier \d\d:\d\d HIGH\s+Price", final), final
    assert "Price" in final and 'because the prospect said: "' in final
    assert "■ session ended after 00:0" in final
    # The frame stays, then the CLI's summary follows it; the cursor is shown again.
    assert final.index("■ session ended after") < final.index("Session ")
    assert output.rindex("\x1b[?25h") > output.rindex("\x1b[?25l")


@pytest.mark.slow
def test_a_live_call_shows_what_is_captured_with_levels_until_q(pulse_server, tmp_path, db_path):
    run = TerminalRun(["run", "--profile", write_profile(tmp_path), "--i-have-consent",
                       "--seller-device", pulse_server.mic_monitor, "--prospect-device", pulse_server.call_monitor,
                       "--db", db_path])
    capturing = f"● LIVE  capturing seller={pulse_server.mic_monitor}, prospect={pulse_server.call_monitor}"
    run.wait_for(capturing)
    run.wait_for("00:01")  # the clock runs
    screen = plain_text(run.output)
    assert re.search(r"seller\s+[▮▯]{20}\s+(—|-?\d+) dB\s+listening", screen), screen
    assert re.search(r"prospect\s+[▮▯]{20}\s+(—|-?\d+) dB\s+listening", screen), screen
    assert "q stop · + useful · - not useful" in screen
    run.press("q")
    assert run.finish() == 0, plain_text(run.output)
    final = final_frame(run.output)
    assert final.startswith(f"■ ENDED  captured seller={pulse_server.mic_monitor}, prospect={pulse_server.call_monitor}")
    assert "■ session ended after" in final and "Session " in final


# -- the view object, drawn into a recording console --------------------------------------


def recording_view(**settings):
    console = Console(record=True, width=100, file=io.StringIO())
    return LiveView({**DEFAULTS, **settings}, console=console), console


def test_the_view_draws_a_coached_call_from_the_real_pipeline():
    view, console = recording_view()
    summary = run_conversation(CALL, plugins=["objections", "stages"], extra_plugins=[view])
    text = console.export_text()
    assert text.startswith("■ ENDED  replayed")
    assert re.search(r"stage\s+" + STAGES, text)
    assert re.search(r"talk\s+seller\s+\d+% █+░+\s+\d+% prospect", text)
    assert "SELLER   What do you use for your bookkeeping right now?" in text
    assert "PROSPECT Honestly, that sounds too expensive for us right now." in text
    price = next(prompt for prompt in summary.prompts if prompt.kind.startswith("objection.price"))
    assert price.text[:40] in text
    assert 'because the prospect said: "Honestly, that sounds too expensive' in text
    assert text.rstrip().endswith(f"■ session ended after 00:{int(summary.duration):02d}")


def test_only_the_last_lines_are_held_and_shown():
    view, console = recording_view(transcript_lines=8)
    lines = [(SELLER if n % 2 else PROSPECT, f"Line number {n} of the call.") for n in range(1, 101)]
    run_conversation(lines, extra_plugins=[view])
    assert len(view.lines) == 8
    text = console.export_text()
    assert "Line number 93 of the call." in text and "Line number 100 of the call." in text
    assert "Line number 92 of the call." not in text and "Line number 1 of the call." not in text
    assert re.search(r"talk\s+seller\s+5\d% ", text)  # the ratio still counts every line


def test_a_partial_shows_dimmed_in_place_until_its_final_words_and_ratings_confirm():
    console = Console(record=True, width=100, file=io.StringIO(), force_terminal=True, color_system="256")
    view = LiveView({**DEFAULTS, "talk_window_seconds": 60}, console=console)
    session = Session(make_profile([]), speakers=(SELLER, PROSPECT), source="file call.wav")
    view.session_started(session=session)

    def frame():
        console.print(view.render())
        return console.export_text(styles=True)  # this frame only: exporting clears the record

    session.now = 80.0
    view.speech_activity(session=session, activity=SpeechActivity(SELLER, 0.0, 15.0))  # long ago
    view.speech_activity(session=session, activity=SpeechActivity(PROSPECT, 70.0, 79.0))
    view.speech_activity(session=session, activity=SpeechActivity(SELLER, 79.0, 80.0))
    partial = Utterance(PROSPECT, "Honestly that sounds", 80.0, 81.5, partial=True)
    view.partial_transcript(session=session, utterance=partial)
    drawn = frame()
    assert "\x1b[2;3mHonestly that sounds …" in drawn  # dim italic
    assert re.search(r"seller\s+64% █+░+\s+36% prospect\s+last 1 min: 10% / 90%", plain_text(drawn))

    final = Utterance(PROSPECT, "Honestly that sounds too expensive.", 80.0, 83.0, id=partial.id)
    view.transcript(session=session, utterance=final)
    prompt = Prompt(kind="objection.price", text="Price: ask what they compare it to", priority=HIGH,
                    detail=["What budget did you have in mind?"], trigger=final, plugin="objections", at=83.0)
    view.prompt_delivered(session=session, prompt=prompt)
    view.prompt_feedback(session=session, prompt=prompt, useful=True)
    styled = frame()
    drawn = plain_text(styled)
    assert "…" not in drawn  # the final words replaced the partial ones
    assert "PROSPECT Honestly that sounds too expensive." in drawn
    assert "HIGH · objections" in drawn and "  · What budget did you have in mind?" in drawn
    assert 'because the prospect said: "Honestly that sounds too expensive."' in drawn
    assert "+ marked useful" in drawn
    assert "\x1b[1;38;5;208mPrice: ask what they compare it to" in styled  # high: bold orange


def test_what_is_printed_during_the_call_lands_above_the_view_not_through_it():
    screen = io.StringIO()
    view = LiveView(dict(DEFAULTS), console=Console(file=screen, force_terminal=True, width=80, color_system=None))
    session = Session(make_profile([]), speakers=(SELLER, PROSPECT), source="file call.wav")
    stdout = sys.stdout
    view.session_started(session=session)
    try:
        time.sleep(0.3)  # a frame or two
        click.echo("a line from another plugin")  # click, like every VoiceCoach warning
        time.sleep(0.3)
    finally:
        summary = SessionSummary(session_id=session.id, profile="test", status="ended", duration=1.0,
                                 utterances=0, talk_seconds={})
        view.session_ended(session=session, summary=summary)
    assert sys.stdout is stdout  # given back
    drawn = plain_text(screen.getvalue())
    assert drawn.count("a line from another plugin") == 1
    # Where the view was (erased: cursor up, erase line), a line of its own, then the view again.
    assert "\x1b[2Ka line from another plugin\n" in screen.getvalue()
    assert "a line from another plugin\n▶ REPLAY" in drawn
    assert drawn.rstrip().endswith("■ session ended after 00:01")


def test_no_color_turns_the_views_colours_off(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    view = LiveView(dict(DEFAULTS))
    assert view.console.no_color
