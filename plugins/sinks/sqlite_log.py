"""The SQLite logger: every session, utterance, speech span, prompt and observation.

Each record is committed as it happens, so a crash loses at most what was in
flight. The database is the one ``voicecoach report`` and ``voicecoach sessions``
read (``--db`` to choose another). A log that cannot be written during the call
(a full disk, a read-only, locked or damaged file) never stops the coaching: the
records wait until it can be written, or go to a recovery file at the end
(see :class:`voicecoach.LogWriter`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from voicecoach import LogWriter, default_database_path, hookimpl


@hookimpl
def session_started(session):
    return SqliteLog(session)


class SqliteLog:
    def __init__(self, session):
        session.db_path = session.db_path or default_database_path()
        self.log = LogWriter(session.db_path, session.id, warn=session.warn)
        self.session_id = session.id
        self._prompt_count = 0
        self._prompt_ids: dict[int, str] = {}  # id(prompt) -> its row id

    @hookimpl
    def session_started(self, session):
        self.log.begin_session(
            {
                "id": session.id,
                "started_at": session.started_at,
                "ended_at": None,
                "profile": session.profile.name,
                "source": session.source,
                "transcriber": session.transcriber,
                "speakers": json.dumps(list(session.speakers)),
                "duration": 0.0,
            }
        )

    @hookimpl
    def speech_activity(self, session, activity):
        if activity.end is None:
            return
        self.log.insert(
            "speech_activity",
            {
                "session_id": self.session_id,
                "speaker": activity.speaker,
                "start": round(activity.start, 3),
                "end": round(activity.end, 3),
            },
        )

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.partial:
            return
        self.log.insert(
            "utterances",
            {
                "id": f"{self.session_id}:{utterance.id}",
                "session_id": self.session_id,
                "speaker": utterance.speaker,
                "start": utterance.start,
                "end": utterance.end,
                "text": utterance.text,
                "confidence": utterance.confidence,
                "transcription_seconds": round(utterance.timing.transcription_seconds, 4)
                if utterance.timing.transcribed_at
                else None,
            },
        )

    @hookimpl
    def prompt_delivered(self, session, prompt):
        self._prompt_count += 1
        latency = prompt.latency
        trigger = prompt.trigger
        row_id = f"{self.session_id}:p{self._prompt_count}"
        self._prompt_ids[id(prompt)] = row_id
        self.log.insert(
            "prompts",
            {
                "id": row_id,
                "session_id": self.session_id,
                "at": prompt.at,
                "plugin": prompt.plugin,
                "kind": prompt.kind,
                "priority": prompt.priority,
                "text": prompt.text,
                "detail": to_json(prompt.detail),
                "data": to_json(prompt.data),
                "trigger_utterance_id": f"{self.session_id}:{trigger.id}" if trigger else None,
                "trigger_text": trigger.text if trigger else None,
                "trigger_speaker": trigger.speaker if trigger else None,
                "latency_total": _rounded(latency and latency.total),
                "latency_vad": _rounded(latency and latency.vad),
                "latency_transcription": _rounded(latency and latency.transcription),
                "latency_plugins": _rounded(latency and latency.plugins),
                "latency_delivery": _rounded(latency and latency.delivery),
            },
        )

    @hookimpl
    def prompt_feedback(self, session, prompt, useful):
        row_id = self._prompt_ids.get(id(prompt))
        if row_id is None:
            return
        self.log.insert(
            "prompt_feedback",
            {
                "session_id": self.session_id,
                "prompt_id": row_id,
                "plugin": prompt.plugin,
                "useful": int(bool(useful)),
                "given_at": utc_now(),
            },
        )

    @hookimpl
    def observed(self, session, observation):
        self.log.insert(
            "observations",
            {
                "session_id": self.session_id,
                "at": observation.at,
                "plugin": observation.plugin,
                "kind": observation.kind,
                "value": observation.value if isinstance(observation.value, str) else to_json(observation.value),
                "data": to_json(observation.data),
            },
        )

    @hookimpl
    def session_ended(self, session, summary):
        saved = self.log.end_session(
            {"ended_at": utc_now(), "status": summary.status, "duration": round(summary.duration, 3)}
        )
        if saved is not None:
            # The call is not in the log: the summary must not send the seller there.
            summary.db_path = None


def to_json(value) -> str:
    return json.dumps(value, default=str)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _rounded(value):
    return None if value is None else round(value, 4)
