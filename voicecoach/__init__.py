"""VoiceCoach: a real-time sales-call coach that runs on the seller's own laptop.

This module is the public plugin API: everything a plugin needs is importable
from ``voicecoach``.
"""

from .audio import AudioChunk, AudioError, AudioSource
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
