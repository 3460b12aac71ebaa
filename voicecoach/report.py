"""What happened on a call, read back from the log: figures first, then words.

:func:`build_report` gathers one session into a plain dict (the JSON format is
exactly that dict); the ``render_*`` functions lay it out for people.
"""

from __future__ import annotations

import json
from typing import Optional

import sqlite_utils

from .events import PROSPECT, SELLER
from .log import LogError, find_session_id, latest_session_id

# Consecutive spans of one speaker closer than this, with nobody else talking in
# between, are one monologue (a breath is not a turn).
MONOLOGUE_GAP_SECONDS = 1.5


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


def build_report(db: sqlite_utils.Database, session_id: Optional[str] = None) -> dict:
    """Everything the report shows for one session (the latest by default)."""
    if session_id is None:
        session_id = latest_session_id(db)
        if session_id is None:
            raise LogError("the log holds no sessions yet: run `voicecoach demo` first")
    else:
        session_id = find_session_id(db, session_id)
    session = db["sessions"].get(session_id)
    spans = list(db.query("select speaker, start, end from speech_activity where session_id = ?", [session_id]))
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
    prompts = list(db.query("select * from prompts where session_id = ? order by at, rowid", [session_id]))
    observations = list(
        db.query("select * from observations where session_id = ? order by at, rowid", [session_id])
    )
    latencies = [p["latency_total"] for p in prompts if p["latency_total"] is not None]
    verdicts = _verdicts(db, session_id)
    stages = [
        {"stage": o["value"], "at": o["at"]} for o in observations if o["kind"] == "stage"
    ]
    answered = {}
    for o in observations:
        if o["kind"] in ("objection_answered", "objection_unanswered"):
            data = json.loads(o["data"] or "{}")
            answered[data.get("utterance_id")] = o["kind"] == "objection_answered"
    objections = []
    for p in prompts:
        if not p["kind"].startswith("objection."):
            continue
        data = json.loads(p["data"] or "{}")
        objections.append(
            {
                "category": p["kind"].split(".", 1)[1],
                "at": p["at"],
                "said": p["trigger_text"],
                "prompt": p["text"],
                "answered": answered.get(data.get("utterance_id")),
                "latency": p["latency_total"],
            }
        )
    return {
        "session": {
            "id": session_id,
            "started_at": session["started_at"],
            "status": session["status"],
            "profile": session["profile"],
            "source": session["source"],
            "duration": session["duration"],
        },
        "talk": {
            "seconds": {speaker: round(seconds, 2) for speaker, seconds in sorted(talk.items())},
            "seller_share": round(talk.get(SELLER, 0.0) / two_sided, 3) if two_sided else None,
            "longest_monologue": {
                speaker: longest_monologue(spans, speaker) for speaker in sorted(talk)
            },
        },
        "stages": stages,
        "objections": objections,
        "prompts": [
            {
                "at": p["at"],
                "plugin": p["plugin"],
                "kind": p["kind"],
                "priority": p["priority"],
                "text": p["text"],
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
        "utterances": utterances,
    }


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


def list_sessions(db: sqlite_utils.Database, limit: int = 50) -> list[dict]:
    return list(
        db.query(
            """
            select s.id, s.started_at, s.status, s.profile, s.duration,
              (select count(*) from utterances u where u.session_id = s.id) as utterances,
              (select count(*) from prompts p where p.session_id = s.id) as prompts
            from sessions s order by s.started_at desc, s.rowid desc limit ?
            """,
            [limit],
        )
    )


def _round(value):
    return None if value is None else round(value, 3)


def _clock(seconds) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _percent(share) -> str:
    return "n/a" if share is None else f"{share * 100:.0f}%"


def _seconds(value) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


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
    lines += ["", "Stages"]
    lines += [f"  {_clock(st['at'])}  {str(st['stage']).replace('_', ' ')}" for st in report["stages"]] or ["  (none detected)"]
    lines += ["", "Objections"]
    for o in report["objections"]:
        state = {True: "answered", False: "not answered", None: ""}[o["answered"]]
        lines.append(f"  {_clock(o['at'])}  {o['category']:<12} \"{o['said']}\" {state}".rstrip())
        lines.append(f"         prompt: {o['prompt']}")
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
        "## Stages",
        "",
    ]
    lines += [f"- {_clock(st['at'])} {st['stage']}" for st in report["stages"]] or ["(none)"]
    lines += ["", "## Objections", "", "| at | category | said | answered |", "|---|---|---|---|"]
    for o in report["objections"]:
        lines.append(f"| {_clock(o['at'])} | {o['category']} | {o['said']} | {o['answered']} |")
    lines += ["", "## Prompts by plugin", "", "| plugin | shown | useful | not useful |", "|---|---|---|---|"]
    for plugin, u in sorted(report["usefulness"].items()):
        lines.append(f"| {plugin} | {u['shown']} | {u['useful']} | {u['not_useful']} |")
    lines += ["", "## Transcript", ""]
    lines += [f"- **{u['speaker']}** {_clock(u['start'])}: {u['text']}" for u in report["utterances"]]
    return "\n".join(lines) + "\n"


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str)
