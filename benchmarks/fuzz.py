"""Fuzz the readers of the files people hand VoiceCoach: profiles, playbooks,
transcripts and audio.

Valid files are mutated at random (lines dropped, duplicated and re-indented,
YAML punctuation, tags, anchors and odd values dropped in, bytes flipped, files
cut short) and each result goes through the real loader, and now and then
through the command line as well. The contract is the one users are promised:
a file either loads, or is refused with one line that names it; never a
traceback, never a hang.

    python benchmarks/fuzz.py --minutes 10             # every reader, in turns
    python benchmarks/fuzz.py --minutes 2 --target audio
    python benchmarks/fuzz.py --seed 7 --cases 500      # reproducible

Every finding is saved, with its message, under ``--out`` (default
``fuzz-findings/``) and the run exits with status 1. ``tests/test_fuzz.py`` uses
the same mutations and checks as property-based tests with a short budget
(``VOICECOACH_FUZZ=long`` there runs twenty times as many examples).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# One case may take this long; longer is a hang. Loading a file takes milliseconds.
CASE_SECONDS = 10.0


class Finding(AssertionError):
    """A broken promise: a traceback, a message of several lines or none naming the file, a hang."""


class Hang(BaseException):
    """A case ran past its time. A BaseException, so that no ``except Exception`` on
    the way (a plugin dispatcher isolating failures) can swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float = CASE_SECONDS):
    """Raise :class:`Hang` in the main thread if the block runs longer than ``seconds``."""

    def expired(signum, frame):
        raise Hang(f"still running after {seconds:g} s")

    if not hasattr(signal, "setitimer") or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None):
        yield
        return
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- the contract ------------------------------------------------------------------


def check_message(message: str, path: str) -> str:
    """An error message as users must see it: one line that names the file."""
    if not message or "\n" in message.strip():
        raise Finding(f"the message is not one line: {message!r}")
    if "Traceback" in message:
        raise Finding(f"the message holds a traceback: {message!r}")
    if os.path.basename(path) not in message:
        raise Finding(f"the message does not name {os.path.basename(path)}: {message!r}")
    if len(message) > 600:
        raise Finding(f"the message is {len(message)} characters long: {message[:200]!r}...")
    return message


def _guarded(load: Callable[[str], object], errors: tuple, path: str) -> Optional[str]:
    """Run ``load(path)``: None when it loads, its message when refused as promised."""
    try:
        with time_limit():
            load(path)
    except errors as error:
        return check_message(str(error), path)
    except Exception as error:
        raise Finding(f"{type(error).__name__}: {str(error)[:300]}") from error
    return None


def check_profile(path: str) -> Optional[str]:
    from voicecoach.coach import installed_plugin_names
    from voicecoach.profiles import ProfileError, load_profile

    return _guarded(lambda p: load_profile(p, known_plugins=installed_plugin_names()), (ProfileError,), path)


def check_playbook(path: str) -> Optional[str]:
    from voicecoach_objections.playbook import PlaybookError, load_playbook

    return _guarded(lambda p: load_playbook(extra_file=p), (PlaybookError,), path)


def check_transcript(path: str) -> Optional[str]:
    from voicecoach.script import ScriptError, load_transcript_file

    return _guarded(load_transcript_file, (ScriptError,), path)


def check_audio(path: str) -> Optional[str]:
    """Decode the whole file as a replay would (no model): chunks, or one clear line."""
    from voicecoach.audio import AudioError
    from voicecoach.default_plugins.file_source import FileSource

    def decode(p):
        for _chunk in FileSource(input=p).chunks():
            pass

    return _guarded(decode, (AudioError,), path)


def check_cli(args: list[str], files: list[str]) -> tuple[int, str]:
    """Run ``voicecoach ARGS`` in-process; exit 0, or 1/2 with one ``Error:`` line naming a file."""
    from click.testing import CliRunner

    from voicecoach.cli import build_cli

    with time_limit(CASE_SECONDS * 3):
        result = CliRunner().invoke(build_cli(), args)
    output = result.output
    if "Traceback" in output:
        raise Finding(f"a traceback on the terminal:\n{output[-2000:]}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise Finding(f"voicecoach {' '.join(args[:1])} raised {type(result.exception).__name__}: {result.exception}")
    if result.exit_code == 0:
        return 0, output
    if result.exit_code not in (1, 2):
        raise Finding(f"exit status {result.exit_code}: {output[-500:]}")
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    if len(errors) != 1:
        raise Finding(f"expected one 'Error:' line, got {len(errors)}: {output[-1000:]!r}")
    if result.exit_code == 1 and not any(os.path.basename(path) in errors[0] for path in files):
        raise Finding(f"the error names none of {[os.path.basename(p) for p in files]}: {errors[0]!r}")
    return result.exit_code, errors[0]


# -- seeds: valid files ----------------------------------------------------------------

PROFILE_SEEDS = [
    open(os.path.join(ROOT, "profiles", name), encoding="utf-8").read()
    for name in sorted(os.listdir(os.path.join(ROOT, "profiles")))
    if name.endswith(".yaml")
] + [
    """\
description: My calls
capture: two-way          # or mic-only
source: file
transcriber: faster-whisper
devices: {seller: default, prospect: alsa_output.pci-0000_00_1f.3.analog-stereo.monitor}
arbitration: {min_interval: 4, cooldown: 30, max_age: 10}
endpointing: {min_silence: 0.3, min_speech: 0.25}
fallback_to_mic_only: true
remove_bleed: true
redact: true
plugins:
  objections:
    max_gap: 2
    objections:
      shipping:
        label: Shipping
        triggers: ["(shipping|delivery) (is|takes) (to|so) (long|slow)"]
        responses: ["When do you need it by? Then offer express."]
        follow_up: What date would work?
  stages: {}
  talk_ratio: {max_seller_share: 0.6}
  sqlite_log: {}
  terminal: {live_view: false}
""",
]

PLAYBOOK_SEEDS = [
    """\
# Extra objections for my calls
words:
  person: [wife, husband, partner, boss, "business partner"]
objections:
  shipping:
    label: Shipping
    triggers:
      - "(shipping|delivery) (is|takes) (too|so) (long|slow)"
      - "when (will|would) it (arrive|ship)"
    unless: ["(shipping|delivery) is (fine|ok)"]
    responses: ["Understood. When do you need it by? Then offer express."]
    follow_up: What date would work?
  spouse:
    label: Talk to {person}
    triggers: ["(need|have) to (talk|speak) (to|with) my {person}"]
    responses: ["Of course. What will they want to know?"]
""",
    """\
objections:
  price:
    responses: ["Is it the total, or the monthly amount?"]
""",
]

TRANSCRIPT_SEEDS = [
    """\
- {speaker: seller, text: "So what do you think of the proposal?"}
- {speaker: prospect, text: "Honestly, it is too expensive for us right now."}
- {speaker: seller, text: "What were you comparing it to?"}
- {speaker: prospect, text: "I need to talk to my wife first.", start: 9.5, end: 11.0}
""",
    """\
title: A short call
lines:
  - speaker: seller
    text: Hi, thanks for taking the time today.
    start: 0.5
    end: 2.5
  - speaker: prospect
    text: Sure. Let me think about it, send me an email.
    start: 3.0
  - speaker: mixed
    text: my card is four one one one one one one one one one one one one one one one
""",
    open(os.path.join(ROOT, "tests", "corpus", "dialogues", "coworking_space_tour.yaml"), encoding="utf-8").read(),
]


def audio_seeds(folder: str) -> list[str]:
    """Small valid recordings in the formats people have: WAV, FLAC, MP3, OGG."""
    from voicecoach.synth import write_audio

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for name, rate, channels in (("mono8k.wav", 8000, 1), ("stereo16k.wav", 16000, 2), ("six48k.wav", 48000, 6),
                                 ("stereo.flac", 44100, 2), ("mono.ogg", 16000, 1)):
        seconds = 0.6
        t = np.arange(int(rate * seconds)) / rate
        tone = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None] + 0.01 * rng.standard_normal((len(t), channels))
        path = os.path.join(folder, name)
        try:
            write_audio(path, tone, rate)
        except Exception:  # no sox: WAV only
            continue
        paths.append(path)
    mp3 = os.path.join(folder, "stereo.mp3")
    t = np.arange(22050) / 44100
    encode_audio(mp3, np.stack([np.sin(2 * np.pi * 330 * t)] * 2, axis=1) * 0.3, 44100, "libmp3lame")
    paths.append(mp3)
    return paths


CHANNEL_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1"}


def encode_audio(path: str, frames: np.ndarray, rate: int, codec: str, container_format: Optional[str] = None) -> None:
    """Write ``frames`` (samples x channels, float) with PyAV's ``codec``: MP3, AAC, Opus, float WAV."""
    import av

    layout = CHANNEL_LAYOUTS[frames.shape[1]]
    with av.open(path, "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        sample_format = stream.codec_context.codec.audio_formats[0].name
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(frames.astype(np.float32).reshape(1, -1)), format="flt", layout=layout
        )
        frame.sample_rate = rate
        for converted in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


# -- mutations ---------------------------------------------------------------------------

NASTY_VALUES = [
    ".inf", "-.inf", ".nan", "1e400", "-1", "0", "99999999999999999999999999999", "true", "null", "~", "[]", "{}",
    '""', "''", "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary aGVsbG8=",
    "!!set {a, b}", "!!omap [a: 1]", "!custom 1", "*nowhere", "&anchor [1, 2]", "2026-01-01", "12:30:00",
    "0x1F", "0o17", "1_000", "|", ">", "'unterminated", '"unterminated', "[unclosed", "{unclosed: 1",
    "x" * 5000, "../../../../etc/passwd", "/dev/zero", "/etc", "~/nope.yaml", "{<<: *nowhere}",
    "[" * 200 + "]" * 200, "\u202e\u0000", "\ufeff", "é\u0301", "%YAML 1.1", "---", "...", "? complex", "- - -",
    "\t", "@reserved", "`reserved", "!!int text", "!!float [1]", "!!str", "=", "<<",
]
YAML_CHARACTERS = list(":{}[]-?*&!|>'\"%@`#,\t\n ") + ["\x00", "\x1b", "\ufeff", "\u2028", "\ud800", "é", "\u00a0"]

LAUGHS = (
    "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 7))
)


def mutate_text(text: str, rng: random.Random) -> str:
    """One random edit of a YAML document, at the level a hand edit or a bad copy works."""
    lines = text.split("\n")
    choice = rng.randrange(14)
    at = rng.randrange(len(lines)) if lines else 0
    if choice == 0 and lines:  # delete a line
        del lines[at]
    elif choice == 1 and lines:  # duplicate a line
        lines.insert(at, lines[at])
    elif choice == 2 and len(lines) > 1:  # swap two lines
        other = rng.randrange(len(lines))
        lines[at], lines[other] = lines[other], lines[at]
    elif choice == 3 and lines:  # re-indent a line
        stripped = lines[at].lstrip(" ")
        lines[at] = " " * rng.choice([0, 1, 2, 3, 4, 6, 8, 40]) + stripped
    elif choice == 4:  # drop a YAML character in
        position = rng.randrange(len(text) + 1)
        return text[:position] + rng.choice(YAML_CHARACTERS) + text[position:]
    elif choice == 5 and text:  # delete a stretch of characters
        position = rng.randrange(len(text))
        return text[:position] + text[position + rng.randint(1, 12):]
    elif choice == 6:  # replace a value with a nasty one
        return _replace_value(text, rng)
    elif choice == 7:  # cut the file short
        return text[: rng.randrange(len(text) + 1)]
    elif choice == 8:  # a new key somewhere
        indent = " " * rng.choice([0, 2, 4, 6])
        key = rng.choice(["plugins", "capture", "objections", "lines", "speaker", "text", "start", "words", "label",
                          "triggers", "responses", "playbook", "endpointing", "arbitration", "zzz", "<<", "1", "null"])
        lines.insert(at, f"{indent}{key}: {rng.choice(NASTY_VALUES)}")
    elif choice == 9:  # anchors that expand a millionfold, then used as a value
        return LAUGHS + _replace_value(text, rng, forced="*a6")
    elif choice == 10:  # nest a value deeply
        depth = rng.choice([50, 500, 5000])
        return _replace_value(text, rng, forced="[" * depth + "1" + "]" * depth)
    elif choice == 11:  # a list where a mapping belongs, or the other way round
        return rng.choice(["- ", "", "key:\n  "]) + text.replace("\n", "\n  " if rng.random() < 0.5 else "\n- ")
    elif choice == 12:  # the same document twice, or a stray document marker
        return text + rng.choice(["\n---\n", "\n...\n", "\n"]) + text
    else:  # tabs for spaces, Windows line ends, or a byte-order mark
        return rng.choice([text.replace("  ", "\t", 1), text.replace("\n", "\r\n"), "\ufeff" + text,
                           text.replace("\n", "\r")])
    return "\n".join(lines)


def _replace_value(text: str, rng: random.Random, forced: Optional[str] = None) -> str:
    positions = [index for index, char in enumerate(text) if char == ":" and text[index + 1 : index + 2] in (" ", "\n")]
    if not positions:
        return text
    colon = rng.choice(positions)
    end = colon + 1
    while end < len(text) and text[end] not in "\n,}":
        end += 1
    return text[: colon + 1] + " " + (forced or rng.choice(NASTY_VALUES)) + text[end:]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One random edit of a binary file: what a bad copy, a bad disk or a wrong export does."""
    data = bytearray(data)
    choice = rng.randrange(8)
    if not data:
        return bytes(rng.randbytes(rng.randint(1, 64)))
    at = rng.randrange(len(data))
    if choice == 0:  # flip a few bits
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(data))
            data[position] ^= 1 << rng.randrange(8)
    elif choice == 1:  # cut it short
        del data[at:]
    elif choice == 2:  # overwrite a header byte with an extreme value
        position = rng.randrange(min(64, len(data)))
        data[position] = rng.choice([0, 1, 0x7F, 0x80, 0xFF])
    elif choice == 3:  # a stretch of zeros or garbage
        length = rng.randint(1, 4096)
        filler = bytes(length) if rng.random() < 0.5 else rng.randbytes(length)
        data[at : at + length] = filler[: len(data) - at]
    elif choice == 4:  # a stretch repeated
        length = rng.randint(1, 2048)
        data[at:at] = data[at : at + length]
    elif choice == 5:  # a stretch removed
        del data[at : at + rng.randint(1, 2048)]
    elif choice == 6:  # a 32-bit size field set to an extreme
        position = rng.randrange(min(60, max(1, len(data) - 4)))
        data[position : position + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f"])
    else:  # random bytes behind a real header
        data[64:] = rng.randbytes(max(0, len(data) - 64))
    return bytes(data)


# -- the run ------------------------------------------------------------------------------


@dataclass
class Tally:
    cases: int = 0
    loaded: int = 0
    refused: int = 0
    findings: list = field(default_factory=list)


TEXT_TARGETS = {
    "profile": (PROFILE_SEEDS, check_profile, ".yaml"),
    "playbook": (PLAYBOOK_SEEDS, check_playbook, ".yaml"),
    "transcript": (TRANSCRIPT_SEEDS, check_transcript, ".yaml"),
}
TARGETS = (*TEXT_TARGETS, "audio", "cli")


def one_case(target: str, rng: random.Random, folder: str, audio: list[str]) -> tuple[str, Optional[str], str]:
    """Make one mutated input for ``target``, check it; return (path, message or None, description)."""
    if target in TEXT_TARGETS:
        seeds, check, suffix = TEXT_TARGETS[target]
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 4)):
            text = mutate_text(text, rng)
        path = os.path.join(folder, f"{target}{suffix}")
        data = text.encode("utf-8", "surrogatepass")
        if rng.random() < 0.05:
            data = mutate_bytes(data, rng)
        with open(path, "wb") as handle:
            handle.write(data)
        return path, check(path), target
    if target == "audio":
        seed = rng.choice(audio)
        data = open(seed, "rb").read()
        for _ in range(rng.randint(1, 3)):
            data = mutate_bytes(data, rng)
        path = os.path.join(folder, "call" + os.path.splitext(seed)[1])
        with open(path, "wb") as handle:
            handle.write(data)
        return path, check_audio(path), f"audio from {os.path.basename(seed)}"
    # The command line: a mutated profile with a mutated transcript, or `plugins`.
    profile = os.path.join(folder, "cli-profile.yaml")
    transcript = os.path.join(folder, "cli-call.yaml")
    texts = [rng.choice(PROFILE_SEEDS), rng.choice(TRANSCRIPT_SEEDS)]
    for index in range(2):
        for _ in range(rng.randint(0, 3)):
            texts[index] = mutate_text(texts[index], rng)
    for path, text in ((profile, texts[0]), (transcript, texts[1])):
        with open(path, "wb") as handle:
            handle.write(text.encode("utf-8", "surrogatepass"))
    db = os.path.join(folder, "log.db")
    if rng.random() < 0.25:
        code, message = check_cli(["plugins", "--profile", profile], [profile])
    else:
        code, message = check_cli(["run", "--profile", profile, "--transcript", transcript, "--db", db],
                                  [profile, transcript])
    return profile, (message if code else None), "cli"


def fuzz(minutes: float, targets: list[str], seed: int, out: str, max_cases: Optional[int] = None) -> dict:
    rng = random.Random(seed)
    tallies = {target: Tally() for target in targets}
    deadline = time.monotonic() + minutes * 60
    folder = tempfile.mkdtemp(prefix="voicecoach-fuzz-")
    os.environ.setdefault("VOICECOACH_HOME", os.path.join(folder, "home"))
    try:
        audio = audio_seeds(os.path.join(folder, "seeds")) if "audio" in targets else []
        case = 0
        while time.monotonic() < deadline and (max_cases is None or case < max_cases):
            target = targets[case % len(targets)]
            case += 1
            tally = tallies[target]
            tally.cases += 1
            work = os.path.join(folder, "case")
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            try:
                path, message, what = one_case(target, rng, work, audio)
            except (Finding, Hang) as finding:
                saved = _save(finding, work, out, case)
                tally.findings.append((str(finding).splitlines()[0], saved))
                print(f"FINDING {target} #{case}: {str(finding)[:300]} (saved to {saved})", flush=True)
                continue
            if message is None:
                tally.loaded += 1
            else:
                tally.refused += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return tallies


def _save(finding, work: str, out: str, case: int) -> str:
    target = os.path.join(out, f"case-{case}")
    shutil.copytree(work, target, dirs_exist_ok=True)
    with open(os.path.join(target, "finding.txt"), "w", encoding="utf-8") as handle:
        handle.write(f"{type(finding).__name__}: {finding}\n")
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--cases", type=int, help="stop after this many cases")
    parser.add_argument("--target", action="append", choices=TARGETS, help="only these readers (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    parser.add_argument("--out", default="fuzz-findings", help="where findings are saved")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    targets = args.target or list(TARGETS)
    print(f"fuzzing {', '.join(targets)} for {args.minutes:g} min (seed {seed})", flush=True)
    started = time.monotonic()
    tallies = fuzz(args.minutes, targets, seed, os.path.abspath(args.out), args.cases)
    took = time.monotonic() - started
    print(f"\n{'reader':<12}{'cases':>8}{'loaded':>8}{'refused':>9}{'findings':>10}")
    for target, tally in tallies.items():
        print(f"{target:<12}{tally.cases:>8}{tally.loaded:>8}{tally.refused:>9}{len(tally.findings):>10}")
    findings = [item for tally in tallies.values() for item in tally.findings]
    print(f"{sum(t.cases for t in tallies.values())} cases in {took:.0f} s, seed {seed}: "
          + ("PASS, every file loaded or was refused in one line naming it" if not findings else
             f"FAIL, {len(findings)} findings saved under {args.out}/"))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main())
