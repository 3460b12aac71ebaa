"""Recorded calls as an audio source: one stereo file, two mono files, or one mixed file.

A stereo file is seller = left, prospect = right. With ``realtime=True`` the file
is released at the pace it was recorded, exactly as a live device would deliver it.
"""

from __future__ import annotations

import threading
import time
from typing import Iterator, Optional

import numpy as np

from voicecoach import hookimpl
from voicecoach.audio import SAMPLE_RATE, AudioChunk, AudioError, decode_file
from voicecoach.events import MIXED, PROSPECT, SELLER

# 32 ms blocks: the Silero VAD frame, and the granularity of a live device.
BLOCK_SAMPLES = 512


@hookimpl
def register_sources(register):
    register("file", FileSource)


class FileSource:
    def __init__(
        self,
        input: Optional[str] = None,
        seller: Optional[str] = None,
        prospect: Optional[str] = None,
        realtime: bool = False,
        block_samples: int = BLOCK_SAMPLES,
    ):
        if input and (seller or prospect):
            raise AudioError("give either --input or --seller/--prospect, not both")
        if not input and not (seller and prospect):
            raise AudioError("give --input FILE, or both --seller FILE and --prospect FILE")
        self.input, self.seller, self.prospect = input, seller, prospect
        self.realtime = realtime
        self.block_samples = block_samples
        self._stop = threading.Event()
        self.speakers = self._probe_speakers()

    def _probe_speakers(self) -> tuple[str, ...]:
        if not self.input:
            return (SELLER, PROSPECT)
        first = next(decode_file(self.input, block_seconds=0.1), None)
        if first is None or first.shape[1] == 0:
            raise AudioError(f"{self.input} holds no audio (zero length)")
        return (SELLER, PROSPECT) if first.shape[0] >= 2 else (MIXED,)

    def describe(self) -> str:
        if self.input:
            return f"file {self.input} ({' + '.join(self.speakers)})"
        return f"files seller={self.seller} prospect={self.prospect}"

    def stop(self) -> None:
        self._stop.set()

    def _channel_blocks(self) -> Iterator[dict[str, np.ndarray]]:
        if self.input:
            for block in decode_file(self.input):
                if block.shape[0] >= 2:
                    yield {SELLER: block[0], PROSPECT: block[1]}
                else:
                    yield {MIXED: block[0]}
            return
        seller_blocks = decode_file(self.seller)
        prospect_blocks = decode_file(self.prospect)
        while True:
            seller_block = next(seller_blocks, None)
            prospect_block = next(prospect_blocks, None)
            if seller_block is None and prospect_block is None:
                return
            yield {
                SELLER: _mono(seller_block),
                PROSPECT: _mono(prospect_block),
            }

    def chunks(self) -> Iterator[AudioChunk]:
        buffers = {speaker: np.zeros(0, dtype=np.float32) for speaker in self.speakers}
        position = 0  # samples released per speaker so far
        started = time.monotonic()
        total_decoded = 0
        for blocks in self._channel_blocks():
            for speaker, samples in blocks.items():
                buffers[speaker] = np.concatenate([buffers[speaker], samples.astype(np.float32)])
            total_decoded += max(len(s) for s in blocks.values())
            while min(len(b) for b in buffers.values()) >= self.block_samples or (
                # two files of different length: pad the shorter one with silence
                max(len(b) for b in buffers.values()) >= 4 * self.block_samples
            ):
                for chunk in self._release(buffers, position, started):
                    yield chunk
                position += self.block_samples
                if self._stop.is_set():
                    return
        while max(len(b) for b in buffers.values()) > 0 and not self._stop.is_set():
            for chunk in self._release(buffers, position, started):
                yield chunk
            position += self.block_samples
        if total_decoded == 0:
            raise AudioError(f"{self.input or self.seller} holds no audio (zero length)")

    def _release(self, buffers, position, started) -> Iterator[AudioChunk]:
        n = self.block_samples
        start = position / SAMPLE_RATE
        end = (position + n) / SAMPLE_RATE
        if self.realtime:
            delay = started + end - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
        arrived = time.monotonic()
        for speaker in self.speakers:
            block = buffers[speaker][:n]
            buffers[speaker] = buffers[speaker][n:]
            if len(block) < n:
                block = np.pad(block, (0, n - len(block)))
            yield AudioChunk(speaker=speaker, samples=block, start=start, arrived_at=arrived)


def _mono(block):
    if block is None:
        return np.zeros(0, dtype=np.float32)
    return block.mean(axis=0) if block.shape[0] > 1 else block[0]
