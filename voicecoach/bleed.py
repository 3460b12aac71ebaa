"""Remove the prospect's voice that leaks into the seller's microphone (speaker bleed).

With loudspeakers instead of headphones the call app's output reaches the seller's
microphone a little later (0-300 ms), quieter, and coloured by the room. The
loopback channel carries exactly what was played, so the leak is that signal run
through an unknown echo path. :class:`BleedCanceller` learns the path and removes
the leak from the microphone, so the prospect's words are not transcribed, coached
and counted as the seller's.

How (a two-filter frequency-domain echo canceller in the manner of Speex's MDF,
numpy only, 1-2% of one laptop core):

* a partitioned-block frequency-domain NLMS filter (one 32 ms block per
  partition, overlap-save, proportionate step) spans every delay from 0 to
  ``max_delay`` plus a reverberation ``tail``;
* the microphone is cross-correlated with the loopback over the last half second:
  a clear single path that the filter has not found yet restarts it from that lag
  and gain, so a leak is caught within a few blocks instead of the seconds NLMS
  alone needs. A weak correlation must span several blocks of sound to count,
  since one short sound can match unrelated speech by chance;
* a *background* filter adapts on every block; the *foreground* filter, the only
  one whose output is used, takes the background's weights only when they remove
  significantly more energy than its own (Speex's statistical test) and at least
  ``min_erle_db`` of the microphone's energy over several blocks. When the seller
  talks over the prospect (double talk) the background is thrown off, never wins,
  and the foreground keeps cancelling with the last good path; a background gone
  astray restarts from the foreground. With no leak to learn (headphones) the
  foreground stays empty and the microphone passes through bit for bit;
* a residual suppressor handles what the linear filter leaves (reverberation it
  has not learned yet; a voice detector hears speech down to -70 dBFS): the
  leftover is predicted as a learned share of the echo estimate, and a block the
  leak alone explains is cut by 40 dB and filled with noise at the microphone's
  own noise floor, while a block with more energy than that (the seller talking)
  keeps its level.

Sample positions are session sample counts at 16 kHz, shared by both channels.
:class:`BleedCanceller` cleans one 512-sample block at a time;
:class:`SellerBleedFilter` takes chunks of any size from both channels in any
interleaving, holds the seller's audio back until the prospect's audio of the same
moment has arrived (bounded), and returns the seller's audio cleaned.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np

SAMPLE_RATE = 16000
BLOCK_SAMPLES = 512  # the VAD frame: cleaning adds no latency of its own
# How far the leak may trail the loopback, and the room's reverberation after that.
MAX_DELAY = 0.3
TAIL = 0.1
# Audio kept per channel, in samples (a power of two above the filter's span).
_HISTORY = 1 << 16
# Loopback quieter than this (-80 dBFS RMS) is silence: nothing to learn from it.
_SILENT = 1e-4
# The delay estimate: a cross-correlation over up to 0.5 s of microphone, run on
# every block until a leak is found, then every fourth.
ESTIMATE_BLOCKS = 16
MIN_ESTIMATE_BLOCKS = 4
ESTIMATE_EVERY = 4
MIN_CORRELATION = 0.7
# A correlation this strong is no accident even over a single block of sound.
STRONG_CORRELATION = 0.95
MIN_SPREAD_BLOCKS = 3
# The background must prove itself over 2 to 8 blocks before it is used (one
# after a restart from a strong correlation).
MIN_TRIAL_BLOCKS = 2
TRIAL_BLOCKS = 8
# Residual suppression: the leftover leak is predicted as ``leak`` times the echo
# estimate's energy, held up by a reverberation decay; a block is turned down by
# OVER_SUBTRACTION times the predicted share, at most to SUPPRESSION_FLOOR.
MIN_LEAK = 0.001
LEAK_ALONE = 0.9  # correlation above which a window holds the leak alone, to learn from
ROOM_DECAY = 10 ** (-6 / 10)  # per block: 6 dB per 32 ms, an RT60 of 0.32 s
OVER_SUBTRACTION = 3.0
# A block is the leak alone, and is cut to the floor, when the microphone has no
# more than twice the echo estimate's energy and what subtraction left is within
# 15 dB of the predicted leftover (blocks vary that much around the prediction).
ECHO_ONLY = 2.0
LEFTOVER_SPREAD = 10 ** (15 / 10)
# Subtraction that leaves more than twice the microphone's energy is a misprediction.
MISPREDICTED = 2.0
SUPPRESSION_FLOOR = 10 ** (-40 / 20)
# What is taken out is replaced by noise at the microphone's own noise floor (never
# below -70 dBFS): a voice detector hears even -70 dBFS speech in digital silence,
# but not under noise a little louder than it.
COMFORT_MIN = 10 ** (-70 / 20)
NOISE_BLOCKS = 5 * SAMPLE_RATE // BLOCK_SAMPLES  # the noise floor is the quietest block of 5 s
# A microphone window within 6 dB of that floor holds no leak worth a cross-correlation.
NOISE_MARGIN = 4.0


@dataclass
class BleedStats:
    """What the canceller is doing, for logs and the live indicator."""

    frames: int = 0  # microphone blocks seen
    frames_cleaned: int = 0  # blocks changed (leak subtracted and/or residual turned down)
    frames_without_reference: int = 0  # blocks passed through: no loopback audio for them
    active: bool = False  # a leak path has been confirmed and is being cancelled
    lag_ms: Optional[float] = None  # delay of the strongest path, microphone behind loopback
    gain_db: Optional[float] = None  # energy gain of the leak path (-12: the leak is 12 dB down)
    erle_db: float = 0.0  # recent energy removed where blocks were cleaned

    def describe(self) -> str:
        if not self.active:
            return f"bleed: none detected ({self.frames} frames)"
        return (
            f"bleed: {self.gain_db:+.1f} dB at {self.lag_ms:.0f} ms, {self.erle_db:.1f} dB removed, "
            f"{self.frames_cleaned}/{self.frames} frames cleaned"
        )


@dataclass
class PathEstimate:
    """The strongest single path found by cross-correlating the microphone with the loopback."""

    lag: int  # samples, in the filter's frame (``lead`` included)
    gain: float
    correlation: float  # normalised, at that lag


class BleedCanceller:
    """Cancels the loopback (prospect) audio that leaks into the microphone.

    Push loopback audio with :meth:`reference` as it arrives and clean microphone
    blocks with :meth:`process`, in time order. A block whose loopback audio has not
    arrived comes back unchanged (see :class:`SellerBleedFilter` to wait for it).

    ``lead`` lets the leak appear up to that many seconds *before* its loopback
    timestamp (two devices whose session clocks agree only to a few tens of
    milliseconds); the loopback must then arrive that much ahead of the microphone.
    """

    def __init__(
        self,
        *,
        sample_rate: int = SAMPLE_RATE,
        block: int = BLOCK_SAMPLES,
        max_delay: float = MAX_DELAY,
        tail: float = TAIL,
        lead: float = 0.0,
        step: float = 0.8,
        min_erle_db: float = 3.0,
        suppress_residual: bool = True,
    ):
        self.sample_rate = sample_rate
        self.block = block
        self.lead = int(round(lead * sample_rate))
        self.partitions = max(1, math.ceil((self.lead + (max_delay + tail) * sample_rate) / block))
        self.step = step
        self.min_erle = 10 ** (min_erle_db / 10)
        self.suppress_residual = suppress_residual
        self.path_estimate: Optional[PathEstimate] = None
        bins = block + 1
        self._reference = np.zeros(_HISTORY, np.float32)
        self._reference_end: Optional[int] = None  # one past the newest loopback sample, lead applied
        self._mic = np.zeros(_HISTORY, np.float32)
        self._spectra = np.zeros((self.partitions, bins), np.complex128)  # loopback blocks, newest first
        self._spectra_for: Optional[int] = None  # the block start they are aligned to
        self._spectra_continued = False  # this block follows the previous one
        self._background = np.zeros((self.partitions, bins), np.complex128)
        self._foreground = np.zeros((self.partitions, bins), np.complex128)
        self._zeros = np.zeros(block)
        self._run = 0  # consecutive blocks cleaned with loopback audio
        # Per block: mic, background error, foreground error, echo tail energies.
        self._energies: collections.deque = collections.deque(maxlen=ESTIMATE_BLOCKS)
        self._davg1 = self._davg2 = self._dvar1 = self._dvar2 = 0.0
        # (mic, background error) energies since the background last restarted.
        self._trial: collections.deque = collections.deque(maxlen=TRIAL_BLOCKS)
        self._trial_needed = MIN_TRIAL_BLOCKS
        # Residual suppressor: leftover share of the echo, learned where the leak dominates.
        self._echo = np.zeros(_HISTORY, np.float32)  # the foreground's echo estimate
        self._echo_tail = 0.0
        self._leak = 0.5
        self._gain = 1.0
        self._powers: collections.deque = collections.deque(maxlen=NOISE_BLOCKS)  # mic mean squares
        self._comfort = np.random.default_rng(0)
        self._before = self._after = 0.0  # smoothed energies behind erle_db
        self._stats = BleedStats()

    # -- the public side ------------------------------------------------------------

    def reference(self, samples: np.ndarray, start_sample: int) -> None:
        """Store loopback audio that starts at session sample ``start_sample``."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        start = int(start_sample) - self.lead
        end = start + len(samples)
        if self._reference_end is not None and start > self._reference_end:
            # A gap in the loopback (device lost, stream restarted): nothing played then.
            gap = min(start, self._reference_end + _HISTORY)
            _write(self._reference, self._reference_end, np.zeros(gap - self._reference_end, np.float32))
        if len(samples) > _HISTORY:
            samples, start = samples[-_HISTORY:], end - _HISTORY
        _write(self._reference, start, samples)
        self._reference_end = end if self._reference_end is None else max(self._reference_end, end)

    @property
    def reference_end(self) -> Optional[int]:
        """One past the last session sample a microphone block may reach and still be cleaned."""
        return self._reference_end

    def covered(self, start_sample: int, length: int) -> bool:
        """Whether the loopback audio needed to clean this microphone block has arrived."""
        return self._reference_end is not None and self._reference_end >= start_sample + length

    def process(self, frame: np.ndarray, start_sample: int) -> np.ndarray:
        """The microphone block ``frame`` (``block`` samples from ``start_sample``), cleaned."""
        frame = np.asarray(frame, np.float32).reshape(-1)
        if len(frame) != self.block:
            raise ValueError(f"expected a block of {self.block} samples, got {len(frame)}")
        start = int(start_sample)
        _write(self._mic, start, frame)
        self._stats.frames += 1
        if not self.covered(start, self.block):
            self._stats.frames_without_reference += 1
            self._spectra_for = None
            self._run = 0
            self._energies.clear()
            return frame
        self._align_spectra(start)
        self._run = self._run + 1 if self._spectra_continued else 1
        cleaned = self._cancel(frame.astype(np.float64), start)
        every = ESTIMATE_EVERY if self._foreground.any() else 1
        if self._run >= MIN_ESTIMATE_BLOCKS and self._run % every == 0:
            self._estimate_path(start + self.block, min(self._run, ESTIMATE_BLOCKS))
        if cleaned is None:
            return frame
        self._stats.frames_cleaned += 1
        return cleaned.astype(np.float32)

    @property
    def stats(self) -> BleedStats:
        stats = replace(self._stats)
        stats.active = bool(self._foreground.any())
        if stats.active:
            taps = np.fft.irfft(self._foreground, axis=1)[:, : self.block].reshape(-1)
            stats.lag_ms = 1000.0 * (int(np.argmax(np.abs(taps))) - self.lead) / self.sample_rate
            stats.gain_db = 10 * math.log10(max(float(taps @ taps), 1e-12))
        if self._before > 0:
            stats.erle_db = 10 * math.log10(self._before / max(self._after, 1e-20))
        return stats

    # -- the filter -------------------------------------------------------------------

    def _read(self, start: int, length: int) -> np.ndarray:
        out = self._reference[np.arange(start, start + length) % _HISTORY].astype(np.float64)
        oldest = self._reference_end - _HISTORY  # older audio has been overwritten
        if start < oldest:
            out[: min(length, oldest - start)] = 0.0
        return out

    def _align_spectra(self, start: int) -> None:
        n = self.block
        self._spectra_continued = self._spectra_for is not None and start == self._spectra_for + n
        if self._spectra_continued:
            self._spectra[1:] = self._spectra[:-1]
            self._spectra[0] = np.fft.rfft(self._read(start - n, 2 * n))
        else:
            starts = start - n * np.arange(self.partitions)
            windows = np.stack([self._read(s - n, 2 * n) for s in starts])
            self._spectra = np.fft.rfft(windows, axis=1)
            self._energies.clear()
        self._spectra_for = start

    def _echoes(self, *filters: np.ndarray) -> np.ndarray:
        out = np.zeros((len(filters), self.block))
        used = [i for i, f in enumerate(filters) if f.any()]  # an empty filter echoes nothing
        if used:
            spectra = np.stack([(filters[i] * self._spectra).sum(axis=0) for i in used])
            out[used] = np.fft.irfft(spectra, axis=1)[:, self.block :]
        return out

    def _cancel(self, mic: np.ndarray, start: int) -> Optional[np.ndarray]:
        """The cleaned block, or None where it is best left alone."""
        background_echo, foreground_echo = self._echoes(self._background, self._foreground)
        background_error = mic - background_echo
        foreground_error = mic - foreground_echo
        mic_energy = float(mic @ mic)
        self._powers.append(mic_energy / len(mic))
        reference_energy = float(np.mean(np.abs(self._spectra) ** 2)) / (2 * self.block)
        if reference_energy > _SILENT**2:
            self._adapt(background_error)
        difference = background_echo - foreground_echo
        if self._compare(mic_energy, foreground_error, background_error, difference):
            (foreground_echo,) = self._echoes(self._foreground)
            foreground_error = mic - foreground_echo
        _write(self._echo, start, foreground_echo.astype(np.float32))
        error_energy = float(foreground_error @ foreground_error)
        echo_energy = float(foreground_echo @ foreground_echo)
        self._echo_tail = max(echo_energy, ROOM_DECAY * self._echo_tail)
        self._energies.append(
            (mic_energy, float(background_error @ background_error), error_energy, self._echo_tail)
        )
        if not self._foreground.any():
            return None
        # The foreground has proven itself, so subtract even where the seller's voice
        # happens to make the difference louder; but not where the estimate adds far
        # more than it removes (a filter still learning the room predicting a tail
        # that is not there).
        if error_energy <= MISPREDICTED * mic_energy:
            cleaned, cleaned_energy = foreground_error, error_energy
        else:
            cleaned, cleaned_energy = mic, mic_energy
        if self.suppress_residual:
            cleaned = self._suppress(cleaned, cleaned_energy, mic_energy)
            cleaned_energy = float(cleaned @ cleaned)
        if cleaned is mic:
            return None
        self._before = 0.95 * self._before + 0.05 * mic_energy
        self._after = 0.95 * self._after + 0.05 * cleaned_energy
        return cleaned

    def _adapt(self, error: np.ndarray) -> None:
        """One proportionate NLMS step of the background filter."""
        n = self.block
        error_spectrum = np.fft.rfft(np.concatenate([self._zeros, error]))
        # Partitions that hold the path learn fastest: a pure delay converges quickly.
        # Each partition's taps fill only the first half of its window, so their energy
        # is the spectrum's (Parseval), with no inverse transform.
        magnitudes = np.abs(self._background) ** 2
        energies = (2 * magnitudes.sum(axis=1) - magnitudes[:, 0] - magnitudes[:, -1]) / (2 * n)
        norms = np.sqrt(1e-6 + energies)
        share = norms + 0.1 * norms.max()
        share /= share.sum()
        # Normalised per frequency by the loopback power the filter sees, weighted like
        # the step: stable at any level and spectrum.
        power = share @ (np.abs(self._spectra) ** 2)
        floor = 1e-3 * float(power.mean()) + 2 * n * _SILENT**2
        gradient = np.conj(self._spectra) * (error_spectrum / (power + floor))
        updated = self._background + (self.step * share)[:, None] * gradient
        # Keep every partition a linear (not circular) convolution: zero its second half.
        taps = np.fft.irfft(updated, axis=1)
        taps[:, n:] = 0.0
        self._background = np.fft.rfft(taps, axis=1)

    def _compare(self, mic_energy, foreground_error, background_error, difference) -> bool:
        """Adopt the background when it is significantly better; say if it was.

        Speex's statistical test on this block, and on the blocks since the
        background last restarted: together they must remove ``min_erle_db`` of the
        microphone's energy. Chance reductions between uncorrelated channels
        (headphones) last a block, not a window.
        """
        sff = float(foreground_error @ foreground_error)
        see = float(background_error @ background_error)
        self._trial.append((mic_energy, see))
        dbf = 1e-12 + float(difference @ difference)
        gap = sff - see
        self._davg1 = 0.6 * self._davg1 + 0.4 * gap
        self._davg2 = 0.85 * self._davg2 + 0.15 * gap
        self._dvar1 = 0.36 * self._dvar1 + 0.16 * sff * dbf
        self._dvar2 = 0.7225 * self._dvar2 + 0.0225 * sff * dbf
        better = (
            gap * abs(gap) > sff * dbf
            or self._davg1 * abs(self._davg1) > 0.5 * self._dvar1
            or self._davg2 * abs(self._davg2) > 0.25 * self._dvar2
        )
        trial_mic = sum(m for m, _ in self._trial)
        trial_error = sum(e for _, e in self._trial)
        if (
            better
            and see * self.min_erle < mic_energy
            and len(self._trial) >= self._trial_needed
            and trial_error * self.min_erle < trial_mic
        ):
            self._foreground = self._background.copy()
            self._restart_background(None)
            return True
        astray = len(self._trial) == self._trial.maxlen and trial_error > trial_mic
        if -gap * abs(gap) > 4 * sff * dbf or astray:
            # Double talk threw the background off, or it learned a path that only
            # adds sound: restart it from the foreground.
            self._restart_background(self._foreground)
        return False

    def _restart_background(self, weights: Optional[np.ndarray], trial: int = MIN_TRIAL_BLOCKS) -> None:
        if weights is not None:
            self._background = weights.copy()
        self._davg1 = self._davg2 = self._dvar1 = self._dvar2 = 0.0
        self._trial.clear()
        self._trial_needed = trial

    def _estimate_path(self, end: int, blocks: int) -> None:
        """Cross-correlate the recent microphone with the loopback at every lag the
        filter covers; restart the background from a clear path it has not found."""
        n, w = self.block, blocks * self.block
        longest = self.partitions * n - 1
        mic = self._mic[np.arange(end - w, end) % _HISTORY].astype(np.float64)
        mic_energy = float(mic @ mic)
        if mic_energy < w * _SILENT**2:
            return
        if len(self._powers) == self._powers.maxlen and mic_energy < w * NOISE_MARGIN * min(self._powers):
            return  # only the microphone's own noise: no leak to find in it
        reference = self._read(end - w - longest, w + longest)
        squares = np.concatenate([[0.0], np.cumsum(reference**2)])
        energies = squares[w : w + longest + 1] - squares[: longest + 1]
        loud = energies > w * (10 * _SILENT) ** 2
        if not loud.any():
            return
        size = 1 << (w + longest - 1).bit_length()
        # correlation[k] = sum_i mic[i] * reference[i + k], at lag longest - k.
        spectrum = np.conj(np.fft.rfft(mic, size)) * np.fft.rfft(reference, size)
        correlation = np.fft.irfft(spectrum, size)[: longest + 1]
        normalised = np.where(loud, correlation / np.sqrt(mic_energy * np.maximum(energies, 1e-20)), 0.0)
        k = int(np.argmax(np.abs(normalised)))
        rho = float(normalised[k])
        gain = float(correlation[k] / energies[k])
        self.path_estimate = PathEstimate(lag=longest - k, gain=gain, correlation=rho)
        learned = min(blocks, len(self._energies))
        if learned < MIN_ESTIMATE_BLOCKS:
            return
        recent = list(self._energies)[-learned:]
        if self._foreground.any():
            # How much of the microphone the foreground's echo estimate explains.
            tail = mic[-learned * n :]
            echo = self._echo[np.arange(end - learned * n, end) % _HISTORY].astype(np.float64)
            scale = math.sqrt(max(float(tail @ tail) * float(echo @ echo), 1e-30))
            explained = float(tail @ echo) / scale
            if max(abs(rho), explained) >= LEAK_ALONE:
                # The leak is nearly all the microphone hears (no double talk): learn
                # what share of the echo the linear filter leaves behind.
                # The median block, so that the seller starting to talk in the last
                # blocks of the window does not count as leftover leak.
                window_leak = float(np.median([e[2] / max(e[3], 1e-20) for e in recent]))
                self._leak = min(max(math.sqrt(self._leak * window_leak), MIN_LEAK), 1.0)
        mic_sum = sum(e[0] for e in recent)
        # One short sound can correlate well with some stretch of unrelated speech by
        # chance: the weaker the correlation, the more blocks it must span.
        strong = abs(rho) >= STRONG_CORRELATION
        spread = mic_sum / max(max(e[0] for e in recent), 1e-20)
        if abs(rho) < MIN_CORRELATION or spread < (1.0 if strong else MIN_SPREAD_BLOCKS):
            return
        background_sum = sum(e[1] for e in recent)
        # The single path would leave (1 - rho^2) of the energy: restart only from a
        # clearly better place than where the background is.
        if background_sum > 2.0 * (1.0 - rho**2) * mic_sum:
            taps = np.zeros((self.partitions, 2 * n))
            lag = self.path_estimate.lag
            taps[lag // n, lag % n] = self.path_estimate.gain
            self._restart_background(np.fft.rfft(taps, axis=1), trial=1 if strong else MIN_TRIAL_BLOCKS)
            self._energies.clear()

    def _suppress(self, error: np.ndarray, error_energy: float, mic_energy: float) -> np.ndarray:
        """Turn the block down by the share of its energy that is predicted leftover leak."""
        residual = self._leak * self._echo_tail
        if mic_energy <= ECHO_ONLY * self._echo_tail and error_energy <= LEFTOVER_SPREAD * residual:
            # The leak alone accounts for what the microphone heard: the seller is silent.
            gain = SUPPRESSION_FLOOR
        else:
            gain = max(1.0 - OVER_SUBTRACTION * residual / max(error_energy, 1e-20), SUPPRESSION_FLOOR)
        # Ramp from the last block's gain so the change does not click.
        ramp = np.linspace(self._gain, gain, len(error) + 1)[1:]
        self._gain = gain
        if gain >= 1.0 and ramp[0] >= 1.0:
            return error
        # The quietest recent block is the microphone's own noise (minimum statistics).
        level = math.sqrt(max(min(self._powers), COMFORT_MIN**2))
        comfort = self._comfort.standard_normal(len(error)) * level
        return error * ramp + comfort * np.sqrt(1.0 - ramp**2)


class SellerBleedFilter:
    """The seller's channel cleaned of the prospect's leak, for chunks of any size.

    Feed both channels' chunks as they arrive, in any order; :meth:`seller` and
    :meth:`prospect` return the seller audio now ready, cleaned, as
    ``(samples, start_sample)`` pieces that follow one another without gaps. Seller
    audio waits for the loopback audio of the same moment, but never more than
    ``max_wait`` seconds of session time ahead of it: past that (the prospect's device
    lags or is gone) it is let through unchanged at once until the loopback catches up.
    ``max_wait`` must exceed the loopback's chunk length (0.5 s for recorded files).
    """

    def __init__(self, canceller: Optional[BleedCanceller] = None, *, max_wait: float = 1.0):
        self.canceller = canceller or BleedCanceller()
        self.max_wait = int(round(max_wait * self.canceller.sample_rate))
        self._pending = np.zeros(0, np.float32)
        self._pending_start: Optional[int] = None
        self._stalled = False

    def prospect(self, samples: np.ndarray, start_sample: int) -> list[tuple[np.ndarray, int]]:
        """Loopback audio arrived; return the seller audio it releases."""
        self.canceller.reference(samples, start_sample)
        return self._release()

    def seller(self, samples: np.ndarray, start_sample: int) -> list[tuple[np.ndarray, int]]:
        """Microphone audio arrived; return the seller audio ready now."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        start = int(start_sample)
        ready = []
        if len(self._pending) and start != self._pending_start + len(self._pending):
            # The microphone stream jumped (a reconnected device): finish what was
            # held before it, then start again from here.
            ready = self.flush()
        if len(self._pending) == 0:
            self._pending_start, self._pending = start, samples
        else:
            self._pending = np.concatenate([self._pending, samples])
        return ready + self._release()

    def flush(self) -> list[tuple[np.ndarray, int]]:
        """The audio ended: everything held back, cleaned where possible."""
        ready = self._release(force=True)
        if len(self._pending):
            ready.append((self._pending, self._pending_start))
            self._pending = np.zeros(0, np.float32)
        return ready

    @property
    def stats(self) -> BleedStats:
        return self.canceller.stats

    def _release(self, force: bool = False) -> list[tuple[np.ndarray, int]]:
        n = self.canceller.block
        ready = []
        while len(self._pending) >= n:
            start = self._pending_start
            end = self.canceller.reference_end
            if self._stalled and end is not None and end >= start + n:
                self._stalled = False
            if not (self._stalled or force or self.canceller.covered(start, n)):
                ahead = start + len(self._pending) - max(end or 0, start)
                if ahead <= self.max_wait:
                    break
                # The loopback stopped: let the seller through at once until it is
                # back, rather than max_wait late for the rest of the call.
                self._stalled = True
            ready.append((self.canceller.process(self._pending[:n], start), start))
            self._pending = self._pending[n:]
            self._pending_start = start + n
        return ready


def _write(ring: np.ndarray, start: int, samples: np.ndarray) -> None:
    ring[np.arange(start, start + len(samples)) % len(ring)] = samples
