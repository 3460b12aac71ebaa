"""The objection model: one small network that reads a sentence for its meaning.

``objection-model.onnx`` is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0)
fine-tuned on ``examples/*.yaml`` (written, and as heard by the speech model:
``hearing.py``) by ``training.py`` to tell the objection
categories and "no objection" apart, then stored as int8 for onnxruntime (which
comes with faster-whisper). Its WordPiece vocabulary (bert-base-uncased's, the
same licence) ships beside it as ``vocab.txt``. Nothing is downloaded, ever.

For a sentence it gives two things: the probability of each category, and a
unit-length meaning vector, used to compare an utterance with a user's own
example sentences. One sentence takes about 3-5 ms on one core.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

MODEL_FILE = "objection-model.onnx"
# Prospect utterances are short; longer ones are cut here (the model saw 64 at most).
MAX_TOKENS = 128


class EncoderUnavailable(RuntimeError):
    """The objection model cannot be loaded; the message says what to do."""


@dataclass(frozen=True)
class Reading:
    """What the model made of one sentence."""

    probabilities: dict[str, float]
    vector: np.ndarray


def model_path() -> Path:
    return Path(str(files(__package__).joinpath(MODEL_FILE)))


def vocabulary_path() -> Path:
    return Path(str(files(__package__).joinpath("vocab.txt")))


@functools.lru_cache(maxsize=1)
def shared_model() -> "ObjectionModel":
    """One model per process: every call's coach shares it."""
    return ObjectionModel(model_path(), vocabulary_path())


class ObjectionModel:
    def __init__(self, model: Path, vocabulary: Path, threads: int = 1):
        # Imported here: a profile without the objections plugin never pays for them.
        import onnxruntime
        from tokenizers import BertWordPieceTokenizer

        for path in (model, vocabulary):
            if not path.is_file():
                raise EncoderUnavailable(f"{path} is missing; reinstall voicecoach")
        self.tokenizer = BertWordPieceTokenizer(str(vocabulary), lowercase=True)
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        # One thread: speech recognition needs the other core, and a sentence is small.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The arena keeps the largest batch's buffers for the process's life; a call
        # only ever sends one sentence at a time.
        options.enable_cpu_mem_arena = False
        try:
            self.session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise EncoderUnavailable(f"{model} cannot be loaded ({type(error).__name__}); reinstall voicecoach") from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.categories = metadata["categories"].split(",")
        self.examples_digest = metadata.get("examples_digest", "")
        self._lock = threading.Lock()

    def read(self, texts: list[str]) -> list[Reading]:
        if not texts:
            return []
        encodings = self.tokenizer.encode_batch(list(texts))
        length = max(len(encoding.ids) for encoding in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        with self._lock:
            probabilities, vectors = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return [
            Reading(dict(zip(self.categories, map(float, row))), vector.astype(np.float32))
            for row, vector in zip(probabilities, vectors)
        ]

    def vectors(self, texts: list[str]) -> np.ndarray:
        readings = self.read(texts)
        return np.stack([reading.vector for reading in readings]) if readings else np.zeros((0, 384), np.float32)
