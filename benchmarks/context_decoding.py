"""How much does hearing an utterance in context help, and what does it cost?

Coaches the benchmark's three calls once at full speed (`run --input`), keeps the
audio of every final utterance as the pipeline cut it, and decodes those same clips
again, one at a time in call order, under each setting: the engine as shipped but
with no context, then with the same speaker's last utterances (up to N seconds,
whole ones, a short silence between them) put before the clip and their text forced
as the decoder's prefix (`EncoderWindowTranscriber`'s ``context_seconds``), with
beam search or greedy. Prints the word error rate against the script (the
benchmark's own normalisation and alignment) and the total decode time.

    python benchmarks/context_decoding.py            # about 3 minutes on 2 cores

The clips are the pipeline's, so only the decoding differs from row to row; the
machine's load average is printed, since times are noisy on a busy machine.
"""

from __future__ import annotations

import tempfile
import time

from voicecoach.bench import CALL_SET, Heard, Score, load_average, prepare, run_coach, score
from voicecoach.default_plugins.faster_whisper_transcriber import faster_whisper
from voicecoach.transcription import EncoderWindowTranscriber, Said

SETTINGS = [  # (label, beam size, context seconds)
    ("no context, beam 5 (before)", 5, 0.0),
    ("context 2 s, beam 5", 5, 2.0),
    ("context 4 s, beam 5", 5, 4.0),
    ("context 6 s, beam 5 (shipped)", 5, 6.0),
    ("context 8 s, beam 5", 5, 8.0),
    ("no context, greedy (--fast)", 1, 0.0),
    ("context 6 s, greedy", 1, 6.0),
]


class KeepsClips:
    """The shipped engine, keeping each clip it is given with the text it returned."""

    def __init__(self, engine):
        self.engine, self.description, self.clips = engine, engine.description, []

    def warm_up(self):
        self.engine.warm_up()

    def transcribe(self, samples, context=()):
        result = self.engine.transcribe(samples, context=context)
        self.clips.append((samples.copy(), result.text.strip()))
        return result


def pipeline_clips(engine):
    """Per call: the call, and its final utterances as (speaker, start, end, samples)."""
    folder = tempfile.mkdtemp(prefix="voicecoach-context-")
    for spec in CALL_SET:
        call = prepare(spec, folder)
        keeper = KeepsClips(engine)
        run = run_coach(call, keeper, {}, realtime=False)
        by_text = {text: samples for samples, text in keeper.clips}
        finals = [(h.speaker, h.start, h.end, by_text[h.text.strip()]) for h in run.heard if h.text.strip() in by_text]
        yield call, sorted(finals, key=lambda final: final[1])


def main():
    shipped = faster_whisper()
    shipped.warm_up()
    calls = list(pipeline_clips(shipped))
    utterances = sum(len(finals) for _, finals in calls)
    print(f"{utterances} utterances of {len(calls)} calls, cut by the pipeline; load average {load_average()}")
    print(f"{'setting':32} {'WER %':>6} {'decode s':>9}")
    for label, beam, context_seconds in SETTINGS:
        engine = EncoderWindowTranscriber(shipped.engine, shipped.encoder_window, beam, context_seconds)
        total, seconds = Score(), 0.0
        for call, finals in calls:
            heard, said = [], {}
            for speaker, start, end, samples in finals:
                began = time.monotonic()
                text = engine.transcribe(samples, context=tuple(said.get(speaker, ()))).text
                seconds += time.monotonic() - began
                heard.append(Heard(speaker, start, end, text, end))
                if text.strip():
                    said.setdefault(speaker, []).append(Said(samples, text))
            total.add(score(call.lines, heard))
        print(f"{label:32} {100 * total.wer:6.1f} {seconds:9.1f}", flush=True)
    print(f"load average {load_average()}")


if __name__ == "__main__":
    main()
