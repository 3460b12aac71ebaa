"""Scenario profiles: YAML files that choose the active plugins and their settings.

Shipped profiles live in the ``voicecoach_profiles`` package (``profiles/`` in the
repository); a file of the same name in ``<user config dir>/profiles/`` overrides
one. ``--profile`` also takes a path to a YAML file.
"""

from __future__ import annotations

import math
import os
import re
import reprlib
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Optional

import yaml

from .arbitration import ArbitrationSettings
from .paths import user_config_dir
from .transcription import DecodingSettings
from .vad import EndpointSettings

TOP_LEVEL_KEYS = {
    "description": "one line shown by `voicecoach profiles`",
    "capture": "two-way (seller mic + prospect loopback) or mic-only",
    "source": "the live audio source's registered name (default devices; a plugin may register others)",
    "transcriber": "the speech engine's registered name",
    "model": "a model folder or name for the transcriber",
    "decoding": "speech engine settings: encoder_window, beam_size, context_seconds",
    "endpointing": "voice activity settings: min_silence, min_speech, pad, max_utterance",
    "arbitration": "prompt pacing: min_interval, cooldown, max_age",
    "devices": "seller and prospect capture devices: a name, an index or a PulseAudio source",
    "fallback_to_mic_only": "true to keep coaching on the microphone when the prospect's audio fails",
    "redact": "true to replace emails and card, account and phone numbers in transcripts before anything sees them",
    "remove_bleed": "true to remove the prospect's voice leaking from your speakers into your microphone",
    "plugins": "a mapping of plugin name to its settings",
}
CAPTURE_MODES = ("two-way", "mic-only")


class ProfileError(Exception):
    """A profile that cannot be used; the message names the file, the key and the fix."""


# Values quoted in error messages: a hand-edited file may hold anything, even an
# alias-built list millions of items long, and a message stays one short line.
_QUOTE = reprlib.Repr()
_QUOTE.maxlevel, _QUOTE.maxlist, _QUOTE.maxdict, _QUOTE.maxstring, _QUOTE.maxother = 2, 4, 4, 40, 40


def quote(value) -> str:
    """``repr(value)``, cut short, for an error message."""
    return _QUOTE.repr(value)


def shorten(name, limit: int = 60) -> str:
    """A name from the file, cut short for an error message."""
    text = str(name)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def yaml_error_message(path: str, error: Exception) -> str:
    """One line naming ``path`` and where in it a YAML file could not be read."""
    if isinstance(error, RecursionError):
        return f"{path}: nested too deeply to be read (lists or mappings inside each other thousands of times)"
    if not isinstance(error, yaml.YAMLError):  # PyYAML's constructors let some errors through bare
        detail = str(error).splitlines()[0] if str(error) else ""
        return f"{path}: a value cannot be read as YAML ({type(error).__name__}: {detail})"
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        where = f" at line {mark.line + 1}, column {mark.column + 1}"
    elif getattr(error, "position", None) is not None:  # a ReaderError: a character no YAML may hold
        where = _line_and_column(path, error.position)
        problem = str(error).splitlines()[0]
    else:
        where = ""
    tag = re.search(r"constructor for the tag '([^']*)'", problem)
    if tag:
        name = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        return f"{path}: tag {name}{where} is not allowed: the file must be plain data (text, numbers, lists, mappings)"
    return f"{path}: YAML syntax error{where}: {problem}"


def _line_and_column(path: str, position: int) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            before = handle.read(position)
    except OSError:
        return f" at character {position + 1}"
    return f" at line {before.count(chr(10)) + 1}, column {position - before.rfind(chr(10))}"


@dataclass
class Profile:
    name: str
    path: str
    description: str = ""
    capture: str = "two-way"
    source: str = "devices"
    transcriber: str = "faster-whisper"
    model: Optional[str] = None
    decoding: dict = field(default_factory=dict)  # keywords for the transcriber's factory
    endpointing: dict = field(default_factory=dict)
    arbitration: dict = field(default_factory=dict)
    devices: dict = field(default_factory=dict)
    fallback_to_mic_only: bool = True
    remove_bleed: bool = True
    redact: bool = True
    plugins: dict = field(default_factory=dict)

    def enables(self, plugin_name: str) -> bool:
        return plugin_name in self.plugins

    def settings_for(self, plugin_name: str) -> dict:
        return dict(self.plugins.get(plugin_name) or {})


def shipped_profiles_dir() -> str:
    return str(files("voicecoach_profiles"))


def user_profiles_dir() -> str:
    return os.path.join(user_config_dir(), "profiles")


def available_profiles() -> dict[str, str]:
    """Profile name -> file path, user profiles overriding shipped ones."""
    found = {}
    for folder in (shipped_profiles_dir(), user_profiles_dir()):
        if not os.path.isdir(folder):
            continue
        for filename in sorted(os.listdir(folder)):
            if filename.endswith((".yaml", ".yml")):
                found[os.path.splitext(filename)[0]] = os.path.join(folder, filename)
    return found


def find_profile(name_or_path: str) -> str:
    if name_or_path.endswith((".yaml", ".yml")) or os.path.sep in name_or_path:
        if not os.path.exists(name_or_path):
            raise ProfileError(f"profile file {name_or_path} does not exist")
        if not os.path.isfile(name_or_path):  # a folder, or a pipe or device that may never end
            raise ProfileError(f"profile {name_or_path} is not a file")
        return name_or_path
    profiles = available_profiles()
    if name_or_path not in profiles:
        raise ProfileError(
            f"no profile named {name_or_path!r}; choose one of: {', '.join(sorted(profiles))} "
            "(see `voicecoach profiles`)"
        )
    return profiles[name_or_path]


def load_profile(name_or_path: str, known_plugins: Optional[set[str]] = None) -> Profile:
    """Load and validate a profile; ``known_plugins`` are the names a profile may enable."""
    path = find_profile(name_or_path)
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (yaml.YAMLError, RecursionError) as error:
        raise ProfileError(yaml_error_message(path, error)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"{path}: cannot be read ({error})") from None
    except (ValueError, TypeError, KeyError, AttributeError) as error:  # PyYAML on "!!int text", "2026-13-45"
        raise ProfileError(yaml_error_message(path, error)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile must be a mapping of keys, not {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ProfileError(
            f"{path}: unknown key {quote(unknown[0])}; allowed keys are {', '.join(sorted(TOP_LEVEL_KEYS))}"
        )
    plugins = data.get("plugins") or {}
    if isinstance(plugins, list):
        plugins = {str(item): {} for item in plugins}
    if not isinstance(plugins, dict):
        raise ProfileError(f"{path}: 'plugins' must map plugin names to their settings")
    for plugin_name, settings in plugins.items():
        if settings is not None and not isinstance(settings, dict):
            raise ProfileError(
                f"{path}: plugins.{shorten(plugin_name)} must be a mapping of settings (or empty), "
                f"not {type(settings).__name__}"
            )
        if known_plugins is not None and plugin_name not in known_plugins:
            raise ProfileError(
                f"{path}: plugins.{shorten(plugin_name)} is not an installed plugin; installed: "
                f"{', '.join(sorted(known_plugins))} (see `voicecoach plugins`)"
            )
    capture = data.get("capture", "two-way")
    if capture not in CAPTURE_MODES:
        raise ProfileError(f"{path}: capture must be one of {', '.join(CAPTURE_MODES)}, not {quote(capture)}")
    for key, allowed in (("endpointing", EndpointSettings), ("arbitration", ArbitrationSettings),
                         ("decoding", DecodingSettings)):
        _check_numbers(path, key, data.get(key) or {}, set(allowed.__dataclass_fields__))
    devices = data.get("devices") or {}
    if not isinstance(devices, dict) or set(devices) - {"seller", "prospect"}:
        raise ProfileError(f"{path}: 'devices' takes only 'seller' and 'prospect', each a device name or index")
    for key in ("fallback_to_mic_only", "remove_bleed", "redact"):
        if not isinstance(data.get(key, True), bool):
            raise ProfileError(f"{path}: '{key}' must be true or false")
    for key in ("description", "source", "transcriber", "model"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ProfileError(f"{path}: '{key}' must be a string")
    return Profile(
        name=name,
        path=path,
        description=data.get("description") or "",
        capture=capture,
        source=data.get("source") or "devices",
        transcriber=data.get("transcriber") or "faster-whisper",
        model=data.get("model"),
        decoding=dict(data.get("decoding") or {}),
        endpointing=dict(data.get("endpointing") or {}),
        arbitration=dict(data.get("arbitration") or {}),
        devices={key: str(value) for key, value in devices.items() if value is not None},
        fallback_to_mic_only=data.get("fallback_to_mic_only", True),
        remove_bleed=data.get("remove_bleed", True),
        redact=data.get("redact", True),
        plugins={str(k): dict(v or {}) for k, v in plugins.items()},
    )


def _check_numbers(path: str, key: str, settings, allowed: set[str]) -> None:
    if not isinstance(settings, dict):
        raise ProfileError(f"{path}: '{key}' must be a mapping of settings")
    for name, value in settings.items():
        if name not in allowed:
            raise ProfileError(
                f"{path}: {key}.{shorten(name)} is not a setting; allowed: {', '.join(sorted(allowed))}"
            )
        try:
            number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
        except OverflowError:  # an integer with hundreds of digits
            number = math.inf
        if not 0 <= number < math.inf:
            raise ProfileError(f"{path}: {key}.{shorten(name)} must be a number, 0 or more, not {quote(value)}")
