"""Synthetic two-speaker sales calls, spoken by espeak-ng, with exact timing truth.

    from voicecoach.synth import ScriptLine, synthesize_call

    call = synthesize_call([
        ScriptLine("seller", "How do you handle your bookkeeping today?"),
        ScriptLine("prospect", "I do it myself in a spreadsheet."),
    ])
    call.write_stereo("call.wav")        # left = seller, right = prospect
    call.lines[1].start, call.lines[1].end  # where the prospect's speech really is

Each line is synthesized on its own, trimmed to the speech itself (espeak pads its
clips with silence) and placed on the timeline, so ``SpokenLine.start``/``end`` are
the true speech boundaries: the ground truth for latency and talk-time measurements.
Clips are cached by voice, speed and text, so repeated test runs do not call espeak.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from typing import Iterable, Optional, Sequence

import numpy as np

from .events import PROSPECT, SELLER

SAMPLE_RATE = 16000
DEFAULT_VOICES = {SELLER: "en-us", PROSPECT: "en-us+f3"}
DEFAULT_SPEED = 165  # words per minute: an unhurried phone voice
# 16-bit espeak output is exactly zero in its padding; -50 dBFS keeps soft fricatives.
SILENCE_THRESHOLD = 0.003
# Short fades so a clip that starts mid-waveform does not click.
FADE_SECONDS = 0.005
# Bump when the clip processing changes, so stale cached clips are not reused.
CACHE_VERSION = 1


class SynthesisError(Exception):
    """Speech could not be synthesized or written (a missing tool, a bad voice)."""


@dataclass
class ScriptLine:
    """One turn to be spoken.

    ``pause_before`` is the silence between the moment the call last fell quiet and
    this line. ``overlap`` > 0 starts the line that many seconds before the previous
    line ends instead (both talking at once); ``pause_before`` then does not apply.
    The first line of a call cannot overlap: its ``pause_before`` counts from zero.
    """

    speaker: str
    text: str
    pause_before: float = 0.5
    overlap: float = 0.0

    def __post_init__(self):
        if self.speaker not in (SELLER, PROSPECT):
            raise ValueError(f"speaker must be {SELLER!r} or {PROSPECT!r}, not {self.speaker!r}")
        if not self.text or not self.text.strip():
            raise ValueError("a script line needs some text")
        if self.pause_before < 0 or self.overlap < 0:
            raise ValueError(f"pause_before and overlap must not be negative: {self.text!r}")


@dataclass
class SpokenLine:
    """Where a line's speech really is in the call, in seconds (padding trimmed)."""

    speaker: str
    text: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class CallTiming:
    """The truth about a synthesized call, as stored next to its audio."""

    duration: float
    lines: list[SpokenLine]
    title: str = ""

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "duration": round(self.duration, 4),
            "lines": [
                {**asdict(line), "start": round(line.start, 4), "end": round(line.end, 4)}
                for line in self.lines
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "CallTiming":
        return cls(
            duration=float(data["duration"]),
            lines=[SpokenLine(**line) for line in data["lines"]],
            title=data.get("title", ""),
        )

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)
            f.write("\n")

    @classmethod
    def read(cls, path: str) -> "CallTiming":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


@dataclass
class SynthesizedCall:
    """Both sides of a call as float32 mono arrays of equal length, plus the timing truth."""

    seller: np.ndarray
    prospect: np.ndarray
    lines: list[SpokenLine]
    rate: int = SAMPLE_RATE
    title: str = ""

    @property
    def duration(self) -> float:
        return len(self.seller) / self.rate

    def timing(self) -> CallTiming:
        return CallTiming(duration=self.duration, lines=list(self.lines), title=self.title)

    def write_stereo(self, path: str) -> None:
        """Write one stereo file, left = seller, right = prospect (.wav, or .flac etc. via sox)."""
        write_audio(path, np.stack([self.seller, self.prospect], axis=1), self.rate)

    def write_mono_pair(self, seller_path: str, prospect_path: str) -> None:
        write_audio(seller_path, self.seller[:, None], self.rate)
        write_audio(prospect_path, self.prospect[:, None], self.rate)


def synthesize_call(
    lines: Iterable[ScriptLine],
    out_path: Optional[str] = None,
    seed: int = 0,
    rate: int = SAMPLE_RATE,
    *,
    voices: Optional[dict] = None,
    speed: int = DEFAULT_SPEED,
    tail: float = 1.0,
    noise: float = 0.0,
    title: str = "",
    cache_dir: Optional[str] = None,
) -> SynthesizedCall:
    """Speak ``lines`` and lay them out on a two-channel timeline.

    ``voices`` maps speaker to an espeak-ng voice (defaults: seller ``en-us``,
    prospect ``en-us+f3``). ``tail`` seconds of silence end the call, so a recognizer
    can hear the last line finish. ``noise`` adds white noise of that RMS to both
    channels (reproducible by ``seed``). ``out_path`` also writes the stereo file.
    """
    lines = list(lines)
    if not lines:
        raise ValueError("a call needs at least one line")
    voices = {**DEFAULT_VOICES, **(voices or {})}
    clips = [_clip(voices[line.speaker], speed, line.text, rate, cache_dir) for line in lines]

    spoken: list[SpokenLine] = []
    starts: list[int] = []
    end = 0
    quiet_from = 0  # sample where everyone had stopped talking
    for line, clip in zip(lines, clips):
        if line.overlap > 0 and starts:
            start = end - round(line.overlap * rate)
            if start < starts[-1]:
                raise ValueError(
                    f"overlap {line.overlap} s is longer than the previous line "
                    f"({spoken[-1].duration:.2f} s): {line.text!r}"
                )
        else:
            start = quiet_from + round(line.pause_before * rate)
        end = start + len(clip)
        starts.append(start)
        spoken.append(SpokenLine(line.speaker, line.text, start / rate, end / rate))
        quiet_from = max(quiet_from, end)

    total = quiet_from + round(tail * rate)
    channels = {SELLER: np.zeros(total, np.float32), PROSPECT: np.zeros(total, np.float32)}
    for line, clip, start in zip(lines, clips, starts):
        channels[line.speaker][start : start + len(clip)] += clip
    if noise > 0:
        rng = np.random.default_rng(seed)
        for samples in channels.values():
            samples += rng.normal(0.0, noise, total).astype(np.float32)

    call = SynthesizedCall(channels[SELLER], channels[PROSPECT], spoken, rate, title)
    if out_path:
        call.write_stereo(out_path)
    return call


def load_script(path: str) -> tuple[dict, list[ScriptLine]]:
    """Read a YAML script: a mapping with ``lines`` (and any metadata, returned as is)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise ValueError(f"{path}: expected a mapping with a list of `lines`")
    try:
        lines = [ScriptLine(**entry) for entry in data["lines"]]
    except TypeError as e:
        raise ValueError(f"{path}: bad line: {e}") from None
    meta = {key: value for key, value in data.items() if key != "lines"}
    return meta, lines


def cache_folder() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "voicecoach-synth")


def write_audio(path: str, frames: np.ndarray, rate: int) -> None:
    """Write ``frames`` (samples x channels, float in [-1, 1]) as 16-bit audio."""
    if path.lower().endswith(".wav"):
        _write_wav(path, frames, rate)
        return
    sox = shutil.which("sox")
    if sox is None:
        raise SynthesisError(f"writing {os.path.basename(path)} needs sox: install it with: apt-get install sox")
    with tempfile.TemporaryDirectory(prefix="voicecoach-synth-") as tmp:
        wav = os.path.join(tmp, "call.wav")
        _write_wav(wav, frames, rate)
        _run([sox, wav, path], f"sox could not write {path}")


def _write_wav(path: str, frames: np.ndarray, rate: int) -> None:
    pcm = np.round(np.clip(frames, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(path, "wb") as f:
        f.setnchannels(pcm.shape[1])
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.tobytes())


def _clip(voice: str, speed: int, text: str, rate: int, cache_dir: Optional[str]) -> np.ndarray:
    """The trimmed speech for one line at ``rate``, from the cache or from espeak-ng."""
    folder = cache_dir or cache_folder()
    key = hashlib.sha256(json.dumps([CACHE_VERSION, voice, speed, rate, text]).encode()).hexdigest()
    cached = os.path.join(folder, key[:32] + ".npy")
    try:
        return np.load(cached)
    except (OSError, ValueError, EOFError):
        pass
    clip = _speak(voice, speed, text, rate)
    os.makedirs(folder, exist_ok=True)
    # Parallel test workers may write the same clip: replace atomically.
    fd, partial = tempfile.mkstemp(dir=folder, suffix=".npy.part")
    with os.fdopen(fd, "wb") as f:
        np.save(f, clip)
    os.replace(partial, cached)
    return clip


def _speak(voice: str, speed: int, text: str, rate: int) -> np.ndarray:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SynthesisError("espeak-ng is not installed: install it with: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory(prefix="voicecoach-synth-") as tmp:
        text_path, wav_path = os.path.join(tmp, "line.txt"), os.path.join(tmp, "line.wav")
        with open(text_path, "w", encoding="utf-8") as f:
            f.write(text)
        # Text from a file: a line starting with "-" must not read as an option.
        _run([espeak, "-v", voice, "-s", str(speed), "-w", wav_path, "-f", text_path],
             f"espeak-ng could not speak with voice {voice!r}")
        samples, source_rate = _read_wav(wav_path)
    return _trim_and_resample(samples, source_rate, rate, text)


def _trim_and_resample(samples: np.ndarray, source_rate: int, rate: int, text: str) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples) > SILENCE_THRESHOLD)
    if len(loud) == 0:
        raise SynthesisError(f"espeak-ng produced no audible speech for {text!r}")
    speech = samples[loud[0] : loud[-1] + 1]
    # FFT resampling treats the clip as periodic: zero margins keep the wrap-around
    # away from the speech, and are cut off again afterwards.
    margin = source_rate // 50
    padded = np.concatenate([np.zeros(margin), speech, np.zeros(margin)])
    resampled = _resample(padded, source_rate, rate)
    offset = round(margin * rate / source_rate)
    clip = resampled[offset : offset + round(len(speech) * rate / source_rate)]
    fade = min(round(FADE_SECONDS * rate), len(clip) // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    return clip.astype(np.float32)


def _resample(samples: np.ndarray, source_rate: int, rate: int) -> np.ndarray:
    if source_rate == rate:
        return samples.copy()
    n_out = round(len(samples) * rate / source_rate)
    spectrum = np.fft.rfft(samples)[: n_out // 2 + 1]
    return np.fft.irfft(spectrum, n_out) * (n_out / len(samples))


def _read_wav(path: str) -> tuple[np.ndarray, int]:
    try:
        with wave.open(path, "rb") as f:
            if f.getsampwidth() != 2:
                raise SynthesisError(f"espeak-ng wrote {8 * f.getsampwidth()}-bit audio, expected 16-bit")
            raw = np.frombuffer(f.readframes(f.getnframes()), "<i2")
            samples = raw.reshape(-1, f.getnchannels()).mean(axis=1)
            return samples / 32768.0, f.getframerate()
    except (OSError, EOFError, wave.Error) as e:
        raise SynthesisError(f"espeak-ng wrote no readable audio: {e}") from None


def _run(command: Sequence[str], failure: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise SynthesisError(f"{failure}: {detail[-1] if detail else 'exit status ' + str(result.returncode)}")
