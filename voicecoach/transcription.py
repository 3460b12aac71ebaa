"""Speech to text: the interface engines implement, and filtering of what they invent.

Whisper-family models hallucinate on silence and noise ("Thank you for
watching", a phrase looping). Those never become transcript lines.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Optional, Protocol

import numpy as np


class ModelError(Exception):
    """A speech model that cannot be found or loaded; the message says what to do."""


@dataclass
class Transcription:
    text: str
    # Mean token log probability; lower means less sure.
    confidence: Optional[float] = None
    # The engine's probability that the audio held no speech at all.
    no_speech_probability: Optional[float] = None


class Transcriber(Protocol):
    """A speech-to-text engine, registered with ``register_transcribers``."""

    #: Shown in ``voicecoach run`` output and stored with each session.
    description: str

    def transcribe(self, samples: np.ndarray) -> Transcription:
        """Transcribe one utterance of 16 kHz mono float32 audio."""

    def warm_up(self) -> None:
        """Pay one-off costs (first decode) before audio arrives."""


# Phrases Whisper produces from silence or music, learned from subtitle data.
HALLUCINATED_PHRASES = (
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subscribe to my channel",
    "like and subscribe",
    "see you in the next video",
    "subtitles by",
    "the amara.org community",
    "captions by",
    "transcribed by",
    "www.",
    ".com",
)


def clean_transcript(text: str) -> str:
    return " ".join(text.replace("\u266a", " ").split())


def is_hallucination(result: Transcription, duration: float) -> bool:
    """True when the text is more likely invented than heard."""
    text = clean_transcript(result.text).lower()
    letters = re.sub(r"[^a-z0-9]", "", text)
    if not letters:
        return True
    # A stock phrase alone (or nearly) is invented; inside real talk ("check
    # acme.com, thanks for watching the demo") it is kept.
    remainder = text
    for phrase in HALLUCINATED_PHRASES:
        remainder = remainder.replace(phrase, " ")
    if remainder != text and len(re.findall(r"[a-z0-9']+", remainder)) < 3:
        return True
    if (
        result.no_speech_probability is not None
        and result.confidence is not None
        and result.no_speech_probability > 0.6
        and result.confidence < -1.0
    ):
        return True
    encoded = text.encode()
    if len(encoded) > 40 and len(encoded) / len(zlib.compress(encoded)) > 2.4:
        return True  # a repetition loop
    # Nobody says 30 words in a one-second blip.
    if duration > 0 and len(text.split()) > max(8, duration * 7):
        return True
    return False
