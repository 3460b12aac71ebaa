"""Speech to text: the interface engines implement, the short encoder window that
makes Whisper's decodes cheap, and filtering of what engines invent.

Whisper-family models hallucinate on silence and noise ("Thank you for
watching", a phrase looping). Those never become transcript lines.
"""

from __future__ import annotations

import inspect
import re
import zlib
from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import numpy as np

from .audio import SAMPLE_RATE


class ModelError(Exception):
    """A speech model that cannot be found or loaded; the message says what to do."""


@dataclass
class Transcription:
    text: str
    # Mean token log probability; lower means less sure.
    confidence: Optional[float] = None
    # The engine's probability that the audio held no speech at all.
    no_speech_probability: Optional[float] = None


@dataclass
class Said:
    """One earlier utterance of the same speaker: its audio and the text heard in it."""

    samples: np.ndarray
    text: str


class Transcriber(Protocol):
    """A speech-to-text engine, registered with ``register_transcribers``."""

    #: Shown in ``voicecoach run`` output and stored with each session.
    description: str

    #: Optional: how many ``transcribe`` calls may run at once from different threads
    #: (1 when absent). With 2 or more, a recording replayed as fast as it goes decodes
    #: each speaker on a thread of their own.
    concurrent_decodes: int

    def transcribe(self, samples: np.ndarray, context: Sequence[Said] = ()) -> Transcription:
        """Transcribe one utterance of 16 kHz mono float32 audio.

        ``context`` is optional for an engine to accept: the same speaker's last
        utterances, oldest first, which an engine may use to hear this one better. The
        text returned is this utterance's alone. Engines whose ``transcribe`` takes no
        ``context`` argument are called without it."""

    def warm_up(self) -> None:
        """Pay one-off costs (first decode) before audio arrives."""


def _comparable(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def takes_context(transcriber) -> bool:
    """Whether ``transcriber.transcribe`` accepts the speaker's earlier utterances."""
    try:
        return "context" in inspect.signature(transcriber.transcribe).parameters
    except (TypeError, ValueError):
        return False


def transcribe_in_context(transcriber, samples: np.ndarray, context: Sequence[Said] = ()) -> Transcription:
    """``transcriber.transcribe(samples)``, with ``context`` where the engine takes it."""
    if context and takes_context(transcriber):
        return transcriber.transcribe(samples, context=tuple(context))
    return transcriber.transcribe(samples)


# Whisper's encoder always sees 30 s of audio: faster-whisper pads every clip to it.
WHISPER_WINDOW = 30.0
# Decoding an utterance with the encoder fed 10 s (whisper.cpp's ``audio_ctx``) costs
# a third of 30 s for +0.6 to 1.2 WER points; shorter windows make tiny.en loop
# (BENCHMARKS.md, "What one decode costs").
DEFAULT_ENCODER_WINDOW = 10.0
MIN_ENCODER_WINDOW = 10.0
# An utterance takes the short window only if this much of it is left silent.
WINDOW_MARGIN = 0.5
FRAMES_PER_SECOND = 100  # one log-mel frame every 10 ms
WHISPER_FRAMES = round(WHISPER_WINDOW * FRAMES_PER_SECOND)
MAX_TOKENS = 224  # Whisper's own cap on one window's text
# Once a decode costs a third, beam search pays: -1.2 WER points for +25 % decode time
# (BENCHMARKS.md). Utterances longer than the window keep the engine's greedy decoding.
SHORT_BEAM_SIZE = 5
# The speaker's own last few seconds, decoded again as a forced prefix before the
# utterance: short clips heard with their context are misheard far less (WER 14.3 ->
# 7.8 % on the benchmark calls) for about 1.8x the decode time (BENCHMARKS.md,
# "Hearing an utterance in context").
DEFAULT_CONTEXT_SECONDS = 6.0
# The silence put between earlier utterances and this one: about a breath.
CONTEXT_GAP = 0.15
# Fast speech is about 4 words, 5 tokens, a second: the cap leaves room for more
# than twice that, and stops a loop long before Whisper's own cap would.
TOKENS_PER_SECOND = 16
LOOP_ALLOWANCE = 24


@dataclass
class DecodingSettings:
    """How the built-in engine decodes; a profile's ``decoding:`` sets them."""

    encoder_window: float = DEFAULT_ENCODER_WINDOW  # seconds of audio Whisper's encoder sees (10 to 30)
    beam_size: int = SHORT_BEAM_SIZE  # 1: greedy
    context_seconds: float = DEFAULT_CONTEXT_SECONDS  # the speaker's earlier speech heard again; 0: none


# `--fast`: greedy and without context, for long recordings: about 2x the speed of the
# default for 5 more points of WER (BENCHMARKS.md, "Offline").
FAST_DECODING = {"beam_size": 1, "context_seconds": 0}


class EncoderWindowTranscriber:
    """The faster-whisper engine with Whisper's encoder fed ``encoder_window`` seconds
    of audio instead of 30 for utterances that fit (beam search, English, no timestamps);
    longer utterances, and every one when the window is 30 s, go to the engine as they
    are. Confidence and no-speech probability are reported as the engine reports them,
    so the same filters apply. ``engine`` is the built-in ``FasterWhisperTranscriber``
    (its model object and the lock that serialises decodes on it)."""

    def __init__(self, engine, encoder_window: float = DEFAULT_ENCODER_WINDOW, beam_size: int = SHORT_BEAM_SIZE,
                 context_seconds: float = DEFAULT_CONTEXT_SECONDS):
        if not MIN_ENCODER_WINDOW <= encoder_window <= WHISPER_WINDOW:
            raise ValueError(
                f"encoder window must be {MIN_ENCODER_WINDOW:g} to {WHISPER_WINDOW:g} seconds, not "
                f"{encoder_window:g}: shorter windows make Whisper repeat itself"
            )
        if beam_size != int(beam_size) or not 1 <= beam_size <= 10:
            raise ValueError(f"beam size must be a whole number from 1 (greedy) to 10, not {beam_size:g}")
        if not 0 <= context_seconds <= WHISPER_WINDOW:
            raise ValueError(f"context must be 0 to {WHISPER_WINDOW:g} seconds, not {context_seconds:g}")
        from faster_whisper.tokenizer import Tokenizer

        self.engine = engine
        # The model folder, for `voicecoach doctor`.
        self.model_path = getattr(engine, "model_path", None)
        self.concurrent_decodes = getattr(engine, "concurrent_decodes", 1)
        self.encoder_window = encoder_window
        self.beam_size = int(beam_size)
        self.context_seconds = context_seconds
        self.shortens = encoder_window < WHISPER_WINDOW
        self.description = engine.description + (f", encoder window {encoder_window:g} s" if self.shortens else "")
        self._model = engine._model
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer, self._model.model.is_multilingual, task="transcribe", language="en"
        )
        self._prompt = self._model.get_prompt(self._tokenizer, [], without_timestamps=True)
        self._frames = round(encoder_window * FRAMES_PER_SECOND)

    def warm_up(self) -> None:
        self.engine.warm_up()
        if self.shortens:
            self.transcribe(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))

    def fits(self, samples: np.ndarray) -> bool:
        """Whether ``samples`` are decoded with the short window."""
        return self.shortens and len(samples) <= (self.encoder_window - WINDOW_MARGIN) * SAMPLE_RATE

    def transcribe(self, samples: np.ndarray, context: Sequence[Said] = ()) -> Transcription:
        if not self.fits(samples):
            return self.engine.transcribe(samples)
        utterance = samples
        heard_before = self._context_that_fits(samples, context)
        prefix: list[int] = []
        if heard_before:
            gap = np.zeros(round(CONTEXT_GAP * SAMPLE_RATE), dtype=np.float32)
            samples = np.concatenate([part for said in heard_before for part in (said.samples, gap)] + [samples])
            prefix = self._tokenizer.encode(" " + " ".join(said.text.strip() for said in heard_before))
        # Room for fast speech, not for a loop: a looping decode stops early.
        most_tokens = min(MAX_TOKENS, LOOP_ALLOWANCE + round(TOKENS_PER_SECOND * len(utterance) / SAMPLE_RATE))
        tokens, result = self._decode(samples, self._frames, prefix, most_tokens)
        if ends_in_a_loop(tokens) or is_repetition(self._tokenizer.decode(tokens)):
            # Stuck repeating itself ("A-I-I-I-..." on "I see. Go on."): the whole 30 s
            # window usually hears the words. A number read out ("one one one one ...")
            # loops there too; the loop is cut short. No sampling at higher temperatures
            # (faster-whisper's fallback): it answered the same clip differently every
            # time, on a thread-local random generator no seed can pin.
            heard_before, prefix = [], []
            tokens, result = self._decode(utterance, WHISPER_FRAMES, prefix, most_tokens)
            tokens = without_the_loop(tokens)
        text = self._tokenizer.decode(tokens).strip()
        if heard_before and text and _comparable(text) in _comparable(" ".join(s.text for s in heard_before)):
            # The earlier words again: on noise Whisper re-reads the context; a speaker
            # saying "Right." twice is heard again, alone.
            return self.transcribe(utterance)
        # faster-whisper's average log probability: the end-of-text token counts too.
        confidence = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else None
        # With earlier speech in the window the model's no-speech probability is about
        # that speech, not this utterance: it is not reported.
        no_speech = None if heard_before else result.no_speech_prob
        return Transcription(text=text, confidence=confidence, no_speech_probability=no_speech)

    def _decode(self, samples: np.ndarray, frames: int, prefix: list[int], most_tokens: int):
        """Whisper's tokens for ``samples`` (the encoder fed ``frames`` log-mel frames),
        after the forced ``prefix``, and CTranslate2's result for its scores."""
        features = self._model.feature_extractor(samples)[:, :frames]
        features = np.pad(features, ((0, 0), (0, frames - features.shape[1])))
        with self.engine._lock:
            encoded = self._model.encode(features)
            [result] = self._model.model.generate(
                encoded, [self._prompt + prefix], beam_size=self.beam_size,
                max_length=len(self._prompt) + len(prefix) + most_tokens,
                return_scores=True, return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1],
            )
        tokens = result.sequences_ids[0]
        if prefix and tokens[: len(prefix)] == prefix:  # CTranslate2 returns the forced prefix too
            tokens = tokens[len(prefix):]
        return [token for token in tokens if token < self._tokenizer.eot], result

    def _context_that_fits(self, samples: np.ndarray, context: Sequence[Said]) -> list[Said]:
        """The latest of ``context`` that fits, whole utterances only, in ``context_seconds``
        and in the window beside ``samples``."""
        room = min(self.context_seconds,
                   self.encoder_window - WINDOW_MARGIN - len(samples) / SAMPLE_RATE)
        chosen: list[Said] = []
        for said in reversed(context):
            seconds = len(said.samples) / SAMPLE_RATE + CONTEXT_GAP
            if not said.text.strip() or seconds > room:
                break
            chosen.insert(0, said)
            room -= seconds
        return chosen


# Phrases Whisper produces from silence or music, learned from subtitle data.
HALLUCINATED_PHRASES = (
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subscribe to my channel",
    "like and subscribe",
    "see you in the next video",
    "subtitles by",
    "the amara.org community",
    "captions by",
    "transcribed by",
    "www.",
    ".com",
)


# What Whisper says most often to noise or silence, when it says something short.
SILENCE_WORDS = ("thank you", "thanks", "you", "bye", "thank you very much", "thank you so much")


def clean_transcript(text: str) -> str:
    return " ".join(text.replace("\u266a", " ").split())


def is_repetition(text: str) -> bool:
    """A phrase looping: text that compresses too well (Whisper's own test)."""
    encoded = text.encode()
    return len(encoded) > 40 and len(encoded) / len(zlib.compress(encoded)) > 2.4


def ends_in_a_loop(tokens: list[int], times: int = 4, longest_unit: int = 8) -> bool:
    """The last tokens are one short unit over and over ("A-I-I-I-I-I-I-I"): a decoding
    loop, too short yet for :func:`is_repetition` to see."""
    return _looping_unit(tokens, times, longest_unit) is not None


def without_the_loop(tokens: list[int], times: int = 4, longest_unit: int = 8) -> list[int]:
    """``tokens`` with a unit said over and over at the end (see :func:`ends_in_a_loop`)
    kept ``times - 1`` times: "4-1-1-1-1-1-1-1-1-1-1-1" becomes "4-1-1-1"."""
    unit = _looping_unit(tokens, times, longest_unit)
    if unit is None:
        return tokens
    start = len(tokens) - unit * times
    while start >= unit and tokens[start - unit : start] == tokens[-unit:]:
        start -= unit
    return tokens[: start + unit * (times - 1)]


def _looping_unit(tokens: list[int], times: int, longest_unit: int):
    """The length of the shortest unit the tokens end with ``times`` over, or None."""
    for unit in range(1, longest_unit + 1):
        tail = tokens[-unit * times :]
        if len(tail) == unit * times and tail == tail[:unit] * times:
            return unit
    return None


def is_hallucination(result: Transcription, duration: float) -> bool:
    """True when the text is more likely invented than heard."""
    text = clean_transcript(result.text).lower()
    letters = re.sub(r"[^a-z0-9]", "", text)
    if not letters:
        return True
    # A stock phrase alone (or nearly) is invented; inside real talk ("check
    # acme.com, thanks for watching the demo") it is kept.
    remainder = text
    for phrase in HALLUCINATED_PHRASES:
        remainder = remainder.replace(phrase, " ")
    if remainder != text and len(re.findall(r"[a-z0-9']+", remainder)) < 3:
        return True
    if (
        result.no_speech_probability is not None
        and result.confidence is not None
        and result.no_speech_probability > 0.6
        and result.confidence < -1.0
    ):
        return True
    # "Thank you." from noise: the model itself thought it was probably not speech.
    # (Said for real, it comes with a low no-speech probability.)
    if (
        result.no_speech_probability is not None
        and result.no_speech_probability > 0.5
        and " ".join(re.findall(r"[a-z']+", text)) in SILENCE_WORDS
    ):
        return True
    if is_repetition(text):
        return True
    # Nobody says 30 words in a one-second blip.
    if duration > 0 and len(text.split()) > max(8, duration * 7):
        return True
    return False
