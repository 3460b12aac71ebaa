"""What happened on a call, read back from the log: figures first, then words.

:func:`build_report` gathers one session into a plain dict (the JSON format is
exactly that dict); :func:`build_summary` gathers many. The ``render_*``
functions lay them out for people; ``report_html`` draws the HTML page.

Figures other plugins log (sentiment, questions, pace, interruptions) are shown
when the log holds them and left out when it does not: a call coached with those
plugins off still gets a full report of what was measured.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional, Union

import sqlite_utils

from .events import PROSPECT, SELLER
from .log import LogError, find_session_id, latest_session_id

# Consecutive spans of one speaker closer than this, with nobody else talking in
# between, are one monologue (a breath is not a turn).
MONOLOGUE_GAP_SECONDS = 1.5

# -- targets the key numbers are judged against ---------------------------------
# Gong Labs, 25,537 B2B sales calls: conversion peaked near 43% seller talk and
# fell off above 65%. Within 12 points of 43% counts as on target (our choice).
TALK_SHARE_TARGET = 0.43
TALK_SHARE_GOOD = (0.31, 0.55)
TALK_SHARE_MAX = 0.65
# Gong Labs: top sellers' longest monologues average about 76 s on discovery
# calls; the talk_ratio plugin prompts past 90 s. Past 150 s is a lecture (ours).
MONOLOGUE_GOOD_SECONDS = 90
MONOLOGUE_MAX_SECONDS = 150
# Gong Labs: 11-14 questions on a discovery call went with the best outcomes.
QUESTIONS_RANGE = (11, 14)
QUESTIONS_SLACK = 3
# Read.ai: 130-175 words per minute is a clear, comfortable pace; Gong sees reps
# rush to about 190 after an objection they cannot handle.
PACE_RANGE = (130, 175)
PACE_SLACK = 15
# A prompt must arrive while the words are still being answered: the README's
# measured p95 is 1.6 s on two cores; past 4 s it comes too late to use (ours).
LATENCY_P95_GOOD = 2.0
LATENCY_P95_MAX = 4.0
# The talk_ratio plugin prompts at 2 interruptions within two minutes.
INTERRUPTIONS_GOOD = 1
INTERRUPTIONS_MAX = 3
# VADER's usual thresholds for a compound score.
SENTIMENT_POSITIVE = 0.05
SENTIMENT_NEGATIVE = -0.05

GOOD, WARN, BAD = "good", "warn", "bad"

# Samples of the talk-share-over-time line.
TALK_SAMPLES = 120


def percentile(values: list[float], fraction: float) -> Optional[float]:
    """Linear-interpolated percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def longest_monologue(spans: list[dict], speaker: str) -> float:
    """Longest stretch of ``speaker`` talking with nobody else speaking in between."""
    longest = 0.0
    run_start = run_end = None
    for span in sorted(spans, key=lambda s: s["start"]):
        if span["speaker"] != speaker:
            run_start = run_end = None  # someone else spoke: the monologue is over
            continue
        if run_end is not None and span["start"] - run_end <= MONOLOGUE_GAP_SECONDS:
            run_end = max(run_end, span["end"])
        else:
            run_start, run_end = span["start"], span["end"]
        longest = max(longest, run_end - run_start)
    return round(longest, 2)


def talk_over_time(spans: list[dict], duration: float, samples: int = TALK_SAMPLES) -> dict:
    """The seller's share of the talk in a window sliding over the call.

    The window is a quarter of the call, between 30 s and 5 minutes: long enough
    to hold several turns, short enough to show the call changing. A point is
    None where the window holds too little talk for a share to mean anything.
    """
    window = min(300.0, max(30.0, duration / 4))
    minimum = min(5.0, window * 0.1)
    seller = [(s["start"], s["end"]) for s in spans if s["speaker"] == SELLER]
    prospect = [(s["start"], s["end"]) for s in spans if s["speaker"] == PROSPECT]
    points = []
    if duration > 0 and seller + prospect:
        for i in range(1, samples + 1):
            at = duration * i / samples
            mine, theirs = _overlap(seller, at - window, at), _overlap(prospect, at - window, at)
            share = mine / (mine + theirs) if mine + theirs >= minimum else None
            points.append({"at": round(at, 2), "seller_share": None if share is None else round(share, 3)})
    return {"window_seconds": round(window, 1), "points": points}


def _overlap(spans, low, high) -> float:
    return sum(max(0.0, min(end, high) - max(start, low)) for start, end in spans)


def build_report(db: sqlite_utils.Database, session_id: Optional[str] = None, *, timeline: bool = True) -> dict:
    """Everything the report shows for one session (the latest by default).

    ``timeline=False`` leaves out the per-span figures only charts need (the
    summary of many calls reads each call that way).
    """
    if session_id is None:
        session_id = latest_session_id(db)
        if session_id is None:
            raise LogError("the log holds no sessions yet: run `voicecoach demo` first")
    else:
        session_id = find_session_id(db, session_id)
    session = db["sessions"].get(session_id)
    spans = list(
        db.query(
            "select speaker, start, end from speech_activity where session_id = ? order by start, rowid",
            [session_id],
        )
    )
    talk = {}
    for span in spans:
        talk[span["speaker"]] = talk.get(span["speaker"], 0.0) + span["end"] - span["start"]
    two_sided = talk.get(SELLER, 0.0) + talk.get(PROSPECT, 0.0)
    utterances = list(
        db.query(
            "select id, speaker, start, end, text from utterances where session_id = ? order by start",
            [session_id],
        )
    )
    # Plugins name utterances by their number in the session; the log by "<session>:<n>".
    by_number = {u["id"].rsplit(":", 1)[-1]: u for u in utterances}
    prompts = list(db.query("select * from prompts where session_id = ? order by at, rowid", [session_id]))
    observations = list(
        db.query("select * from observations where session_id = ? order by at, rowid", [session_id])
    )
    latencies = [p["latency_total"] for p in prompts if p["latency_total"] is not None]
    verdicts = _verdicts(db, session_id)
    duration = _duration(session, spans, utterances, observations)
    report = {
        "session": {
            "id": session_id,
            "started_at": session["started_at"],
            "ended_at": session.get("ended_at"),
            "status": session["status"],
            "profile": session["profile"],
            "source": session["source"],
            "duration": session["duration"] if session["duration"] else duration,
        },
        "talk": {
            "seconds": {speaker: round(seconds, 2) for speaker, seconds in sorted(talk.items())},
            "seller_share": round(talk.get(SELLER, 0.0) / two_sided, 3) if two_sided else None,
            "longest_monologue": {
                speaker: longest_monologue(spans, speaker) for speaker in sorted(talk)
            },
        },
        "stages": _stages(observations, duration, by_number),
        "objections": _objections(prompts, observations, by_number),
        "prompts": [
            {
                "at": p["at"],
                "plugin": p["plugin"],
                "kind": p["kind"],
                "priority": p["priority"],
                "text": p["text"],
                "detail": _json(p.get("detail")) or [],
                "because": p["trigger_text"],
                "latency": p["latency_total"],
                "useful": verdicts.get(p["id"]),
            }
            for p in prompts
        ],
        "usefulness": _usefulness(prompts, verdicts),
        "latency": {
            "prompts_measured": len(latencies),
            "p50": _round(percentile(latencies, 0.5)),
            "p95": _round(percentile(latencies, 0.95)),
        },
        "dynamics": _dynamics(observations),
        "sentiment": _sentiment(observations, by_number),
        "utterances": utterances,
    }
    if timeline:
        report["speech"] = [
            {"speaker": s["speaker"], "start": round(s["start"], 2), "end": round(s["end"], 2)} for s in spans
        ]
        report["talk_over_time"] = talk_over_time(spans, duration)
    report["key_numbers"] = key_numbers(report)
    return report


def _duration(session, spans, utterances, observations) -> float:
    """The call's length; a call that never ended cleanly lasts until its last event."""
    ends = [s["end"] for s in spans] + [u["end"] for u in utterances] + [o["at"] or 0.0 for o in observations]
    return max([session["duration"] or 0.0, *ends], default=0.0)


def _json(text):
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _number(value) -> Optional[float]:
    value = _json(value)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _stages(observations, duration, by_number) -> list[dict]:
    """Each stage the call went through, from when it began until the next one.

    A stage begins with the words that showed it, which may be well before the
    moment the plugin logged it (transcription takes time; a replay runs ahead).
    """
    stages = []
    for o in observations:
        if o["kind"] != "stage":
            continue
        utterance = by_number.get(str((_json(o["data"]) or {}).get("utterance_id")))
        at = utterance["start"] if utterance else o["at"]
        stages.append({"stage": o["value"], "at": max(at, stages[-1]["at"]) if stages else at})
    for stage, following in zip(stages, stages[1:] + [None]):
        stage["until"] = following["at"] if following else max(duration, stage["at"])
        stage["label"] = label_of(stage["stage"])
    return stages


def label_of(name) -> str:
    return str(name).replace("_", " ").capitalize()


def _objections(prompts, observations, by_number) -> list[dict]:
    """Objections raised, each with the prompt shown for it and whether it was answered.

    Raised objections come from the objection plugin's observations, so one the
    prompt arbitration held back still shows (with no prompt); the prompt and the
    answered/unanswered verdicts join on the utterance that raised it.
    """
    raised: dict = {}
    for o in observations:
        if o["kind"] != "objection":
            continue
        data = _json(o["data"]) or {}
        key = (data.get("utterance_id"), o["value"]) if data.get("utterance_id") is not None else ("obs", id(o))
        raised.setdefault(key, _objection(o["value"], data.get("utterance_id"), data.get("text"), o["at"]))
    for p in prompts:
        if not p["kind"].startswith("objection."):
            continue
        data = _json(p["data"]) or {}
        category = p["kind"].split(".", 1)[1]
        uid = data.get("utterance_id")
        key = (uid, category) if uid is not None else ("prompt", p["id"])
        entry = raised.setdefault(key, _objection(category, uid, p["trigger_text"], p["at"]))
        if entry["prompt"] is None:
            entry.update(
                prompt=p["text"],
                prompted_at=p["at"],
                latency=p["latency_total"],
                label=_label_from_prompt(p["text"]) or entry["label"],
            )
            entry["said"] = entry["said"] or p["trigger_text"]
    verdicts = {}
    for o in observations:
        if o["kind"] in ("objection_answered", "objection_unanswered"):
            data = _json(o["data"]) or {}
            verdicts[(data.get("utterance_id"), o["value"])] = (o["kind"] == "objection_answered", data)
    for (uid, category), entry in raised.items():
        verdict = verdicts.get((uid, category))
        if verdict is None and uid is not None:
            # Logs from before verdicts named the category: join on the utterance alone.
            verdict = next((v for (u, _), v in verdicts.items() if u == uid), None)
        if verdict is not None:
            entry["answered"] = verdict[0]
            entry["answer"] = verdict[1].get("answer")
            entry["seconds_to_answer"] = verdict[1].get("seconds_to_answer")
        utterance = by_number.get(str(uid)) if uid is not None else None
        if utterance is not None:
            entry["at"] = utterance["start"]
            entry["said"] = utterance["text"]
    return sorted(raised.values(), key=lambda entry: entry["at"])


def _objection(category, uid, said, at) -> dict:
    return {
        "category": category,
        "label": label_of(category),
        "at": at,
        "said": said,
        "prompt": None,
        "prompted_at": None,
        "answered": None,
        "answer": None,
        "seconds_to_answer": None,
        "latency": None,
    }


def _label_from_prompt(text) -> Optional[str]:
    # Objection prompts read "Price: <what to say>".
    head = (text or "").split(":", 1)[0]
    return head if head != text and 0 < len(head) <= 30 else None


def _dynamics(observations) -> dict:
    """Whole-call talk figures the talk_ratio plugin logs at the end; only those present."""
    latest = {}
    for o in observations:
        if o["plugin"] in (None, "talk_ratio") and o["kind"] in ("questions", "pace", "interruptions", "fillers", "silences"):
            latest[o["kind"]] = o
    dynamics = {}
    if "questions" in latest:
        o = latest["questions"]
        data = _json(o["data"]) or {}
        dynamics["questions"] = {
            "count": _number(o["value"]),
            "range": data.get("range") or list(QUESTIONS_RANGE),
            "asked": data.get("asked") or [],
        }
    if "pace" in latest:
        o = latest["pace"]
        data = _json(o["data"]) or {}
        dynamics["pace"] = {
            "words_per_minute": _number(o["value"]),
            "range": data.get("range") or list(PACE_RANGE),
            "words": data.get("words"),
        }
    if "interruptions" in latest:
        o = latest["interruptions"]
        dynamics["interruptions"] = {"count": _number(o["value"]), "at": (_json(o["data"]) or {}).get("at") or []}
    if "fillers" in latest:
        o = latest["fillers"]
        data = _json(o["data"]) or {}
        dynamics["fillers"] = {"per_100_words": _number(o["value"]), "counts": data.get("counts") or {}}
    if "silences" in latest:
        o = latest["silences"]
        data = _json(o["data"]) or {}
        dynamics["silences"] = {"count": _number(o["value"]), "longest_seconds": data.get("longest_seconds")}
    return dynamics


def _sentiment(observations, by_number) -> Optional[dict]:
    """The prospect's mood, one score per remark (VADER compound, -1 to 1); None if not measured."""
    points = []
    for o in observations:
        if o["kind"] != "sentiment":
            continue
        score = _number(o["value"])
        if score is None:
            continue
        data = _json(o["data"]) or {}
        utterance = by_number.get(str(data.get("utterance_id")))
        points.append(
            {
                "at": o["at"],
                "score": score,
                "label": data.get("label") or _mood(score),
                "trend": data.get("trend"),
                "counted": data.get("counted", True),
                "text": utterance["text"] if utterance else None,
            }
        )
    if not points:
        return None
    points.sort(key=lambda point: point["at"])
    summary = next((o for o in reversed(observations) if o["kind"] == "sentiment_summary"), None)
    counted = [p["score"] for p in points if p["counted"]]
    average = _number(summary["value"]) if summary else None
    if average is None and counted:
        average = round(sum(counted) / len(counted), 3)
    return {"points": points, "average": average}


def _mood(score) -> str:
    if score >= SENTIMENT_POSITIVE:
        return "positive"
    if score <= SENTIMENT_NEGATIVE:
        return "negative"
    return "neutral"


def key_numbers(report: dict) -> list[dict]:
    """The call's headline figures, each judged against its target (good, warn, bad or None)."""
    numbers = []

    def add(name, label, value, display, target, status, note=None):
        numbers.append(
            {"name": name, "label": label, "value": value, "display": display, "target": target,
             "status": status, "note": note}
        )

    share = report["talk"]["seller_share"]
    add(
        "talk_share", "Your share of the talk", share, _percent(share),
        f"about {TALK_SHARE_TARGET:.0%}; over {TALK_SHARE_MAX:.0%} is too much",
        None if share is None else judge_talk_share(share),
    )
    monologue = report["talk"]["longest_monologue"].get(SELLER)
    add(
        "longest_monologue", "Your longest monologue", monologue,
        "n/a" if monologue is None else duration_text(monologue),
        f"under {MONOLOGUE_GOOD_SECONDS} s",
        None if monologue is None else _above(monologue, MONOLOGUE_GOOD_SECONDS, MONOLOGUE_MAX_SECONDS),
    )
    dynamics = report.get("dynamics") or {}
    if "questions" in dynamics and dynamics["questions"]["count"] is not None:
        count, (low, high) = dynamics["questions"]["count"], dynamics["questions"]["range"]
        add(
            "questions", "Questions you asked", count, f"{count:.0f}",
            f"{low:.0f}-{high:.0f} on a discovery call", _within(count, low, high, QUESTIONS_SLACK),
        )
    if "pace" in dynamics and dynamics["pace"]["words_per_minute"] is not None:
        pace, (low, high) = dynamics["pace"]["words_per_minute"], dynamics["pace"]["range"]
        add(
            "pace", "Your pace", pace, f"{pace:.0f} wpm",
            f"{low:.0f}-{high:.0f} words a minute", _within(pace, low, high, PACE_SLACK),
        )
    objections = report["objections"]
    judged = [o for o in objections if o["answered"] is not None]
    answered = sum(1 for o in judged if o["answered"])
    if judged:
        status = GOOD if answered == len(judged) else WARN if answered * 2 >= len(judged) else BAD
        add("objections_answered", "Objections answered", answered, f"{answered} of {len(judged)}", "all of them", status)
    else:
        add(
            "objections_answered", "Objections answered", None,
            "none raised" if not objections else "not judged", "all of them", None,
        )
    if "interruptions" in dynamics and dynamics["interruptions"]["count"] is not None:
        count = dynamics["interruptions"]["count"]
        add(
            "interruptions", "Times you interrupted", count, f"{count:.0f}",
            f"{INTERRUPTIONS_GOOD} or fewer", _above(count, INTERRUPTIONS_GOOD, INTERRUPTIONS_MAX),
        )
    sentiment = report.get("sentiment")
    if sentiment and sentiment["average"] is not None:
        mood = _mood(sentiment["average"])
        add(
            "sentiment", "Prospect's mood", sentiment["average"], mood.capitalize(),
            "positive or neutral", {"positive": GOOD, "neutral": GOOD, "negative": WARN}[mood],
            note=f"average score {sentiment['average']:+.2f} (-1 to +1)",
        )
    latency = report["latency"]
    if latency["p50"] is not None:
        add(
            "prompt_latency", "Prompt speed after the words", latency["p50"], f"{latency['p50']:.1f} s",
            f"95% within {LATENCY_P95_GOOD:.0f} s", _above(latency["p95"], LATENCY_P95_GOOD, LATENCY_P95_MAX),
            note=f"typical (p50); 95% within {latency['p95']:.1f} s",
        )
    return numbers


def judge_talk_share(share: float) -> str:
    if share > TALK_SHARE_MAX:
        return BAD
    return GOOD if TALK_SHARE_GOOD[0] <= share <= TALK_SHARE_GOOD[1] else WARN


def _above(value, good, worst) -> str:
    return GOOD if value <= good else WARN if value <= worst else BAD


def _within(value, low, high, slack) -> str:
    if low <= value <= high:
        return GOOD
    return WARN if low - slack <= value <= high + slack else BAD


def _verdicts(db, session_id) -> dict:
    """Prompt id -> the seller's latest verdict (True useful, False not)."""
    if not db["prompt_feedback"].exists():
        return {}
    rows = db.query(
        "select prompt_id, useful from prompt_feedback where session_id = ? order by rowid", [session_id]
    )
    return {row["prompt_id"]: bool(row["useful"]) for row in rows}


def _usefulness(prompts, verdicts) -> dict:
    """Per plugin: prompts shown, rated useful, rated not useful."""
    table = {}
    for p in prompts:
        entry = table.setdefault(p["plugin"], {"shown": 0, "useful": 0, "not_useful": 0})
        entry["shown"] += 1
        verdict = verdicts.get(p["id"])
        if verdict is not None:
            entry["useful" if verdict else "not_useful"] += 1
    return table


def list_sessions(
    db: sqlite_utils.Database,
    limit: int = 50,
    *,
    since: Optional[datetime] = None,
    profile: Optional[str] = None,
    status: Optional[str] = None,
) -> list[dict]:
    """The latest sessions, newest first, optionally only those since a time,
    with a profile, or with a status (ended, interrupted, failed, running)."""
    where, values = [], []
    if since is not None:
        where.append("s.started_at >= ?")
        values.append(since.astimezone(timezone.utc).isoformat(timespec="seconds"))
    if profile:
        where.append("s.profile = ?")
        values.append(profile)
    if status:
        where.append("s.status = ?")
        values.append(status)
    condition = f"where {' and '.join(where)}" if where else ""
    return list(
        db.query(
            f"""
            select s.id, s.started_at, s.status, s.profile, s.duration,
              (select count(*) from utterances u where u.session_id = s.id) as utterances,
              (select count(*) from prompts p where p.session_id = s.id) as prompts
            from sessions s {condition} order by s.started_at desc, s.rowid desc limit ?
            """,
            values + [limit],
        )
    )


# -- many calls ---------------------------------------------------------------

_PERIOD = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: Optional[datetime] = None) -> datetime:
    """The instant ``--since`` means: ``7d``, ``24h``, ``2w`` back from now, or a date (local time)."""
    now = now or datetime.now(timezone.utc)
    match = _PERIOD.match(text or "")
    if match:
        amount = int(match.group(1))
        if amount == 0:
            raise ValueError(f"--since {text.strip()} is no time at all: try 7d, 24h or 2w")
        return now - timedelta(**{_UNITS[match.group(2).lower()]: amount})
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise ValueError(
            f"--since takes a period such as 7d, 24h or 2w, or a date such as 2026-11-01, not {text!r}"
        ) from None
    # A date without a zone is the seller's own clock.
    return moment.astimezone() if moment.tzinfo is None else moment


def _started(session) -> Optional[datetime]:
    try:
        moment = datetime.fromisoformat(session["started_at"])
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def build_summary(
    db: sqlite_utils.Database,
    since: Union[timedelta, datetime, None] = None,
    now: Optional[datetime] = None,
) -> dict:
    """Many calls at once: every call, or those started since ``since`` (a period back from now, or an instant)."""
    now = now or datetime.now(timezone.utc)
    cutoff = now - since if isinstance(since, timedelta) else since
    sessions = []
    for session in db.query("select id, started_at from sessions order by started_at, rowid"):
        started = _started(session)
        if cutoff is not None and (started is None or started < cutoff):
            continue
        sessions.append(session["id"])
    calls = [_call_figures(build_report(db, session_id, timeline=False)) for session_id in sessions]
    return {
        "period": {
            "since": None if cutoff is None else cutoff.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "until": now.astimezone(timezone.utc).isoformat(timespec="seconds"),
        },
        "calls": len(calls),
        "total_duration": round(sum(call["duration"] or 0.0 for call in calls), 1),
        "per_call": calls,
        "trends": {
            "talk_share": _trend([call["seller_share"] for call in calls], lambda v: abs(v - TALK_SHARE_TARGET)),
            "questions": _trend(
                [call["questions"] for call in calls],
                lambda v: max(0.0, QUESTIONS_RANGE[0] - v, v - QUESTIONS_RANGE[1]),
            ),
        },
        "objections": _objection_stats(calls),
        "bests": _bests(calls),
        "targets": {"talk_share": TALK_SHARE_TARGET, "talk_share_max": TALK_SHARE_MAX, "questions": list(QUESTIONS_RANGE)},
    }


def _call_figures(report: dict) -> dict:
    dynamics = report["dynamics"]
    answers = [o["seconds_to_answer"] for o in report["objections"] if o["answered"] and o["seconds_to_answer"] is not None]
    return {
        "id": report["session"]["id"],
        "started_at": report["session"]["started_at"],
        "status": report["session"]["status"],
        "duration": report["session"]["duration"],
        "seller_share": report["talk"]["seller_share"],
        "longest_monologue": report["talk"]["longest_monologue"].get(SELLER),
        "questions": dynamics.get("questions", {}).get("count"),
        "pace": dynamics.get("pace", {}).get("words_per_minute"),
        "objections": [
            {"category": o["category"], "label": o["label"], "answered": o["answered"]} for o in report["objections"]
        ],
        "answered": sum(1 for o in report["objections"] if o["answered"]),
        "fastest_answer": min(answers) if answers else None,
        "latency_p50": report["latency"]["p50"],
        "sentiment": (report["sentiment"] or {}).get("average"),
    }


def _trend(values: list, distance) -> dict:
    """Average, first and last, and whether the later half of the calls got closer to target."""
    known = [v for v in values if v is not None]
    trend = {
        "values": values,
        "average": round(sum(known) / len(known), 3) if known else None,
        "first": known[0] if known else None,
        "last": known[-1] if known else None,
        "direction": None,
    }
    if len(known) >= 2:
        half = len(known) // 2
        before = sum(distance(v) for v in known[:half]) / half
        after = sum(distance(v) for v in known[-half:]) / half
        trend["direction"] = "better" if after < before * 0.9 else "worse" if after > before * 1.1 + 1e-9 else "steady"
    return trend


def _objection_stats(calls) -> list[dict]:
    table: dict = {}
    for call in calls:
        for o in call["objections"]:
            entry = table.setdefault(
                o["category"], {"category": o["category"], "label": o["label"], "raised": 0, "answered": 0, "unanswered": 0}
            )
            entry["raised"] += 1
            if o["answered"] is True:
                entry["answered"] += 1
            elif o["answered"] is False:
                entry["unanswered"] += 1
    for entry in table.values():
        judged = entry["answered"] + entry["unanswered"]
        entry["answered_share"] = round(entry["answered"] / judged, 3) if judged else None
    return sorted(table.values(), key=lambda e: (-e["raised"], e["category"]))


def _bests(calls) -> list[dict]:
    """Personal bests over these calls: the call that did best on each figure."""
    bests = []

    def best(name, label, key, choose, display):
        candidates = [call for call in calls if call[key] is not None]
        if not candidates:
            return
        call = choose(candidates, key=lambda c: (c[key], c["started_at"] or ""))
        bests.append(
            {"name": name, "label": label, "value": call[key], "display": display(call[key]),
             "session_id": call["id"], "started_at": call["started_at"]}
        )

    talked = [call for call in calls if call["seller_share"] is not None]
    if talked:
        call = min(talked, key=lambda c: abs(c["seller_share"] - TALK_SHARE_TARGET))
        bests.append(
            {"name": "talk_share", "label": f"Talk share closest to {TALK_SHARE_TARGET:.0%}",
             "value": call["seller_share"], "display": _percent(call["seller_share"]),
             "session_id": call["id"], "started_at": call["started_at"]}
        )
    best("questions", "Most questions asked", "questions", max, lambda v: f"{v:.0f}")
    best("fastest_answer", "Fastest answer to an objection", "fastest_answer", min, lambda v: f"{v:.1f} s")
    if any(call["answered"] for call in calls):
        best("answered", "Most objections answered in a call", "answered", max, lambda v: f"{v}")
    return bests


# -- rendering ----------------------------------------------------------------


def _round(value):
    return None if value is None else round(value, 3)


def _clock(seconds) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _percent(share) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}%"


def _seconds(value) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def duration_text(seconds) -> str:
    """``45 s``, ``2 min 05 s``, ``1 h 12 min``."""
    seconds = int(round(seconds or 0))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min" + (f" {seconds % 60:02d} s" if seconds % 60 else "")
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def when_text(iso: Optional[str]) -> str:
    """A logged UTC instant on the reader's clock: ``Tue 24 Nov 2026 19:55``."""
    moment = _started({"started_at": iso})
    return "unknown time" if moment is None else moment.astimezone().strftime("%a %d %b %Y %H:%M")


_STATUS_WORDS = {GOOD: "on target", WARN: "watch", BAD: "off target", None: ""}


def render_text(report: dict, with_transcript: bool = False) -> str:
    s, talk, latency = report["session"], report["talk"], report["latency"]
    lines = [
        f"Session {s['id']}  ({s['status']})",
        f"  started {s['started_at']}, profile {s['profile']}, {s['source']}",
        f"  duration {_clock(s['duration'])}",
        "",
        "Talk",
    ]
    for speaker, seconds in talk["seconds"].items():
        lines.append(
            f"  {speaker:<9} {seconds:6.1f} s talking, longest monologue "
            f"{talk['longest_monologue'].get(speaker, 0):.1f} s"
        )
    if talk["seller_share"] is not None:
        lines.append(f"  talk ratio: seller {talk['seller_share'] * 100:.0f}% / prospect {(1 - talk['seller_share']) * 100:.0f}%")
    numbers = report.get("key_numbers") or []
    if numbers:
        lines += ["", "Key numbers (target)"]
        for n in numbers:
            status = _STATUS_WORDS[n["status"]]
            lines.append(f"  {n['label']:<28} {n['display']:<20} ({n['target']}){'  ' + status if status else ''}")
    lines += ["", "Stages"]
    lines += [f"  {_clock(st['at'])}  {str(st['stage']).replace('_', ' ')}" for st in report["stages"]] or ["  (none detected)"]
    lines += ["", "Objections"]
    for o in report["objections"]:
        state = {True: "answered", False: "not answered", None: ""}[o["answered"]]
        lines.append(f"  {_clock(o['at'])}  {o['category']:<12} \"{o['said']}\" {state}".rstrip())
        lines.append(f"         prompt: {o['prompt'] or '(none shown)'}")
    if not report["objections"]:
        lines.append("  (none raised)")
    lines += ["", f"Prompts ({len(report['prompts'])})"]
    for p in report["prompts"]:
        mark = {True: "  (+ useful)", False: "  (- not useful)", None: ""}[p["useful"]]
        lines.append(f"  {_clock(p['at'])}  [{p['priority']}] {p['text']}{mark}")
    if any(u["useful"] or u["not_useful"] for u in report["usefulness"].values()):
        lines += ["", "Your ratings, per plugin"]
        for plugin, u in sorted(report["usefulness"].items()):
            lines.append(f"  {plugin:<12} {u['useful']} useful, {u['not_useful']} not, of {u['shown']} shown")
    lines += [
        "",
        f"Latency, end of words to prompt ({latency['prompts_measured']} prompts): "
        f"p50 {_seconds(latency['p50'])}, p95 {_seconds(latency['p95'])}",
    ]
    if with_transcript:
        lines += ["", "Transcript"]
        lines += [f"  {_clock(u['start'])}  {u['speaker']:<9} {u['text']}" for u in report["utterances"]]
    return "\n".join(lines)


def _cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict) -> str:
    s, talk, latency = report["session"], report["talk"], report["latency"]
    lines = [
        f"# Call report {s['id'][:8]}",
        "",
        f"- Started: {s['started_at']} ({s['status']})",
        f"- Duration: {_clock(s['duration'])}",
        f"- Talk ratio (seller): {_percent(talk['seller_share'])}",
        f"- Prompt latency p50 / p95: {_seconds(latency['p50'])} / {_seconds(latency['p95'])}",
        "",
    ]
    numbers = report.get("key_numbers") or []
    if numbers:
        lines += ["## Key numbers", "", "| figure | this call | target | verdict |", "|---|---|---|---|"]
        for n in numbers:
            lines.append(f"| {n['label']} | {n['display']} | {n['target']} | {_STATUS_WORDS[n['status']] or '-'} |")
        lines.append("")
    lines += ["## Stages", ""]
    lines += [f"- {_clock(st['at'])} {st['stage']}" for st in report["stages"]] or ["(none)"]
    lines += ["", "## Objections", "", "| at | category | said | answered |", "|---|---|---|---|"]
    for o in report["objections"]:
        lines.append(f"| {_clock(o['at'])} | {o['category']} | {_cell(o['said'])} | {o['answered']} |")
    lines += ["", "## Prompts by plugin", "", "| plugin | shown | useful | not useful |", "|---|---|---|---|"]
    for plugin, u in sorted(report["usefulness"].items()):
        lines.append(f"| {plugin} | {u['shown']} | {u['useful']} | {u['not_useful']} |")
    lines += ["", "## Transcript", ""]
    lines += [f"- **{u['speaker']}** {_clock(u['start'])}: {u['text']}" for u in report["utterances"]]
    return "\n".join(lines) + "\n"


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str)


def _period_text(summary: dict) -> str:
    since = summary["period"]["since"]
    return "All calls" if since is None else f"Calls since {when_text(since)}"


def _direction_text(trend: dict, fmt) -> str:
    if trend["average"] is None:
        return "not measured"
    text = f"average {fmt(trend['average'])}"
    if trend["direction"]:
        text += f", {trend['direction']} ({fmt(trend['first'])} first, {fmt(trend['last'])} latest)"
    return text


def render_summary_text(summary: dict) -> str:
    count = summary["calls"]
    lines = [f"{_period_text(summary)}: {count} call{'s' if count != 1 else ''}, {duration_text(summary['total_duration'])} in all"]
    if not summary["calls"]:
        lines.append("  (no calls logged in that time; --all shows every call)")
        return "\n".join(lines)
    talk, questions = summary["trends"]["talk_share"], summary["trends"]["questions"]
    lines += [
        "",
        f"Talk share (target about {TALK_SHARE_TARGET:.0%}): {_direction_text(talk, _percent)}",
        "  per call: " + " ".join(_percent(v) for v in talk["values"]),
    ]
    if questions["average"] is not None:
        lines += [
            f"Questions per call (target {QUESTIONS_RANGE[0]}-{QUESTIONS_RANGE[1]}): {_direction_text(questions, lambda v: f'{v:.1f}')}",
            "  per call: " + " ".join("-" if v is None else f"{v:.0f}" for v in questions["values"]),
        ]
    lines += ["", "Most frequent objections"]
    for o in summary["objections"]:
        share = "" if o["answered_share"] is None else f" ({o['answered_share']:.0%})"
        lines.append(f"  {o['label']:<20} {o['raised']} raised, {o['answered']} answered{share}")
    if not summary["objections"]:
        lines.append("  (none raised)")
    if summary["bests"]:
        lines += ["", "Personal bests"]
        for b in summary["bests"]:
            lines.append(f"  {b['label']:<36} {b['display']:<8} {when_text(b['started_at'])}  {b['session_id'][:8]}")
    lines += ["", "Calls"]
    for c in summary["per_call"]:
        asked = "" if c["questions"] is None else f"  questions {c['questions']:.0f}"
        judged = [o for o in c["objections"] if o["answered"] is not None]
        objections = f"  objections {c['answered']}/{len(judged)} answered" if judged else ""
        lines.append(
            f"  {when_text(c['started_at'])}  {c['id'][:8]}  {_clock(c['duration'])}"
            f"  talk {_percent(c['seller_share'])}{asked}{objections}"
        )
    return "\n".join(lines)


def render_summary_markdown(summary: dict) -> str:
    lines = [f"# {_period_text(summary)}", "", f"- Calls: {summary['calls']}", f"- Time on calls: {duration_text(summary['total_duration'])}"]
    if summary["calls"]:
        talk, questions = summary["trends"]["talk_share"], summary["trends"]["questions"]
        lines.append(f"- Talk share (target about {TALK_SHARE_TARGET:.0%}): {_direction_text(talk, _percent)}")
        if questions["average"] is not None:
            lines.append(f"- Questions per call (target {QUESTIONS_RANGE[0]}-{QUESTIONS_RANGE[1]}): {_direction_text(questions, lambda v: f'{v:.1f}')}")
        lines += ["", "## Objections", "", "| objection | raised | answered | answered % |", "|---|---|---|---|"]
        for o in summary["objections"]:
            share = "-" if o["answered_share"] is None else f"{o['answered_share']:.0%}"
            lines.append(f"| {_cell(o['label'])} | {o['raised']} | {o['answered']} | {share} |")
        lines += ["", "## Personal bests", ""]
        lines += [f"- {b['label']}: **{b['display']}** ({when_text(b['started_at'])}, {b['session_id'][:8]})" for b in summary["bests"]] or ["(none yet)"]
        lines += ["", "## Calls", "", "| when | session | length | talk share | questions | objections answered |", "|---|---|---|---|---|---|"]
        for c in summary["per_call"]:
            judged = [o for o in c["objections"] if o["answered"] is not None]
            asked = "-" if c["questions"] is None else f"{c['questions']:.0f}"
            answered = f"{c['answered']}/{len(judged)}" if judged else "-"
            lines.append(
                f"| {when_text(c['started_at'])} | {c['id'][:8]} | {_clock(c['duration'])} | "
                f"{_percent(c['seller_share'])} | {asked} | {answered} |"
            )
    return "\n".join(lines) + "\n"


def render_summary_json(summary: dict) -> str:
    return json.dumps(summary, indent=2, default=str)


def render_report(report: dict, output_format: str, with_transcript: bool = False) -> str:
    """One call in ``text``, ``markdown``, ``json`` or ``html``."""
    if output_format == "html":
        from .report_html import render_html

        return render_html(report)
    renderers = {
        "text": lambda r: render_text(r, with_transcript=with_transcript),
        "markdown": render_markdown,
        "json": render_json,
    }
    return renderers[output_format](report)


def render_summary(summary: dict, output_format: str) -> str:
    """Many calls in ``text``, ``markdown``, ``json`` or ``html``."""
    if output_format == "html":
        from .report_html import render_summary_html

        return render_summary_html(summary)
    renderers = {"text": render_summary_text, "markdown": render_summary_markdown, "json": render_summary_json}
    return renderers[output_format](summary)


def report_filename(report: dict) -> str:
    """Where an HTML report goes when the seller names no file: ``voicecoach-report-<id8>.html``."""
    return f"voicecoach-report-{report['session']['id'][:8]}.html"


def summary_filename(summary: dict) -> str:
    """``voicecoach-summary-all.html``, or ``voicecoach-summary-since-2026-11-17.html``."""
    since = summary["period"]["since"]
    if since is None:
        return "voicecoach-summary-all.html"
    # The day on the seller's clock, as they typed it.
    return f"voicecoach-summary-since-{datetime.fromisoformat(since).astimezone():%Y-%m-%d}.html"


REPORT_FORMATS = ("text", "markdown", "json", "html")


@dataclass
class ReportOutput:
    """What ``voicecoach report`` produced: text for the terminal, or the file it wrote."""

    text: Optional[str] = None
    path: Optional[str] = None


def produce_report(
    db: sqlite_utils.Database,
    *,
    session_id: Optional[str] = None,
    since: Optional[str] = None,
    all_calls: bool = False,
    output_format: str = "text",
    output: Optional[str] = None,
    with_transcript: bool = False,
    now: Optional[datetime] = None,
) -> ReportOutput:
    """The ``voicecoach report`` command without the command line.

    One call (``session_id``, the latest by default) or a summary of many
    (``since`` as ``parse_since`` reads it, or ``all_calls``). HTML is a page to
    open or send, so it goes to a file (``voicecoach-report-<id8>.html`` in the
    current folder) unless ``output`` is ``-``; other formats go to ``output``
    when given and are returned as text otherwise.
    """
    if since is not None and all_calls:
        raise ValueError("give --since or --all, not both")
    if session_id is not None and (since is not None or all_calls):
        raise ValueError("--session reports one call; --since and --all summarise many: use one or the other")
    if since is not None or all_calls:
        summary = build_summary(db, None if all_calls else parse_since(since, now), now=now)
        text, default_name = render_summary(summary, output_format), summary_filename(summary)
    else:
        report = build_report(db, session_id)
        text, default_name = render_report(report, output_format, with_transcript), report_filename(report)
    if output == "-" or (output is None and output_format != "html"):
        return ReportOutput(text=text)
    path = os.path.abspath(output or default_name)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as error:
        raise ValueError(f"cannot write {path} ({error.strerror})") from None
    return ReportOutput(path=path)
