"""Ctrl-C, SIGTERM and closing the terminal all end a live call cleanly.

Three real ``voicecoach run`` processes capture the same live call at once from a
real PulseAudio server (the seller's "microphone" and the call's output are two
null sinks' monitors, a synthesized dialogue played into them): one runs in a
terminal (a pseudo-terminal) that gets Ctrl-C typed into it, one is sent SIGTERM
(a shutdown, ``kill``), one has its terminal closed (SIGHUP, after which every
write to the terminal fails). Each stops soon after with the log flushed: every
utterance its ``--jsonl`` witness saw is in the log, including those transcribed
after the signal, and the session is marked ended.
"""

import json
import os
import pty
import select
import signal
import sqlite3
import sys
import time

import pytest

from voicecoach import PROSPECT, SELLER
from voicecoach.synth import ScriptLine, synthesize_call

pytestmark = pytest.mark.slow

WAYS = ("ctrl-c", "sigterm", "terminal-closed")
UTTERANCES_BEFORE_STOP = 2

DIALOGUE = [
    ScriptLine(SELLER, "Hi Maria, thanks for taking the time today.", pause_before=0.3),
    ScriptLine(PROSPECT, "Happy to talk.", pause_before=0.6),
    ScriptLine(SELLER, "What do you use for your bookkeeping right now?", pause_before=0.6),
    ScriptLine(PROSPECT, "We use a spreadsheet, and it takes me hours every week.", pause_before=0.6),
    ScriptLine(SELLER, "Our software does the books for you, for forty dollars a month.", pause_before=0.7),
    ScriptLine(PROSPECT, "Honestly, that sounds too expensive for us right now.", pause_before=0.7),
]


class Call:
    """One ``voicecoach run`` capturing the live call, and how it is stopped."""

    def __init__(self, way, folder, pulse_server, profile):
        self.way = way
        self.db_path = str(folder / f"{way}.db")
        self.jsonl = str(folder / f"{way}.jsonl")
        self.command = [
            sys.executable, "-m", "voicecoach", "run", "--profile", profile, "--i-have-consent",
            "--seller-device", pulse_server.mic_monitor, "--prospect-device", pulse_server.call_monitor,
            "--db", self.db_path, "--jsonl", self.jsonl,
        ]
        self.environment = dict(os.environ, VOICECOACH_HOME=str(folder / f"{way}-home"), TERM="xterm-256color")
        self.environment.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.terminal = None  # this test's side of the run's terminal, when it has one
        self.pid = None
        self.returncode = None
        self.signalled_at = None
        self.ended_at = None

    def start(self):
        if self.way == "sigterm":  # a background run: no terminal at all
            pid = os.fork()
            if pid == 0:
                null = os.open(os.devnull, os.O_RDWR)
                for descriptor in (0, 1, 2):
                    os.dup2(null, descriptor)
                os.execve(sys.executable, self.command, self.environment)
        else:  # a terminal the run controls, as when a seller starts it in one
            pid, self.terminal = pty.fork()
            if pid == 0:
                os.execve(sys.executable, self.command, self.environment)
        self.pid = pid

    def events(self, name):
        if not os.path.exists(self.jsonl):
            return []
        with open(self.jsonl) as handle:
            return [json.loads(line) for line in handle if f'"event": "{name}"' in line]

    def stop(self):
        self.signalled_at = time.monotonic()
        if self.way == "sigterm":
            os.kill(self.pid, signal.SIGTERM)
        elif self.way == "ctrl-c":
            os.write(self.terminal, b"\x03")  # the terminal turns it into SIGINT
        else:
            os.close(self.terminal)  # the terminal window is closed
            self.terminal = None

    def drain(self):
        """Read what the run shows, as a terminal does (the run would block otherwise)."""
        while self.terminal is not None and select.select([self.terminal], [], [], 0)[0]:
            try:
                if not os.read(self.terminal, 65536):
                    return
            except OSError:
                return

    def poll(self) -> bool:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                self.ended_at = time.monotonic()
        return self.returncode is not None

    def close(self):
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if self.terminal is not None:
            os.close(self.terminal)


@pytest.fixture(scope="module")
def stopped_calls(pulse_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("shutdown")
    seller_wav, prospect_wav = str(folder / "seller.wav"), str(folder / "prospect.wav")
    synthesize_call(DIALOGUE, tail=0.5).write_mono_pair(seller_wav, prospect_wav)
    profile = folder / "call.yaml"
    profile.write_text("description: shutdown test\ncapture: two-way\n"
                       "plugins: {objections: {}, sqlite_log: {}, terminal: {}}\n")
    calls = {way: Call(way, folder, pulse_server, str(profile)) for way in WAYS}
    for call in calls.values():
        call.start()
    players = []
    capturing_since = None
    deadline = time.monotonic() + 150
    try:
        while not all(call.poll() for call in calls.values()):
            assert time.monotonic() < deadline, {way: call.returncode for way, call in calls.items()}
            for call in calls.values():
                call.drain()
            if capturing_since is None and all(call.events("session_started") for call in calls.values()):
                capturing_since = time.monotonic()
            if not players and capturing_since and time.monotonic() > capturing_since + 2:
                # One call, heard by all three once their streams have moved to their sources.
                players = [pulse_server.play(seller_wav, pulse_server.mic_sink),
                           pulse_server.play(prospect_wav, pulse_server.call_sink)]
            for call in calls.values():
                if call.signalled_at is None and len(call.events("transcript")) >= UTTERANCES_BEFORE_STOP:
                    call.stop()
            time.sleep(0.05)
    finally:
        for call in calls.values():
            call.close()
        for player in players:
            player.kill()
            player.wait()
    return calls


@pytest.mark.parametrize("way", WAYS)
def test_a_stopped_live_call_is_flushed_to_the_log_and_marked_ended(stopped_calls, way):
    call = stopped_calls[way]

    assert call.signalled_at is not None, "the call ended before it was stopped"
    assert call.returncode == 0
    assert call.ended_at - call.signalled_at < 20

    witnessed = call.events("transcript")
    [ended] = call.events("session_ended")
    connection = sqlite3.connect(call.db_path)
    try:
        assert connection.execute("pragma integrity_check").fetchone()[0] == "ok"
        [(session_id, status, ended_at, duration)] = connection.execute(
            "select id, status, ended_at, duration from sessions"
        ).fetchall()
        logged = [row[0] for row in connection.execute("select text from utterances order by rowid")]
    finally:
        connection.close()
    assert status == "ended" and ended_at is not None
    assert ended["status"] == "ended" and ended["session_id"] == session_id
    assert duration >= max(event["end"] for event in witnessed)
    # Nothing delivered is missing, including what was transcribed after the signal.
    assert logged == [event["text"] for event in witnessed]
    assert len(logged) >= UTTERANCES_BEFORE_STOP


class StallingDevice:
    """A live source that delivers two seconds of a quiet room and then nothing, the way
    a suspended or unplugged device goes silent without an error."""

    speakers = (SELLER, PROSPECT)
    live = True

    def __init__(self):
        import threading

        self.stopped = threading.Event()

    def chunks(self):
        import numpy as np

        from voicecoach.audio import AudioChunk

        for second in range(2):
            for speaker in self.speakers:
                yield AudioChunk(speaker, np.zeros(16000, np.float32) + 1e-4, float(second), time.monotonic())
        self.stopped.wait(120)

    def stop(self):
        self.stopped.set()

    def describe(self):
        return "a device that stalls"


@pytest.mark.parametrize("way", ["ctrl-c pending", "q, SIGINT ignored"])
def test_q_stops_a_call_whose_audio_stopped_arriving(tmp_path, way):
    """Ctrl-C's handler left pending (a signal taken by another thread, q before the
    pipeline existed) must still run once no audio arrives to wake the main thread;
    q must work in a run started with SIGINT ignored, as nohup and background jobs are."""
    import _thread
    import threading

    from voicecoach.coach import _stop_on_signals
    from voicecoach.keys import CallControls
    from voicecoach.pipeline import Pipeline
    from voicecoach.testing import make_profile

    source = StallingDevice()
    pipeline = Pipeline(source, None, make_profile([]), db_path=str(tmp_path / "log.db"))
    if way == "ctrl-c pending":
        press, sigint = _thread.interrupt_main, signal.default_int_handler
    else:
        controls = CallControls()
        controls.pipeline = pipeline
        press, sigint = (lambda: controls.key("q")), signal.SIG_IGN
    # Pressed once the audio has stopped.
    threading.Timer(3.0, press).start()
    started = time.monotonic()
    before = signal.signal(signal.SIGINT, sigint)
    try:
        with _stop_on_signals(pipeline):
            summary = pipeline.run()
    finally:
        signal.signal(signal.SIGINT, before)
    assert source.stopped.is_set()
    assert time.monotonic() - started < 10, "q ended the call within seconds"
    assert summary.status == "ended"
