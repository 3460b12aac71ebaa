"""Audio as the pipeline sees it: 16 kHz mono float32 chunks, one stream per speaker.

Sources (files, live devices, a plugin's own) all produce :class:`AudioChunk` so
the rest of the pipeline never knows where the sound came from.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Iterator, Optional, Protocol

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
        # Only local files: a playlist posing as audio must not make FFmpeg fetch a URL.
        container = av.open(path, metadata_errors="replace", container_options={"protocol_whitelist": "file"})
    except av.error.InvalidDataError:
        raise AudioError(
            f"{path} is not an audio file VoiceCoach can decode (WAV, FLAC, MP3, OGG, M4A and more work)"
        ) from None
    except EOFError:
        raise AudioError(f"{path} ends before its audio begins: it is cut off or not an audio file") from None
    except av.error.FFmpegError as error:
        raise AudioError(f"{path} could not be opened: {error.strerror}") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise AudioError(f"{path} uses an audio encoding VoiceCoach cannot decode; convert it to WAV or FLAC")
        channels = stream.codec_context.channels or 1
        layout = {1: "mono", 2: "stereo"}.get(channels, stream.layout.name)
        block = int(block_seconds * SAMPLE_RATE)
        dc = DcRemover()
        pending: list[np.ndarray] = []
        pending_len = 0
        try:
            for array in _resampled(container.decode(stream), layout):
                pending.append(array)
                pending_len += array.shape[1]
                if pending_len >= block:
                    yield _clean(np.concatenate(pending, axis=1), dc)
                    pending, pending_len = [], 0
        except (av.error.FFmpegError, ValueError) as error:
            detail = getattr(error, "strerror", None) or str(error)
            raise AudioError(f"{path} is damaged and could not be decoded ({detail})") from None
        if pending:
            yield _clean(np.concatenate(pending, axis=1), dc)


def _resampled(frames, layout: str) -> Iterator[np.ndarray]:
    """Frames as 16 kHz float planes in ``layout``, even when a file changes its
    rate or channels part-way (joined MP3s, chained Ogg streams)."""
    import av

    resampler, source = None, None
    for frame in frames:
        shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        if shape != source:
            if resampler is not None:
                yield from _planes(resampler.resample(None))
            # Packed samples, one plane: PyAV reads planar frames of more than
            # eight channels past their end (a crash, not an exception).
            resampler, source = av.AudioResampler(format="flt", layout=layout, rate=SAMPLE_RATE), shape
        yield from _planes(resampler.resample(frame))
    if resampler is not None:
        yield from _planes(resampler.resample(None))


def _planes(frames) -> Iterator[np.ndarray]:
    for frame in frames:
        channels = frame.layout.nb_channels
        yield frame.to_ndarray().reshape(-1, channels).T


def _clean(block: np.ndarray, dc: "DcRemover") -> np.ndarray:
    """Samples as a device would deliver them: finite, offset-free, within full scale.
    Float files may hold NaN, infinities or samples far past full scale."""
    if not np.isfinite(block).all():
        block = np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0)
    block = dc.process(block)
    return np.clip(block, -1.0, 1.0, out=block)


class DcRemover:
    """Takes a constant offset (DC) out of each channel as it streams.

    Cheap sound cards and some exports add one; voice-activity detection, the bleed
    filter and speech recognition then hear the offset, the same on both channels,
    as sound. The offset is the mean of the last second; below a dead band
    it is left alone, so clean audio, whose mean is near zero, passes through
    unchanged, and a channel that falls silent is silent again within a second.
    """

    WINDOW = SAMPLE_RATE  # one second
    # Speech itself is not quite symmetric: a second of espeak-ng's voice averages
    # up to 0.003. Offsets that small are harmless; from 0.01 they are removed whole.
    DEAD_BAND = 0.005

    def __init__(self):
        self.history: Optional[np.ndarray] = None

    def process(self, block: np.ndarray) -> np.ndarray:
        channels, length = block.shape
        if self.history is None or self.history.shape[0] != channels:
            # As if the offset had always been there: no transient at the start.
            mean = block.mean(axis=1, dtype=np.float64) if length else np.zeros(channels)
            self.history = np.repeat(mean[:, None], self.WINDOW, axis=1)
        joined = np.concatenate([self.history, block.astype(np.float64)], axis=1)
        self.history = joined[:, -self.WINDOW :]
        totals = np.cumsum(joined, axis=1)
        ends = np.arange(self.WINDOW, self.WINDOW + length)
        means = (totals[:, ends] - totals[:, ends - self.WINDOW]) / self.WINDOW
        if self.DEAD_BAND:
            # Faded in between one and two dead bands, so that no step is ever added.
            offsets = means * np.clip(np.abs(means) / self.DEAD_BAND - 1.0, 0.0, 1.0)
        else:
            offsets = means
        if not offsets.any():
            return block
        return (block - offsets).astype(np.float32)


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
