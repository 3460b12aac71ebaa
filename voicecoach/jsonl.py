"""``run --jsonl PATH|-``: every event of a call as one JSON object per line.

For other tools: a CRM bridge, a dashboard, ``jq``. Each line has ``event`` (the
hook's name), ``session_id`` and the event's fields; lines are flushed as they
are written, so a reader sees each event as it happens.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Optional

from .hookspecs import hookimpl


class JsonlWriter:
    """A per-session plugin that writes each hook call as a JSON line."""

    def __init__(self, path: str):
        self.path = path
        self.session_id: Optional[str] = None
        try:
            self.stream: Optional[IO[str]] = (
                sys.stdout if path == "-" else open(path, "a", encoding="utf-8", opener=_private)
            )
        except OSError as error:
            raise ValueError(f"cannot write events to {path}: {error.strerror}") from None

    def _write(self, event: str, **fields) -> None:
        if self.stream is None:
            return
        line = json.dumps({"event": event, "session_id": self.session_id, **fields}, default=str)
        self.stream.write(line + "\n")
        self.stream.flush()

    @hookimpl
    def session_started(self, session):
        self.session_id = session.id
        self._write(
            "session_started", profile=session.profile.name, source=session.source,
            speakers=list(session.speakers), live=session.live, started_at=session.started_at,
        )

    @hookimpl
    def speech_activity(self, session, activity):
        self._write("speech_activity", speaker=activity.speaker, start=activity.start, end=activity.end)

    @hookimpl
    def partial_transcript(self, session, utterance):
        self._write("partial_transcript", **_utterance(utterance))

    @hookimpl
    def transcript(self, session, utterance):
        self._write("transcript", **_utterance(utterance))

    @hookimpl
    def prompt_delivered(self, session, prompt):
        latency = prompt.latency
        self._write(
            "prompt_delivered", kind=prompt.kind, priority=prompt.priority, text=prompt.text,
            detail=prompt.detail, plugin=prompt.plugin, at=prompt.at,
            trigger=_utterance(prompt.trigger) if prompt.trigger else None,
            latency=None if latency is None else round(latency.total, 4),
        )

    @hookimpl
    def prompt_feedback(self, session, prompt, useful):
        self._write("prompt_feedback", kind=prompt.kind, plugin=prompt.plugin, at=prompt.at, useful=useful)

    @hookimpl
    def observed(self, session, observation):
        self._write(
            "observed", kind=observation.kind, value=observation.value, data=observation.data,
            plugin=observation.plugin, at=observation.at,
        )

    @hookimpl
    def session_ended(self, session, summary):
        self._write(
            "session_ended", status=summary.status, duration=summary.duration,
            utterances=summary.utterances, prompts=len(summary.prompts), talk_seconds=summary.talk_seconds,
        )
        if self.stream is not None and self.stream is not sys.stdout:
            self.stream.close()
        self.stream = None


def _private(path, flags):
    # Transcripts are private: readable by the seller only, like the log.
    return os.open(path, flags, 0o600)


def _utterance(utterance) -> dict:
    return {
        "id": utterance.id, "speaker": utterance.speaker, "start": utterance.start, "end": utterance.end,
        "text": utterance.text, "partial": utterance.partial,
    }
