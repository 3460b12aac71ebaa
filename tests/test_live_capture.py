"""Live two-way capture from a real PulseAudio server, no mocks.

A dialogue is played into two null sinks with paplay (seller lines into the
"microphone" sink, prospect lines into the "call" sink) while VoiceCoach captures
both monitor sources through sounddevice.
"""

import os
import pty
import subprocess
import sys
import termios
import threading
import time
import wave

import numpy as np
import pytest

import voicecoach

from voicecoach import PROSPECT, SELLER
from voicecoach.coach import coach_live
from voicecoach.synth import ScriptLine, synthesize_call
from voicecoach.testing import CallRecorder, make_profile

pytestmark = pytest.mark.slow

DIALOGUE = [
    ScriptLine(SELLER, "Hi Maria, thanks for taking the time today.", pause_before=0.3),
    ScriptLine(PROSPECT, "Happy to talk.", pause_before=0.6),
    ScriptLine(SELLER, "What do you use for your bookkeeping right now?", pause_before=0.6),
    ScriptLine(PROSPECT, "We use a spreadsheet, and it takes me hours every week.", pause_before=0.6),
    ScriptLine(SELLER, "Our software does the books for you automatically, for forty dollars a month.", pause_before=0.7),
    ScriptLine(PROSPECT, "Honestly, that sounds too expensive for us right now.", pause_before=0.7),
    ScriptLine(SELLER, "I understand. How much is your time worth each week?", pause_before=0.9),
]


def CallWatcher(play):
    """Records the session and starts playback once both streams have opened."""
    return CallRecorder(on_start=play, start_delay=1.0)


def two_way_profile():
    return make_profile({"objections": {}, "sqlite_log": {}}, arbitration={"min_interval": 0, "cooldown": 0})


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dialogue")
    call = synthesize_call(DIALOGUE, tail=0.5)
    seller, prospect = str(folder / "seller.wav"), str(folder / "prospect.wav")
    call.write_mono_pair(seller, prospect)
    return call, seller, prospect


def test_live_call_is_captured_per_speaker_and_coached_in_time(pulse_server, dialogue, transcriber, db_path):
    call, seller_wav, prospect_wav = dialogue
    players = []
    watcher = CallWatcher(lambda: players.extend([
        pulse_server.play(seller_wav, pulse_server.mic_sink),
        pulse_server.play(prospect_wav, pulse_server.call_sink),
    ]))
    summary = coach_live(
        two_way_profile(),
        seller_device=pulse_server.mic_monitor,
        prospect_device=pulse_server.call_monitor,
        duration=call.duration + 3.0,
        transcriber=transcriber,
        plugins=[watcher],
        db_path=db_path,
    )
    for player in players:
        player.wait(timeout=10)

    said = {speaker: watcher.said(speaker) for speaker in (SELLER, PROSPECT)}
    assert "maria" in said[SELLER] and "software" in said[SELLER]
    assert "spreadsheet" in said[PROSPECT] and "expensive" in said[PROSPECT]
    assert "software" not in said[PROSPECT] and "spreadsheet" not in said[SELLER]  # no cross-talk

    objection_line = next(line for line in call.lines if "expensive" in line.text)
    price = [(at, p) for at, p in watcher.prompts if p.kind == "objection.price"]
    assert len(price) == 1
    delivered_at, prompt = price[0]
    words_ended_at = watcher.started_at + objection_line.end
    # A partial transcript may bring the prompt before the prospect has finished.
    assert watcher.started_at + objection_line.start < delivered_at < words_ended_at + 1.5, (
        delivered_at - words_ended_at
    )

    truth = {speaker: sum(l.duration for l in call.lines if l.speaker == speaker) for speaker in (SELLER, PROSPECT)}
    true_share = truth[SELLER] / (truth[SELLER] + truth[PROSPECT])
    measured_share = summary.talk_seconds[SELLER] / (summary.talk_seconds[SELLER] + summary.talk_seconds[PROSPECT])
    assert abs(measured_share - true_share) < 0.05, (measured_share, true_share)


class HealthWatcher:
    """Notes each channel's health state as the call goes."""

    def __init__(self):
        self.states = []

    @voicecoach.hookimpl
    def clock_tick(self, session, now):
        self.states.append({channel["speaker"]: channel["state"] for channel in session.channel_health()})


def test_prospect_device_removed_mid_call_goes_on_with_the_microphone(pulse_server, dialogue, transcriber, db_path):
    call, seller_wav, prospect_wav = dialogue
    sink = f"vc_gone_{int(time.time())}"
    module = pulse_server.load_sink(sink)
    warnings = []

    def play_and_unplug():
        players = [pulse_server.play(seller_wav, pulse_server.mic_sink), pulse_server.play(prospect_wav, sink)]
        time.sleep(call.lines[2].start)  # the prospect's side vanishes before the seller's question
        pulse_server.unload(module)
        players[0].wait(timeout=30)

    watcher = CallWatcher(play_and_unplug)
    health = HealthWatcher()
    summary = coach_live(
        two_way_profile(),
        seller_device=pulse_server.mic_monitor,
        prospect_device=f"{sink}.monitor",
        duration=call.duration + 3.0,
        transcriber=transcriber,
        plugins=[watcher, health],
        db_path=db_path,
        warn=warnings.append,
    )
    assert summary.status == "ended"
    assert any("disappeared" in w and sink in w for w in warnings), warnings
    assert any(state.get(PROSPECT) == "lost" for state in health.states), health.states
    seller_text = watcher.said(SELLER)
    assert "software" in seller_text  # said after the prospect's device was gone
    prospect_text = watcher.said(PROSPECT)
    assert "software" not in prospect_text  # the seller never leaks into the lost channel
    logged = voicecoach.open_log(db_path)["utterances"].count
    assert logged == summary.utterances > 0


def test_a_silent_prospect_channel_raises_the_health_warning(pulse_server, dialogue, transcriber, db_path):
    call, seller_wav, _ = dialogue
    warnings = []
    health = HealthWatcher()
    watcher = CallWatcher(lambda: pulse_server.play(seller_wav, pulse_server.mic_sink))
    coach_live(
        two_way_profile(),
        seller_device=pulse_server.mic_monitor,
        prospect_device=pulse_server.call_monitor,
        duration=8.0,
        transcriber=transcriber,
        plugins=[watcher, health],
        db_path=db_path,
        warn=warnings.append,
        source_options={"silent_channel_seconds": 5.0},
    )
    assert any("prospect channel" in w and "silent" in w for w in warnings), warnings
    assert health.states[0] == {SELLER: "listening", PROSPECT: "listening"}
    assert health.states[-1] == {SELLER: "listening", PROSPECT: "silent"}


def test_q_stops_a_live_call_cleanly_and_record_keeps_both_sides(pulse_server, dialogue, tmp_path, db_path):
    """The CLI as a seller runs it: a terminal on stdin, q to stop, --record to keep the audio."""
    call, seller_wav, prospect_wav = dialogue
    recording = tmp_path / "call.wav"
    leader, follower = pty.openpty()
    terminal_before = termios.tcgetattr(follower)
    process = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "run", "--profile", "zoom", "--i-have-consent",
         "--seller-device", pulse_server.mic_monitor, "--prospect-device", pulse_server.call_monitor,
         "--record", str(recording), "--db", db_path],
        stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("LIVE" in line for line in lines):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.1)
    time.sleep(1.5)  # both streams open and move to their sources
    players = [pulse_server.play(seller_wav, pulse_server.mic_sink), pulse_server.play(prospect_wav, pulse_server.call_sink)]
    for player in players:
        player.wait(timeout=60)
    time.sleep(1.5)
    os.write(leader, b"+")  # the prompt on screen was useful
    time.sleep(0.5)
    os.write(leader, b"q")
    assert process.wait(timeout=20) == 0, process.stderr.read()
    reader.join(timeout=5)
    output = "".join(lines)
    assert "session ended" in output and "Session" in output
    assert termios.tcgetattr(follower) == terminal_before  # the terminal is given back as it was
    os.close(leader), os.close(follower)

    db = voicecoach.open_log(db_path, create=False)
    [session] = db["sessions"].rows
    assert session["status"] == "ended"
    prospect_said = " ".join(row["text"].lower() for row in db["utterances"].rows_where("speaker = ?", [PROSPECT]))
    assert "expensive" in prospect_said
    [rating] = db["prompt_feedback"].rows
    assert rating["useful"] == 1 and rating["prompt_id"] in {row["id"] for row in db["prompts"].rows}
    assert "+ marked useful" in output

    with wave.open(str(recording)) as audio:
        assert (audio.getnchannels(), audio.getframerate()) == (2, 16000)
        frames = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2").reshape(-1, 2) / 32768
    assert len(frames) / 16000 > call.duration
    # Each side's speech is on its own channel: find the loudest second of each.
    seller_part, prospect_part = frames[:, 0], frames[:, 1]
    assert rms(seller_part) > 0.01 and rms(prospect_part) > 0.01
    loudest_seller = np.argmax(np.abs(seller_part))
    assert abs(prospect_part[loudest_seller]) < 0.01


def rms(samples):
    return float(np.sqrt(np.mean(np.square(samples))))


def test_the_prospect_heard_through_the_mic_is_not_attributed_to_the_seller(pulse_server, dialogue, tmp_path, transcriber, db_path):
    """Speakers instead of headphones: the microphone also picks up the prospect, 12 dB down."""
    from voicecoach.synth import write_audio

    call, _, prospect_wav = dialogue
    leaked = np.concatenate([np.zeros(640, np.float32), call.prospect[:-640]]) * 10 ** (-12 / 20)  # 40 ms later
    microphone_wav = str(tmp_path / "microphone.wav")
    write_audio(microphone_wav, (call.seller + leaked)[:, None], call.rate)
    watcher = CallWatcher(lambda: [
        pulse_server.play(microphone_wav, pulse_server.mic_sink),
        pulse_server.play(prospect_wav, pulse_server.call_sink),
    ])
    summary = coach_live(
        two_way_profile(),
        seller_device=pulse_server.mic_monitor,
        prospect_device=pulse_server.call_monitor,
        duration=call.duration + 3.0,
        transcriber=transcriber,
        plugins=[watcher],
        db_path=db_path,
    )
    seller, prospect = watcher.said(SELLER), watcher.said(PROSPECT)
    assert "software" in seller and "spreadsheet" in prospect and "expensive" in prospect
    assert "spreadsheet" not in seller and "expensive" not in seller
    assert [p.trigger.speaker for p in watcher.prompts_of("objection.price")] == [PROSPECT]
    truth = {speaker: sum(l.duration for l in call.lines if l.speaker == speaker) for speaker in (SELLER, PROSPECT)}
    share = summary.talk_seconds[SELLER] / (summary.talk_seconds[SELLER] + summary.talk_seconds[PROSPECT])
    assert abs(share - truth[SELLER] / sum(truth.values())) < 0.05, share
