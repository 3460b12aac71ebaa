"""Audio as the pipeline sees it: 16 kHz mono float32 chunks, one stream per speaker.

Sources (files, live devices, a plugin's own) all produce :class:`AudioChunk` so
the rest of the pipeline never knows where the sound came from.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np

SAMPLE_RATE = 16000


class AudioError(Exception):
    """Audio that cannot be read or used; the message says what to do."""


@dataclass
class AudioChunk:
    """``samples`` of one speaker's channel starting at session time ``start``.

    ``arrived_at`` is the monotonic instant the last sample became available to the
    pipeline: for a live device the capture time, for a paced file the instant it
    was released, for a fast replay the instant it was read.
    """

    speaker: str
    samples: np.ndarray
    start: float
    arrived_at: float

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / SAMPLE_RATE


class AudioSource(Protocol):
    """What the pipeline needs from a source of audio."""

    #: The speakers this source delivers, e.g. ``("seller", "prospect")``.
    speakers: tuple[str, ...]

    def chunks(self) -> Iterator[AudioChunk]:
        """Yield chunks in time order until the audio ends or :meth:`stop` is called."""

    def stop(self) -> None:
        """Ask :meth:`chunks` to finish soon (called from another thread)."""

    def describe(self) -> str:
        """One line naming what is captured, for the LIVE indicator and the log."""


def decode_file(path: str, block_seconds: float = 0.5) -> Iterator[np.ndarray]:
    """Decode any file PyAV reads into blocks of shape ``(channels, samples)`` at 16 kHz.

    Streams, so an hour-long file never sits in memory whole.
    """
    import av

    check_readable_audio_file(path)
    try:
        container = av.open(path)
    except av.error.InvalidDataError:
        raise AudioError(
            f"{path} is not an audio file VoiceCoach can decode (WAV, FLAC, MP3, OGG, M4A and more work)"
        ) from None
    except av.error.FFmpegError as error:
        raise AudioError(f"{path} could not be opened: {error.strerror}") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels or 1
        layout = {1: "mono", 2: "stereo"}.get(channels, stream.layout.name)
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        block = int(block_seconds * SAMPLE_RATE)
        pending: list[np.ndarray] = []
        pending_len = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    array = out.to_ndarray()
                    pending.append(array)
                    pending_len += array.shape[1]
                    if pending_len >= block:
                        yield np.concatenate(pending, axis=1)
                        pending, pending_len = [], 0
            for out in resampler.resample(None):
                pending.append(out.to_ndarray())
        except av.error.FFmpegError as error:
            raise AudioError(f"{path} is damaged and could not be decoded ({error.strerror})") from None
        if pending:
            yield np.concatenate(pending, axis=1)


def check_readable_audio_file(path: str) -> None:
    """Fail early, in words a user understands, on a missing, empty or cut-off file."""
    if not os.path.exists(path):
        raise AudioError(f"{path} does not exist")
    if os.path.isdir(path):
        raise AudioError(f"{path} is a folder, not an audio file")
    size = os.path.getsize(path)
    if size == 0:
        raise AudioError(f"{path} is empty (0 bytes)")
    with open(path, "rb") as handle:
        header = handle.read(4096)
    if header[:4] == b"RIFF" and header[8:12] == b"WAVE":
        _check_wav_complete(path, header, size)


def _check_wav_complete(path: str, header: bytes, size: int) -> None:
    # A WAV cut off mid-copy still decodes, silently shorter than it claims to be.
    position = 12
    while position + 8 <= len(header):
        chunk_id, chunk_size = struct.unpack("<4sI", header[position : position + 8])
        if chunk_id == b"data":
            declared_end = position + 8 + chunk_size
            # 0xFFFFFFFF and 0 are used by streaming writers that never knew the size.
            if chunk_size not in (0, 0xFFFFFFFF) and declared_end > size:
                missing = declared_end - size
                raise AudioError(
                    f"{path} is truncated: its header promises {missing} more bytes of audio "
                    "than the file holds; copy or export it again"
                )
            return
        position += 8 + chunk_size + (chunk_size & 1)


def rms_level(samples: np.ndarray) -> float:
    """Root-mean-square level of a block, 0.0 for an empty one."""
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
