"""What can be captured on this machine, and which device to use for whom."""

from __future__ import annotations

from . import pulse
from .audio import AudioError


def list_devices() -> dict:
    """PortAudio input devices, PulseAudio/PipeWire sources, and suggestions."""
    from .default_plugins.device_source import import_sounddevice

    result = {"portaudio": [], "pulse": [], "suggested": {"seller": None, "prospect": None}, "problems": []}
    try:
        sd = import_sounddevice()
        hostapis = sd.query_hostapis()
        default_input = sd.default.device[0]
        for index, device in enumerate(sd.query_devices()):
            if device["max_input_channels"] <= 0:
                continue
            result["portaudio"].append(
                {
                    "index": index,
                    "name": device["name"],
                    "hostapi": hostapis[device["hostapi"]]["name"],
                    "channels": device["max_input_channels"],
                    "default_samplerate": device["default_samplerate"],
                    "default": index == default_input,
                    "loopback": _looks_like_loopback(device["name"]),
                }
            )
    except AudioError as error:
        result["problems"].append(str(error))
    if pulse.available():
        default_source = pulse.default_source()
        default_monitor = pulse.default_sink_monitor()
        for source in pulse.list_sources():
            result["pulse"].append(
                {
                    "index": source.index,
                    "name": source.name,
                    "description": source.description,
                    "monitor": source.is_monitor,
                    "channels": source.channels,
                    "rate": source.rate,
                    "default": source.name in (default_source, default_monitor),
                }
            )
        names = {source["name"] for source in result["pulse"]}
        microphones = [s["name"] for s in result["pulse"] if not s["monitor"]]
        result["suggested"]["seller"] = default_source if default_source in microphones else (microphones[0] if microphones else None)
        result["suggested"]["prospect"] = default_monitor if default_monitor in names else None
    else:
        result["problems"].append(
            "no PulseAudio/PipeWire server answered: the call's output (loopback) cannot be listed"
        )
        loopbacks = [d["name"] for d in result["portaudio"] if d["loopback"]]
        defaults = [d["name"] for d in result["portaudio"] if d["default"]]
        result["suggested"]["seller"] = defaults[0] if defaults else None
        result["suggested"]["prospect"] = loopbacks[0] if loopbacks else None
    return result


def _looks_like_loopback(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("blackhole", "loopback", "stereo mix", "cable output", "monitor", "soundflower"))
