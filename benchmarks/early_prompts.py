"""How much sooner do early decoding and partial transcripts bring a prompt, and at what CPU cost?

Plays the bundled demo call (106 s, 36 lines, seven objections) three times at the
pace of a real call and coaches it with the default profile's objection coach:

* final only        - decode each utterance after the full end-of-speech silence;
* early decoding    - start decoding at the first short silence (the default);
* early + partials  - also transcribe long utterances once a second (the default).

By default the call goes through a private PulseAudio server (the prospect's side
played into a null sink and captured from its monitor, exactly like a live call);
``--replay`` paces the file instead and needs no audio server.

    python benchmarks/early_prompts.py            # live, about 6 minutes
    python benchmarks/early_prompts.py --replay

It prints, per configuration, the time from the end of each objection's words (the
known schedule of the demo) to its prompt, p50/p95/max, and the process CPU time
as a share of one core and of the whole machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))  # the private PulseAudio server

from voicecoach import PROSPECT  # noqa: E402
from voicecoach.coach import coach_live, coach_recording  # noqa: E402
from voicecoach.default_plugins.faster_whisper_transcriber import FasterWhisperTranscriber  # noqa: E402
from voicecoach.demo import demo_audio_path, demo_timing  # noqa: E402
from voicecoach.report import percentile  # noqa: E402
from voicecoach.testing import CallRecorder, make_profile  # noqa: E402

CONFIGURATIONS = {
    "final only": {"early_silence": 0, "partial_every": 0},
    "early decoding": {"partial_every": 0},
    "early + partials": {},
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def split_channels(folder: str) -> tuple[str, str]:
    seller, prospect = os.path.join(folder, "seller.wav"), os.path.join(folder, "prospect.wav")
    for path, channel in ((seller, "1"), (prospect, "2")):
        subprocess.run(["sox", demo_audio_path(), "-r", "16000", path, "remix", channel], check=True)
    return seller, prospect


def run_once(endpointing: dict, transcriber, live_server=None, files=None):
    profile = make_profile(["objections"])
    profile.endpointing = endpointing
    if live_server is None:
        recorder = CallRecorder()
        started_cpu, started = cpu_seconds(), time.monotonic()
        summary = coach_recording(
            profile, input=demo_audio_path(), realtime=True, transcriber=transcriber, plugins=[recorder]
        )
    else:
        seller, prospect = files
        players = []
        recorder = CallRecorder(
            on_start=lambda: players.extend([
                live_server.play(seller, live_server.mic_sink), live_server.play(prospect, live_server.call_sink),
            ]),
            start_delay=2.0,
        )
        started_cpu, started = cpu_seconds(), time.monotonic()
        summary = coach_live(
            profile,
            seller_device=live_server.mic_monitor,
            prospect_device=live_server.call_monitor,
            duration=demo_timing().duration + 4.0,
            transcriber=transcriber,
            plugins=[recorder],
        )
        for player in players:
            player.wait(timeout=30)
    return summary, recorder, cpu_seconds() - started_cpu, time.monotonic() - started


def objection_latencies(recorder: CallRecorder, live: bool) -> list[float]:
    """Seconds from the end of each objection's words (the schedule) to its prompt."""
    timing = demo_timing()
    # The monotonic instant of session time 0, from when each utterance's last audio arrived.
    session_zero = statistics.median(u.timing.speech_ended_at - u.end for u in recorder.utterances)
    schedule_zero = recorder.started_at if live else session_zero
    latencies = []
    for delivered_at, prompt in recorder.prompts:
        if not prompt.kind.startswith("objection.") or prompt.trigger is None:
            continue
        trigger_start = session_zero + prompt.trigger.start - schedule_zero  # in schedule time
        line = min(
            (line for line in timing.lines if line.speaker == PROSPECT),
            key=lambda line: abs(line.start - trigger_start),
        )
        latencies.append(delivered_at - (schedule_zero + line.end))
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replay", action="store_true", help="pace the file instead of capturing live")
    arguments = parser.parse_args()
    transcriber = FasterWhisperTranscriber()
    transcriber.warm_up()
    server, files, folder = None, None, tempfile.mkdtemp()
    if not arguments.replay:
        from audio_server import PulseServer

        server = PulseServer().start()
        files = split_channels(folder)
    cores = os.cpu_count() or 1
    print(f"demo call, {demo_timing().duration:.0f} s, {'live through PulseAudio' if server else 'paced replay'}, "
          f"{cores} cores, embedded tiny.en")
    print(f"{'configuration':<18} {'objections':>10} {'p50 s':>7} {'p95 s':>7} {'max s':>7} "
          f"{'CPU % core':>10} {'CPU % machine':>13} {'partials':>8} {'capture->VAD p95 ms':>19}")
    try:
        for name, endpointing in CONFIGURATIONS.items():
            summary, recorder, cpu, wall = run_once(endpointing, transcriber, server, files)
            latencies = objection_latencies(recorder, live=server is not None)
            figures = (
                f"{percentile(latencies, 0.5):7.2f} {percentile(latencies, 0.95):7.2f} {max(latencies):7.2f}"
                if latencies else f"{'-':>7} {'-':>7} {'-':>7}"
            )
            capture = summary.stats.get("capture_to_vad_p95")
            print(
                f"{name:<18} {len(latencies):>10} {figures} {100 * cpu / wall:10.1f} "
                f"{100 * cpu / wall / cores:13.1f} {summary.stats['partials']:>8} "
                f"{'-' if capture is None else f'{1000 * capture:.0f}':>19}",
                flush=True,
            )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
