"""``run --record``: keep the call's audio as a WAV file, only when asked.

Two channels (seller, prospect) become a stereo file, seller left and prospect
right: the layout ``voicecoach run --input`` reads back, so a recorded live call
can be replayed through other profiles later. One channel (mic-only) becomes a
mono file. Blocks of the two channels arrive separately and a little apart in
time; they are lined up by session time, and a channel that falls silent or is
lost is filled with silence so the two stay in step.

The WAV header is rewritten with every block, so a file cut short by a crash
still opens. A write that fails (a full disk) stops the recording with one
warning; the coaching goes on.
"""

from __future__ import annotations

import os
import wave
from typing import Callable, Optional, Sequence

import numpy as np

from .audio import SAMPLE_RATE, AudioError
from .events import PROSPECT, SELLER

# A channel more than this far behind the other is padded with silence.
MAX_LAG_SAMPLES = SAMPLE_RATE


class AudioRecorder:
    def __init__(self, path: str, speakers: Sequence[str], warn: Optional[Callable[[str], None]] = None):
        self.path = path
        self.warn = warn or (lambda message: None)
        two_way = SELLER in speakers and PROSPECT in speakers
        self.channels = [SELLER, PROSPECT] if two_way else [speakers[0]]
        self.head = 0  # session-time sample index of the next frame to write
        self.pending = {speaker: np.zeros(0, dtype=np.float32) for speaker in self.channels}
        self.failed = False
        try:
            # Call audio is private: readable by the seller only, like the log.
            self._raw = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
            self.file = wave.open(self._raw, "wb")
            self.file.setnchannels(len(self.channels))
            self.file.setsampwidth(2)
            self.file.setframerate(SAMPLE_RATE)
        except OSError as error:
            raise AudioError(f"cannot record to {path}: {error.strerror or error}; choose another --record path") from None

    @property
    def seconds(self) -> float:
        return self.head / SAMPLE_RATE

    def add(self, speaker: str, samples: np.ndarray, start: float) -> None:
        """Add one block of ``speaker``'s audio that begins at session time ``start``."""
        if self.failed or speaker not in self.pending:
            return
        offset = int(round(start * SAMPLE_RATE)) - self.head
        if offset < 0:
            samples, offset = samples[-offset:], 0
        buffer = self.pending[speaker]
        end = offset + len(samples)
        if end > len(buffer):
            buffer = np.concatenate([buffer, np.zeros(end - len(buffer), dtype=np.float32)])
        buffer[offset:end] = samples
        self.pending[speaker] = buffer
        lengths = [len(b) for b in self.pending.values()]
        self._write(max(min(lengths), max(lengths) - MAX_LAG_SAMPLES))

    def close(self) -> None:
        """Write what is left (padding the shorter channel) and close the file."""
        if not self.failed:
            self._write(max(len(b) for b in self.pending.values()))
        try:
            self.file.close()
            self._raw.close()
        except OSError:
            pass

    def _write(self, count: int) -> None:
        if count <= 0 or self.failed:
            return
        columns = []
        for speaker in self.channels:
            buffer = self.pending[speaker]
            column = buffer[:count]
            if len(column) < count:
                column = np.concatenate([column, np.zeros(count - len(column), dtype=np.float32)])
            columns.append(column)
            self.pending[speaker] = buffer[count:]
        frames = np.clip(np.stack(columns, axis=1), -1.0, 1.0)
        try:
            self.file.writeframes((frames * 32767).astype("<i2").tobytes())
        except OSError as error:
            self.failed = True
            self.warn(
                f"recording to {self.path} stopped after {self.seconds:.0f} s: {error.strerror or error}; "
                "the coaching goes on"
            )
            return
        self.head += count
