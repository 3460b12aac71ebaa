"""The bundled demo call: a stereo recording (left = seller, right = prospect) and its timing.

``script.yaml`` is the source; ``python -m voicecoach.demo`` regenerates the audio and
``demo_call.timing.json``, which says where each line's speech really is.
"""

from __future__ import annotations

from importlib import resources

from ..synth import CallTiming

AUDIO_FILE = "demo_call.flac"
TIMING_FILE = "demo_call.timing.json"
SCRIPT_FILE = "script.yaml"


def _packaged(name: str) -> str:
    return str(resources.files(__name__) / name)


def demo_audio_path() -> str:
    return _packaged(AUDIO_FILE)


def demo_script_path() -> str:
    return _packaged(SCRIPT_FILE)


def demo_timing() -> CallTiming:
    """The true start and end of every line in the demo recording."""
    return CallTiming.read(_packaged(TIMING_FILE))
