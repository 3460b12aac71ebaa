"""What would make one decode cheaper? Decode time and word error rate of the
benchmark's utterances under settings the transcriber could change.

Cuts every line of the benchmark's calls out of its channel (with the 0.2 s pad
the endpointer keeps) and decodes each clip with the embedded tiny.en:

* ``threads 2`` / ``threads 1``: ``cpu_threads`` of the CTranslate2 model (the
  transcriber uses min(4, cores));
* ``beam 5``: beam search instead of greedy decoding;
* ``previous text as prompt``: the speaker's previous decoded text as
  ``initial_prompt`` (context, as whole-file transcription has);
* ``batch of 2``: two clips (one per channel, as when both sides finish at once)
  encoded and decoded as one batch, against the same two one after the other;
* ``audio_ctx N s``: the encoder fed N seconds of features instead of Whisper's
  30 s padding (whisper.cpp's ``audio_ctx``), when CTranslate2 accepts it.

    python benchmarks/decode_options.py

The machine's load average is printed: on a busy machine the times are noisy.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import numpy as np

from voicecoach.bench import CALL_SET, load_average, prepare, word_errors, words_of
from voicecoach.default_plugins.faster_whisper_transcriber import embedded_model_path

PAD = 0.2
OPTIONS = dict(language="en", beam_size=1, without_timestamps=True, condition_on_previous_text=False,
               vad_filter=False)


def clips():
    folder = tempfile.mkdtemp(prefix="voicecoach-decode-")
    for spec in CALL_SET:
        call = prepare(spec, folder)
        audio = call.audio()
        for line in call.lines:
            samples = audio[line.speaker]
            begin, end = round((line.start - PAD) * 16000), round((line.end + PAD) * 16000)
            yield line, samples[max(0, begin):end]


def wer(pairs) -> float:
    errors = sum(word_errors(words_of(reference), words_of(heard)) for reference, heard in pairs)
    return errors / sum(len(words_of(reference)) for reference, _ in pairs)


def transcribe(model, samples, **options) -> str:
    segments, _ = model.transcribe(samples, **{**OPTIONS, **options})
    return " ".join(segment.text.strip() for segment in segments)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def batch_decode(model, pair) -> list[str]:
    """Encode two clips as one batch and decode them greedily together."""
    from faster_whisper.tokenizer import Tokenizer

    tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
    features = [model.feature_extractor(samples)[:, :3000] for samples in pair]
    features = np.stack([np.pad(f, ((0, 0), (0, 3000 - f.shape[1]))) for f in features])
    encoded = model.encode(features)
    prompt = model.get_prompt(tokenizer, [], without_timestamps=True)
    results = model.model.generate(encoded, [prompt] * len(pair), beam_size=1, max_length=224,
                                   suppress_blank=True, suppress_tokens=[-1])
    return [tokenizer.decode([t for t in r.sequences_ids[0] if t < tokenizer.eot]) for r in results]


def short_context_decode(model, samples, seconds: float) -> str:
    from faster_whisper.tokenizer import Tokenizer

    tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
    frames = int(seconds * 100)
    features = model.feature_extractor(samples)[:, :frames]
    features = np.pad(features, ((0, 0), (0, frames - features.shape[1])))
    encoded = model.encode(features)
    prompt = model.get_prompt(tokenizer, [], without_timestamps=True)
    [result] = model.model.generate(encoded, [prompt], beam_size=1, max_length=224, suppress_blank=True,
                                    suppress_tokens=[-1])
    return tokenizer.decode([t for t in result.sequences_ids[0] if t < tokenizer.eot])


def main():
    from faster_whisper import WhisperModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data = [(line, samples) for line, samples in clips() if line.kind != "backchannel"]
    print(f"{len(data)} clips, {sum(len(s) for _, s in data) / 16000:.0f} s of speech; "
          f"{os.cpu_count()} cores; load average {load_average()}")
    models = {threads: WhisperModel(embedded_model_path(), device="cpu", compute_type="int8", cpu_threads=threads)
              for threads in (2, 1)}
    for model in models.values():
        transcribe(model, np.zeros(8000, np.float32))
    print(f"{'setting':<28} {'decode p50 ms':>13} {'mean':>6} {'p95':>6} {'WER %':>6}")

    def report(name, times, pairs):
        ordered = sorted(times)
        print(f"{name:<28} {1000 * statistics.median(ordered):13.0f} {1000 * statistics.mean(ordered):6.0f} "
              f"{1000 * ordered[int(0.95 * (len(ordered) - 1))]:6.0f} {100 * wer(pairs):6.1f}", flush=True)

    for threads, model in models.items():
        times, pairs = [], []
        for line, samples in data:
            text, seconds = timed(transcribe, model, samples)
            times.append(seconds)
            pairs.append((line.text, text))
        report(f"threads {threads}", times, pairs)

    model = models[2]
    times, pairs = [], []
    for line, samples in data:
        text, seconds = timed(lambda: transcribe(model, samples, beam_size=5))
        times.append(seconds)
        pairs.append((line.text, text))
    report("beam 5", times, pairs)

    times, pairs, previous = [], [], {}
    for line, samples in data:
        prompt = previous.get(line.speaker)
        text, seconds = timed(lambda: transcribe(model, samples, initial_prompt=prompt))
        previous[line.speaker] = text
        times.append(seconds)
        pairs.append((line.text, text))
    report("previous text as prompt", times, pairs)

    prospects = [(l, s) for l, s in data if l.speaker == "prospect"]
    sellers = [(l, s) for l, s in data if l.speaker == "seller"]
    sequential, batched, pairs = [], [], []
    for (pl, ps), (sl, ss) in zip(prospects, sellers):
        _, one = timed(transcribe, model, ps)
        _, two = timed(transcribe, model, ss)
        sequential.append(one + two)
        texts, seconds = timed(batch_decode, model, (ps, ss))
        batched.append(seconds)
        pairs += [(pl.text, texts[0]), (sl.text, texts[1])]
    print(f"two clips, one after the other: mean {1000 * statistics.mean(sequential):.0f} ms; "
          f"as one batch of 2: mean {1000 * statistics.mean(batched):.0f} ms; batch WER {100 * wer(pairs):.1f} %")

    full = {id(samples): timed(transcribe, model, samples) for _, samples in data}
    for seconds in (None, 10.0, 15.0):
        times, pairs, full_times, full_pairs = [], [], [], []
        try:
            for line, samples in data:
                length = len(samples) / 16000
                context = seconds or min(30.0, float(np.ceil(length + 1.0)))
                if length > context - 0.5:
                    continue
                text, took = timed(short_context_decode, model, samples, context)
                times.append(took)
                pairs.append((line.text, text))
                full_text, full_took = full[id(samples)]
                full_times.append(full_took)
                full_pairs.append((line.text, full_text))
        except Exception as error:  # CTranslate2 may insist on 30 s of features
            print(f"audio_ctx {seconds:g} s: not accepted ({type(error).__name__}: {error})")
            continue
        name = f"audio_ctx {seconds:g} s" if seconds else "audio_ctx clip + 1 s"
        report(f"{name} ({len(times)} clips)", times, pairs)
        report("  the same clips at 30 s", full_times, full_pairs)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    sys.exit(main())
