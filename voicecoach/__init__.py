"""VoiceCoach: a real-time sales-call coach that runs on the seller's own laptop.

This module is the public plugin API: everything a plugin needs is importable
from ``voicecoach``.
"""

import os

# ONNX Runtime (it runs Silero VAD) sends usage telemetry to Microsoft from Linux
# and macOS too (a DNS lookup of mobile.events.data.microsoft.com, then an upload);
# nothing may leave the seller's machine. Set before the runtime is first loaded.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

from .audio import AudioChunk, AudioError, AudioSource  # noqa: E402
from .events import (
    CRITICAL,
    HIGH,
    LOW,
    MEDIUM,
    MIXED,
    PRIORITIES,
    PROSPECT,
    SELLER,
    Observation,
    Prompt,
    PromptLatency,
    SpeechActivity,
    Utterance,
)
from .hookspecs import hookimpl
from .log import LogError, LogWriter, open_log
from .paths import default_database_path
from .session import Session, SessionSummary
from .transcription import ModelError, Transcriber, Transcription

__version__ = "0.1.0"

__all__ = [
    "AudioChunk",
    "AudioError",
    "AudioSource",
    "CRITICAL",
    "HIGH",
    "LOW",
    "MEDIUM",
    "MIXED",
    "ModelError",
    "Observation",
    "PRIORITIES",
    "PROSPECT",
    "Prompt",
    "PromptLatency",
    "SELLER",
    "Session",
    "SessionSummary",
    "SpeechActivity",
    "Transcriber",
    "Transcription",
    "Utterance",
    "LogError",
    "LogWriter",
    "default_database_path",
    "hookimpl",
    "open_log",
]
