"""Conversations as text: the transcript files of text-only mode, and scripted calls.

A line is a mapping with ``speaker`` and ``text`` and, optionally, ``start`` and
``end`` in seconds. Lines without times are laid out one after another at a
speaking pace, so a plugin author can write a conversation as plain lines.
"""

from __future__ import annotations

import os
from typing import Iterable, Iterator

import yaml

from .events import MIXED, PROSPECT, SELLER, SpeechActivity, Utterance
from .profiles import quote, yaml_error_message

WORDS_PER_SECOND = 2.6  # about 155 words a minute, mid-range conversational pace
GAP_SECONDS = 0.6
# Times past a day are typing mistakes; replaying one would tick the clock for ever.
MAX_SECONDS = 24 * 3600
SPEAKER_NAMES = (SELLER, PROSPECT, MIXED)


class ScriptError(Exception):
    """A transcript file that cannot be used; the message names the file and line."""


def lines_to_utterances(lines: Iterable, origin: str = "conversation") -> list[Utterance]:
    """Turn ``(speaker, text)`` pairs or mappings into timed utterances."""
    utterances = []
    clock = 0.0
    for number, line in enumerate(lines, start=1):
        if isinstance(line, (list, tuple)) and len(line) == 2:
            line = {"speaker": line[0], "text": line[1]}
        if not isinstance(line, dict):
            raise ScriptError(f"{origin}: line {number} must be a mapping with speaker and text")
        speaker, text = line.get("speaker"), line.get("text")
        if speaker not in SPEAKER_NAMES:
            raise ScriptError(
                f"{origin}: line {number}: speaker must be one of {', '.join(SPEAKER_NAMES)}, not {quote(speaker)}"
            )
        if not isinstance(text, str) or not text.strip():
            raise ScriptError(f"{origin}: line {number}: text must be a non-empty string")
        try:
            start = float(line["start"]) if line.get("start") is not None else clock
            end = (
                float(line["end"])
                if line.get("end") is not None
                else start + max(0.5, len(text.split()) / WORDS_PER_SECOND)
            )
        except (TypeError, ValueError, OverflowError):
            raise ScriptError(f"{origin}: line {number}: start and end must be numbers of seconds") from None
        if not (0 <= start <= MAX_SECONDS and 0 <= end <= MAX_SECONDS):
            raise ScriptError(
                f"{origin}: line {number}: start and end must be seconds from 0 to {MAX_SECONDS} (a day), "
                f"not {start:g} and {end:g}"
            )
        if end < start:
            raise ScriptError(f"{origin}: line {number}: end {end} is before start {start}")
        utterances.append(Utterance(speaker=speaker, text=text.strip(), start=start, end=end))
        clock = end + GAP_SECONDS
    return utterances


def utterance_events(utterances: list[Utterance]) -> Iterator[object]:
    """The events a live call would produce for these utterances, in time order."""
    timeline = []
    for utterance in utterances:
        timeline.append((utterance.start, 0, SpeechActivity(utterance.speaker, utterance.start)))
        timeline.append(
            (utterance.end, 1, SpeechActivity(utterance.speaker, utterance.start, utterance.end))
        )
        timeline.append((utterance.end, 2, utterance))
    for _time, _order, event in sorted(timeline, key=lambda item: (item[0], item[1])):
        yield event


def load_transcript_file(path: str) -> list[Utterance]:
    """Read a YAML transcript: a list of lines, or a mapping with a ``lines`` list."""
    if os.path.exists(path) and not os.path.isfile(path):  # a folder, or a pipe that may never end
        raise ScriptError(f"{path} is not a file")
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ScriptError(f"{path} does not exist") from None
    except (yaml.YAMLError, RecursionError) as error:
        raise ScriptError(yaml_error_message(path, error)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError(f"{path}: cannot be read ({error})") from None
    except (ValueError, TypeError, KeyError, AttributeError) as error:  # PyYAML on "!!int text", "2026-13-45"
        raise ScriptError(yaml_error_message(path, error)) from None
    if isinstance(data, dict):
        data = data.get("lines")
    if not isinstance(data, list) or not data:
        raise ScriptError(f"{path}: expected a list of lines with speaker and text")
    return lines_to_utterances(data, origin=path)


class ScriptSource:
    """A source with no audio, for text-only mode: it only names the speakers."""

    def __init__(self, utterances: list[Utterance], origin: str = "script"):
        self.utterances = utterances
        self.origin = origin
        self.speakers = tuple(dict.fromkeys(u.speaker for u in utterances)) or (SELLER, PROSPECT)

    def describe(self) -> str:
        return f"transcript {self.origin}"

    def chunks(self):
        return iter(())

    def stop(self) -> None:
        pass
