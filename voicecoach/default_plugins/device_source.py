"""Live capture: the seller's microphone and the prospect's audio on separate channels.

Each channel is its own sounddevice stream. On Linux with PulseAudio or PipeWire a
channel may name a PulseAudio source (a microphone, or the ``.monitor`` of the
output the call app plays to); the stream is opened on PortAudio's ``pulse``
device and moved to that source. The audio callback only copies each block into
a queue; everything else happens on the capture thread.

A channel that disappears mid-call (a headset unplugged, the call app's output
gone) is reported, its audio is ignored rather than attributed to the wrong
person, and it is reconnected when its source returns.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

import numpy as np

from voicecoach import MIXED, PROSPECT, SELLER, AudioChunk, AudioError, hookimpl
from voicecoach import pulse

SAMPLE_RATE = 16000
BLOCK_SAMPLES = 512  # 32 ms: the VAD frame
HEALTH_CHECK_SECONDS = 1.0
# A channel quieter than this (RMS of float samples) carries no voice.
SILENCE_LEVEL = 0.002
SILENT_CHANNEL_SECONDS = 20.0


@hookimpl
def register_sources(register):
    register("devices", DeviceSource)


def import_sounddevice():
    try:
        import sounddevice
    except OSError:
        raise AudioError(
            "PortAudio is not installed, so no device can be captured: "
            "apt-get install libportaudio2 (Linux) or reinstall sounddevice"
        ) from None
    return sounddevice


@dataclass
class Channel:
    speaker: str
    spec: Optional[str]
    pulse_source: Optional[str] = None
    device_index: Optional[int] = None
    stream: object = None
    output_index: Optional[int] = None
    ready: threading.Event = field(default_factory=threading.Event)
    lost: bool = False
    samples: int = 0
    offset: Optional[float] = None
    dropped_blocks: int = 0
    level: float = 0.0
    last_voice: float = 0.0
    silent_warned: bool = False

    def describe(self) -> str:
        return f"{self.speaker}={self.pulse_source or self.spec or 'default'}"


def resolve_channel(
    speaker: str, spec: Optional[str], *, microphone: bool, sd=None, use_pulse: Optional[bool] = None
) -> Channel:
    """Which device captures ``speaker``: a PortAudio index, or a PulseAudio source.

    ``spec`` is an index, a PulseAudio source name, or part of a PortAudio device
    name; None means the default microphone (``microphone=True``) or the default
    output's monitor. Raises :class:`AudioError` saying what to do when nothing matches.
    """
    channel = Channel(speaker=speaker, spec=spec)
    if spec is not None and str(spec).isdigit():
        channel.device_index = int(spec)
        return channel
    if use_pulse is None:
        use_pulse = pulse.available()
    if use_pulse:
        names = {source.name for source in pulse.list_sources()}
        if spec is None:
            spec = pulse.default_source() if microphone else pulse.default_sink_monitor()
        if spec in names:
            channel.pulse_source = spec
            return channel
        if spec is None:
            raise AudioError(f"no {speaker} source found; run `voicecoach devices` and pass --{speaker}-device")
    if spec is None:
        if not microphone:
            raise AudioError(_loopback_help())
        channel.device_index = None  # PortAudio's default input
        return channel
    channel.device_index = _portaudio_index(sd or import_sounddevice(), spec, speaker)
    return channel


def _portaudio_index(sd, spec: str, speaker: str) -> int:
    matches = [
        index
        for index, device in enumerate(sd.query_devices())
        if device["max_input_channels"] > 0 and spec.lower() in device["name"].lower()
    ]
    if not matches:
        raise AudioError(
            f"no input device matches {spec!r} for the {speaker}; `voicecoach devices` lists them"
        )
    return matches[0]


class DeviceSource:
    """Two live channels (seller, prospect), or one (``mic-only``)."""

    live = True

    def __init__(
        self,
        seller: Optional[str] = None,
        prospect: Optional[str] = None,
        capture: str = "two-way",
        allow_fallback: bool = True,
        duration: Optional[float] = None,
        silent_channel_seconds: float = SILENT_CHANNEL_SECONDS,
        warn=None,
    ):
        self.sd = import_sounddevice()
        self.duration = duration
        self.silent_channel_seconds = silent_channel_seconds
        self.allow_fallback = allow_fallback
        self._warn = warn or (lambda message: print(f"voicecoach: {message}", file=sys.stderr))
        self._queue: queue.Queue = queue.Queue(maxsize=2000)
        self._stop = threading.Event()
        self._pulse = pulse.available()
        self.channels = [self._resolve(SELLER if capture == "two-way" else MIXED, seller, microphone=True)]
        if capture == "two-way":
            self.channels.append(self._resolve(PROSPECT, prospect, microphone=False))
        self.speakers = tuple(channel.speaker for channel in self.channels)

    def bind(self, session) -> None:
        """The pipeline hands over the session so warnings reach the user the usual way."""
        self._warn = session.warn
        session._channel_health = self.health

    def health(self) -> list[dict]:
        """Per channel: the device, its state (listening, silent, lost) and its level."""
        report = []
        for channel in self.channels:
            if channel.lost:
                state = "lost"
            elif channel.silent_warned:
                state = "silent"
            else:
                state = "listening"
            level_db = 20 * math.log10(channel.level) if channel.level > 0 else None
            report.append({
                "speaker": channel.speaker,
                "device": channel.pulse_source or channel.spec or "default",
                "state": state,
                "level_db": None if level_db is None else round(level_db, 1),
            })
        return report

    def describe(self) -> str:
        return "devices " + ", ".join(channel.describe() for channel in self.channels)

    # -- choosing devices ---------------------------------------------------------

    def _resolve(self, speaker: str, spec: Optional[str], microphone: bool) -> Channel:
        return resolve_channel(speaker, spec, microphone=microphone, sd=self.sd, use_pulse=self._pulse)

    # -- streams ------------------------------------------------------------------

    def _callback(self, channel: Channel):
        put = self._queue.put_nowait

        def callback(indata, frames, time_info, status):
            if not channel.ready.is_set():
                return
            try:
                put((channel, indata[:, 0].copy(), time.monotonic()))
            except queue.Full:
                channel.dropped_blocks += 1

        return callback

    def _open(self, channel: Channel) -> None:
        if channel.pulse_source:
            before = set(pulse.own_source_outputs())
            channel.stream = self._input_stream("pulse", channel)
            channel.output_index = self._new_source_output(before)
            pulse.move_source_output(channel.output_index, channel.pulse_source)
        else:
            channel.stream = self._input_stream(channel.device_index, channel)
        channel.ready.set()

    def _input_stream(self, device, channel: Channel):
        try:
            stream = self.sd.InputStream(
                device=device,
                channels=1,
                samplerate=SAMPLE_RATE,
                blocksize=BLOCK_SAMPLES,
                dtype="float32",
                callback=self._callback(channel),
            )
            stream.start()
        except Exception as error:  # PortAudioError, ValueError for a bad device
            raise AudioError(
                f"the {channel.speaker} device {channel.spec or device} could not be opened "
                f"({str(error).splitlines()[0]}); `voicecoach devices` lists what is available"
            ) from None
        return stream

    def _new_source_output(self, before: set) -> int:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            new = set(pulse.own_source_outputs()) - before
            if new:
                return max(new)
            time.sleep(0.02)
        raise AudioError("PulseAudio did not show the new recording stream; is the server overloaded?")

    def _close(self, channel: Channel) -> None:
        channel.ready.clear()
        if channel.stream is not None:
            try:
                channel.stream.stop()
                channel.stream.close()
            except Exception:
                pass
            channel.stream = None
            channel.output_index = None

    # -- running ------------------------------------------------------------------

    def chunks(self) -> Iterator[AudioChunk]:
        for channel in list(self.channels):
            try:
                self._open(channel)
            except (AudioError, pulse.PulseError) as error:
                if channel.speaker == PROSPECT and self.allow_fallback:
                    self._warn(f"{error}; coaching goes on with the seller's microphone only")
                    channel.lost = True
                else:
                    for opened in self.channels:
                        self._close(opened)
                    raise
        started = time.monotonic()
        next_check = started + HEALTH_CHECK_SECONDS
        try:
            while not self._stop.is_set():
                try:
                    channel, samples, arrived = self._queue.get(timeout=0.1)
                except queue.Empty:
                    channel = None
                now = time.monotonic()
                if now >= next_check:
                    self._check_health(now)
                    next_check = now + HEALTH_CHECK_SECONDS
                if self.duration is not None and now - started >= self.duration:
                    break
                if channel is None or not channel.ready.is_set():
                    continue
                if channel.offset is None:
                    channel.offset = arrived - started - len(samples) / SAMPLE_RATE - channel.samples / SAMPLE_RATE
                start = channel.offset + channel.samples / SAMPLE_RATE
                channel.samples += len(samples)
                channel.level = float(np.sqrt(np.mean(np.square(samples))))
                if channel.level >= SILENCE_LEVEL:
                    channel.last_voice = now
                yield AudioChunk(speaker=channel.speaker, samples=samples, start=start, arrived_at=arrived)
        finally:
            for channel in self.channels:
                self._close(channel)

    def stop(self) -> None:
        self._stop.set()

    # -- health -------------------------------------------------------------------

    def _check_health(self, now: float) -> None:
        if self._pulse and any(channel.pulse_source for channel in self.channels):
            try:
                self._check_pulse_routing()
            except pulse.PulseError as error:
                self._warn(f"cannot check the audio routing: {error}")
        self._check_silence(now)

    def _check_pulse_routing(self) -> None:
        outputs = pulse.own_source_outputs()
        indexes = {source.name: source.index for source in pulse.list_sources()}
        for channel in self.channels:
            if not channel.pulse_source:
                continue
            wanted = indexes.get(channel.pulse_source)
            routed = outputs.get(channel.output_index) if channel.output_index is not None else None
            if not channel.lost and (wanted is None or routed != wanted):
                # The source went away: PulseAudio moved our stream elsewhere (often
                # onto the other speaker's source). Ignore it rather than mislabel it.
                channel.lost = True
                channel.ready.clear()
                other = "the seller's microphone only" if channel.speaker == PROSPECT else "the prospect's audio only"
                self._warn(
                    f"the {channel.speaker} device {channel.pulse_source} disappeared; coaching goes on with "
                    f"{other} and everything captured so far is kept; it reconnects when the device returns"
                )
            elif channel.lost and wanted is not None:
                self._reconnect(channel, outputs)

    def _reconnect(self, channel: Channel, outputs: dict) -> None:
        try:
            if channel.output_index in outputs:
                pulse.move_source_output(channel.output_index, channel.pulse_source)
            else:
                self._close(channel)
                self._open(channel)
        except (AudioError, pulse.PulseError) as error:
            self._warn(f"the {channel.speaker} device {channel.pulse_source} is back but could not be reopened: {error}")
            return
        channel.offset = None  # time restarts from the reconnection, not from the gap
        channel.samples = 0
        channel.lost = False
        channel.ready.set()
        self._warn(f"the {channel.speaker} device {channel.pulse_source} is back; capturing both sides again")

    def _check_silence(self, now: float) -> None:
        by_speaker = {channel.speaker: channel for channel in self.channels}
        seller, prospect = by_speaker.get(SELLER), by_speaker.get(PROSPECT)
        if seller is None or prospect is None or prospect.lost:
            return
        started_silence = prospect.last_voice or (now - (prospect.samples / SAMPLE_RATE))
        limit = self.silent_channel_seconds
        seller_talked = seller.last_voice and now - seller.last_voice < limit
        if now - started_silence >= limit and seller_talked:
            if not prospect.silent_warned:
                prospect.silent_warned = True
                self._warn(
                    f"the prospect channel ({prospect.describe()}) has been silent for "
                    f"{limit:.0f} s while you talk: is the call's audio going to this device? "
                    "Check `voicecoach devices` and --prospect-device"
                )
        elif now - started_silence < limit:
            prospect.silent_warned = False


def _loopback_help() -> str:
    if sys.platform == "darwin":
        return (
            "macOS has no built-in loopback: install a loopback device such as BlackHole, send the call "
            "app's output to it, and pass --prospect-device BlackHole"
        )
    if sys.platform.startswith("win"):
        return (
            "capture the call's audio with a loopback input (enable 'Stereo Mix', or install VB-CABLE) "
            "and pass --prospect-device with its name from `voicecoach devices`"
        )
    return (
        "no PulseAudio or PipeWire server answered, so the call's output cannot be captured; start one, "
        "or use --profile mic-only"
    )
