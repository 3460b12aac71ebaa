"""How many threads per decode, and how many decodes at once?

CTranslate2 runs each decode on ``cpu_threads`` threads, and up to ``num_workers``
decodes at once on replicas sharing the model's weights. This decodes the
pipeline's clips of the benchmark's three calls (as `context_decoding.py` cuts
them), each speaker in call order with context, under each setting, one at a
time or one speaker per thread; then coaches the benchmark's 10-minute call with
`run --input` (no pacing) under each setting. Prints seconds, real-time factors
and word error rates.

    python benchmarks/threads_and_workers.py      # about 6 minutes on 2 cores

Run it on a quiet machine: threads that wait for each other suffer most from a
busy one.
"""

from __future__ import annotations

import tempfile
import threading
import time

from context_decoding import pipeline_clips

from voicecoach.bench import Score, load_average, long_call, prepare, run_coach
from voicecoach.default_plugins.faster_whisper_transcriber import FasterWhisperTranscriber, faster_whisper
from voicecoach.transcription import EncoderWindowTranscriber, Said

SETTINGS = [  # (threads per decode, workers, speakers decoded in parallel)
    (2, 1, False),
    (1, 1, False),
    (1, 2, True),
    (2, 2, True),
]


def speaker_streams(calls):
    """Each call's clips per speaker, in call order."""
    streams: dict = {}
    for call, finals in calls:
        for final in finals:
            streams.setdefault((call.name, final[0]), []).append(final[3])
    return streams


def decode_in_order(engine, clips):
    said = []
    for samples in clips:
        text = engine.transcribe(samples, context=tuple(said)).text
        if text.strip():
            said.append(Said(samples, text))


def time_clips(streams, threads: int, workers: int, parallel: bool) -> float:
    engine = EncoderWindowTranscriber(FasterWhisperTranscriber(threads=threads, workers=workers))
    engine.warm_up()
    started = time.monotonic()
    if parallel:
        groups = {}
        for (_, speaker), clips in streams.items():
            groups.setdefault(speaker, []).append(clips)
        runners = [threading.Thread(target=lambda g=group: [decode_in_order(engine, c) for c in g])
                   for group in groups.values()]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join()
    else:
        for clips in streams.values():
            decode_in_order(engine, clips)
    return time.monotonic() - started


def main():
    shipped = faster_whisper()
    shipped.warm_up()
    streams = speaker_streams(list(pipeline_clips(shipped)))
    print(f"{sum(len(c) for c in streams.values())} clips of the call set; load average {load_average()}")
    print(f"{'threads':>7} {'workers':>7} {'speakers':>9} {'clips s':>8}")
    for threads, workers, parallel in SETTINGS:
        seconds = time_clips(streams, threads, workers, parallel)
        print(f"{threads:7} {workers:7} {'parallel' if parallel else 'in turn':>9} {seconds:8.1f}", flush=True)
    call = prepare(long_call("offline", 10, seed=10), tempfile.mkdtemp(prefix="voicecoach-threads-"))
    print(f"\n`run --input` on the 10-minute call ({call.duration:.0f} s); the replay decodes speakers in "
          "parallel when there are 2 workers")
    print(f"{'threads':>7} {'workers':>7} {'seconds':>8} {'x real time':>12} {'WER %':>6}")
    for threads, workers, _ in SETTINGS[:1] + SETTINGS[2:]:
        engine = faster_whisper(threads=threads, workers=workers)
        engine.warm_up()
        run = run_coach(call, engine, {}, realtime=False)
        total = Score()
        total.add(run.score)
        print(f"{threads:7} {workers:7} {run.wall:8.1f} {call.duration / run.wall:12.1f} {100 * total.wer:6.1f}",
              flush=True)
    print(f"load average {load_average()}")


if __name__ == "__main__":
    main()
