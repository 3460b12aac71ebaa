"""PulseAudio (and PipeWire's PulseAudio server) through ``pactl``.

PortAudio reaches PulseAudio only through ALSA's ``pulse`` device, which lists no
monitor sources, so a stream is opened on ``pulse`` and then moved to the wanted
source, the way pavucontrol does it. Moving each stream separately keeps two
sources apart in one process (``PULSE_SOURCE`` was seen to mix them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional


class PulseError(Exception):
    """PulseAudio is not there or refused a request; the message says what to do."""


@dataclass
class PulseSource:
    index: int
    name: str
    description: str
    is_monitor: bool
    channels: int
    rate: int


def available() -> bool:
    """True when ``pactl`` exists and a PulseAudio-compatible server answers."""
    if shutil.which("pactl") is None:
        return False
    try:
        subprocess.run(["pactl", "info"], capture_output=True, timeout=3, check=True)
    except (subprocess.SubprocessError, OSError):
        return False
    return True


def _pactl_json(*args) -> list | dict:
    return json.loads(_pactl("-f", "json", *args) or "[]")


def _pactl(*args) -> str:
    try:
        result = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=5, check=True)
    except FileNotFoundError:
        raise PulseError("pactl is not installed: apt-get install pulseaudio-utils") from None
    except subprocess.CalledProcessError as error:
        raise PulseError(f"pactl {' '.join(args)} failed: {error.stderr.strip() or error}") from None
    except subprocess.TimeoutExpired:
        raise PulseError("the PulseAudio server did not answer within 5 s") from None
    return result.stdout.strip()


def list_sources() -> list[PulseSource]:
    sources = []
    for item in _pactl_json("list", "sources"):
        spec = item.get("sample_specification", "")
        parts = spec.split()
        sources.append(
            PulseSource(
                index=int(item["index"]),
                name=item["name"],
                description=item.get("description", item["name"]),
                is_monitor=item.get("monitor_of_sink") not in (None, "n/a") or item["name"].endswith(".monitor"),
                channels=int(parts[1].rstrip("ch")) if len(parts) > 1 and parts[1].endswith("ch") else 0,
                rate=int(parts[2].rstrip("Hz")) if len(parts) > 2 and parts[2].endswith("Hz") else 0,
            )
        )
    return sources


def default_source() -> Optional[str]:
    return _pactl("get-default-source") or None


def default_sink_monitor() -> Optional[str]:
    sink = _pactl("get-default-sink")
    return f"{sink}.monitor" if sink else None


def source_index(name: str) -> Optional[int]:
    for source in list_sources():
        if source.name == name:
            return source.index
    return None


def own_source_outputs() -> dict[int, int]:
    """This process's recording streams: source-output index -> source index."""
    pid = str(os.getpid())
    outputs = {}
    for item in _pactl_json("list", "source-outputs"):
        properties = item.get("properties", {})
        if properties.get("application.process.id") == pid:
            outputs[int(item["index"])] = int(item["source"])
    return outputs


def move_source_output(output_index: int, source_name: str) -> None:
    _pactl("move-source-output", str(output_index), source_name)
