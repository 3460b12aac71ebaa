"""Per-speaker voice activity detection and endpointing with Silero VAD.

Silero VAD ships inside faster-whisper as an ONNX model; it scores each 32 ms
frame for speech. :class:`Endpointer` turns those scores into speech start and
speech end decisions and cuts utterances out for transcription.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .audio import SAMPLE_RATE

FRAME_SAMPLES = 512  # 32 ms, the frame Silero VAD v6 is trained on at 16 kHz
CONTEXT_SAMPLES = 64
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE


def silero_model_path() -> str:
    import faster_whisper

    return os.path.join(os.path.dirname(faster_whisper.__file__), "assets", "silero_vad_v6.onnx")


class SileroVad:
    """Streaming speech probability for one channel (keeps the model's state)."""

    _session = None

    def __init__(self):
        self.reset()

    @classmethod
    def _get_session(cls):
        if cls._session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = 1
            options.log_severity_level = 4
            cls._session = onnxruntime.InferenceSession(
                silero_model_path(), providers=["CPUExecutionProvider"], sess_options=options
            )
        return cls._session

    def reset(self):
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        """Speech probability of one 512-sample frame."""
        batch = np.concatenate([self._context, frame]).reshape(1, -1).astype(np.float32)
        probability, self._h, self._c = self._get_session().run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = frame[-CONTEXT_SAMPLES:].astype(np.float32)
        return float(np.asarray(probability).reshape(-1)[0])


@dataclass
class EndpointSettings:
    """How speech is cut into utterances. Defaults follow Silero's own recommendations
    (threshold 0.5, end at 0.15 below it) and the latency measurements in BENCHMARKS.md."""

    threshold: float = 0.5
    neg_threshold: float = 0.35
    # Silence that confirms the end of an utterance. Shorter splits sentences at
    # inner pauses; longer delays every prompt by the difference.
    min_silence: float = 0.3
    # Speech shorter than this is a blip (a cough, a click) and is dropped.
    min_speech: float = 0.25
    # Audio kept before the detected start and after the end, so no word is clipped.
    pad: float = 0.2
    # A monologue is cut at this length so its words reach the coaches in time.
    max_utterance: float = 12.0
    # Silence after which decoding starts early, before ``min_silence`` confirms the
    # end; the work is thrown away if speech resumes. 0 turns early decoding off.
    early_silence: float = 0.16
    # A long utterance is also transcribed while it is still being spoken: first
    # once it is this long, then every ``partial_every`` seconds (while the CPU has
    # room). ``partial_every: 0`` turns partial transcripts off.
    partial_after: float = 2.0
    partial_every: float = 1.0


@dataclass
class Segment:
    """A finished stretch of speech cut out for transcription."""

    speaker: str
    start: float  # session time of the first speech frame
    end: float  # session time just after the last speech frame
    samples: np.ndarray
    speech_ended_at: float  # monotonic instant the last speech frame arrived
    endpointed_at: float = 0.0
    # An early cut, decoded while waiting for the end to be confirmed.
    provisional: bool = False
    # The utterance so far, while it is still being spoken.
    partial: bool = False


@dataclass
class EndpointEvents:
    started: Optional[float] = None  # session time speech began
    segments: list[Segment] = field(default_factory=list)
    provisional: list[Segment] = field(default_factory=list)
    partials: list[Segment] = field(default_factory=list)


class Endpointer:
    """Turns one speaker's frames into speech-start events and finished segments."""

    def __init__(self, speaker: str, settings: EndpointSettings | None = None, vad=None):
        self.speaker = speaker
        self.settings = settings or EndpointSettings()
        self.vad = vad or SileroVad()
        self._pending = np.zeros(0, dtype=np.float32)
        self._pending_start = 0.0
        self._pad_frames = max(1, int(self.settings.pad / FRAME_SECONDS))
        self._history: list[np.ndarray] = []  # recent frames, for the pre-speech pad
        self._speech: list[np.ndarray] = []
        self._in_speech = False
        self._speech_start = 0.0
        self._last_speech_end = 0.0
        self._last_speech_arrival = 0.0
        self._silence_frames = 0
        self._announced = False
        self._next_partial = 0.0
        self.last_probability = 0.0

    def feed(self, samples: np.ndarray, start: float, arrived_at: float) -> EndpointEvents:
        """Feed audio starting at session time ``start``; return what it completed."""
        events = EndpointEvents()
        if len(self._pending) == 0:
            self._pending_start = start
        self._pending = np.concatenate([self._pending, samples])
        while len(self._pending) >= FRAME_SAMPLES:
            frame = self._pending[:FRAME_SAMPLES]
            self._pending = self._pending[FRAME_SAMPLES:]
            frame_start = self._pending_start
            self._pending_start += FRAME_SECONDS
            self._frame(frame, frame_start, arrived_at, events)
        return events

    def flush(self, arrived_at: float) -> EndpointEvents:
        """The audio ended: finish any utterance in progress."""
        events = EndpointEvents()
        if self._in_speech:
            self._finish(events, arrived_at)
        return events

    def _frame(self, frame, frame_start, arrived_at, events: EndpointEvents):
        s = self.settings
        probability = self.vad(frame)
        self.last_probability = probability
        frame_end = frame_start + FRAME_SECONDS
        if not self._in_speech:
            self._history.append(frame)
            if len(self._history) > self._pad_frames:
                self._history.pop(0)
            if probability >= s.threshold:
                self._in_speech = True
                self._announced = False
                self._speech_start = frame_start
                self._speech = list(self._history)
                self._history = []
                self._silence_frames = 0
                self._last_speech_end = frame_end
                self._last_speech_arrival = arrived_at
                self._next_partial = frame_start + s.partial_after
            return
        self._speech.append(frame)
        if probability >= s.neg_threshold:
            self._silence_frames = 0
            self._last_speech_end = frame_end
            self._last_speech_arrival = arrived_at
        else:
            self._silence_frames += 1
        speech_length = self._last_speech_end - self._speech_start
        if not self._announced and speech_length >= s.min_speech:
            self._announced = True
            events.started = self._speech_start
        if (
            s.early_silence > 0
            and self._silence_frames == max(1, round(s.early_silence / FRAME_SECONDS))
            and speech_length >= s.min_speech
            and s.early_silence < s.min_silence
        ):
            events.provisional.append(self._segment(arrived_at, provisional=True))
        if s.partial_every > 0 and self._silence_frames == 0 and frame_end >= self._next_partial > self._speech_start:
            events.partials.append(self._segment(arrived_at, partial=True))
            self._next_partial = frame_end + s.partial_every
        if self._silence_frames * FRAME_SECONDS >= s.min_silence:
            self._finish(events, arrived_at)
        elif frame_end - self._speech_start >= s.max_utterance and self._silence_frames > 0:
            # Cut a monologue at its first pause past the limit.
            self._finish(events, arrived_at, keep_going=True)

    def _segment(self, arrived_at: float, provisional: bool = False, partial: bool = False) -> Segment:
        # Keep the pad after the last speech frame, drop the rest of the silence.
        keep_after = min(self._silence_frames, self._pad_frames)
        drop = self._silence_frames - keep_after
        frames = self._speech[: len(self._speech) - drop] if drop else self._speech
        return Segment(
            speaker=self.speaker,
            start=self._speech_start,
            end=self._last_speech_end,
            samples=np.concatenate(frames) if frames else np.zeros(0, np.float32),
            speech_ended_at=self._last_speech_arrival,
            endpointed_at=arrived_at,
            provisional=provisional,
            partial=partial,
        )

    def _finish(self, events: EndpointEvents, arrived_at: float, keep_going: bool = False):
        s = self.settings
        speech_length = self._last_speech_end - self._speech_start
        self._in_speech = keep_going
        if speech_length >= s.min_speech:
            if not self._announced:
                events.started = self._speech_start
            events.segments.append(self._segment(arrived_at))
        self._history = self._speech[-self._pad_frames :] if not keep_going else []
        self._speech = []
        self._silence_frames = 0
        if keep_going:
            self._speech_start = self._last_speech_end
            self._announced = True
            self._next_partial = self._speech_start + s.partial_after
