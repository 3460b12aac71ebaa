"""The team report: every seller's calls in the team's PostgreSQL database, week by week.

    from voicecoach.team import produce_team_report
    print(produce_team_report("postgresql://manager@db.example/team").text)

The figures are grouped in the database (``GROUP BY GROUPING SETS`` over the
views that :mod:`voicecoach.sync`'s migrations create), so the report reads a
few rows per seller and week however many calls the team logged. Each view reads
a call the way the personal report does: talk share from the logged speech
spans, questions from the talk_ratio plugin, objections once per remark and
category with the latest answered/unanswered verdict, the seller's latest
rating of each prompt.

Weeks are ISO weeks (Monday to Sunday) in UTC. Averages are per call: a
seller's talk share for a week is the mean of that week's calls' shares.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone
from html import escape
from typing import Optional

from .report import (
    QUESTIONS_RANGE,
    TALK_SHARE_GOOD,
    TALK_SHARE_MAX,
    TALK_SHARE_TARGET,
    ReportOutput,
    _cell,
    _percent,
    _trend,
    duration_text,
    judge_talk_share,
    label_of,
    parse_since,
)
from .sync import SyncError, connect, resolve_target, without_password

# The ISO week (Monday) a call started in, in UTC: the same expression as the call_figures view.
WEEK = "date_trunc('week', s.started_at at time zone 'UTC')::date"
# Rows of a GROUPING SETS query, by grouping(seller, week): 0 both, 1 seller only, 2 week only, 3 the team.
BY_SELLER_WEEK, BY_SELLER, BY_WEEK, ALL = 0, 1, 2, 3

CALLS_SQL = """
select f.seller, f.week, grouping(f.seller, f.week) as level,
    count(*) as calls,
    coalesce(sum(f.duration), 0) as duration,
    avg(f.seller_share) as talk_share,
    count(f.seller_share) as calls_with_talk,
    avg(f.questions) as questions,
    count(f.questions) as calls_with_questions
from call_figures f
where %(since)s::timestamptz is null or f.started_at >= %(since)s::timestamptz
group by grouping sets ((f.seller, f.week), (f.seller), (f.week), ())
"""

OBJECTIONS_SQL = f"""
select s.seller, {WEEK} as week, o.category, grouping(s.seller, {WEEK}) as level,
    count(*) as raised,
    count(*) filter (where o.answered) as answered,
    count(*) filter (where not o.answered) as unanswered
from call_objections o join sessions s on s.id = o.session_id
where %(since)s::timestamptz is null or s.started_at >= %(since)s::timestamptz
group by grouping sets ((s.seller, {WEEK}, o.category), (s.seller, o.category), ({WEEK}, o.category), (o.category))
"""

PROMPTS_SQL = f"""
select s.seller, {WEEK} as week, grouping(s.seller, {WEEK}) as level,
    count(*) as shown,
    count(*) filter (where r.useful) as useful,
    count(*) filter (where not r.useful) as not_useful
from prompt_ratings r join sessions s on s.id = r.session_id
where %(since)s::timestamptz is null or s.started_at >= %(since)s::timestamptz
group by grouping sets ((s.seller, {WEEK}), (s.seller), ({WEEK}), ())
"""


# Objection prompts read "Price: <what to say>": the playbook's label for each category.
LABELS_SQL = """
select substr(kind, 11) as category, min(split_part(text, ':', 1)) as label
from prompts
where kind like 'objection.%' and position(':' in text) between 2 and 31
group by 1
"""


def build_team_report(conn, since: Optional[datetime] = None, now: Optional[datetime] = None) -> dict:
    """The team's figures from an open connection to the team database."""
    now = now or datetime.now(timezone.utc)
    params = {"since": since}
    calls = _rows(conn, CALLS_SQL, params)
    objections = _rows(conn, OBJECTIONS_SQL, params)
    prompts = _rows(conn, PROMPTS_SQL, params)
    labels = {row["category"]: row["label"] for row in _rows(conn, LABELS_SQL, None)}

    def empty_group():
        return {
            "calls": 0, "duration": 0.0, "talk_share": None, "questions": None,
            "objections": _objection_totals([]), "by_category": [],
            "prompts": {"shown": 0, "useful": 0, "not_useful": 0},
        }

    groups: dict = {}  # (level, seller, week) -> figures

    def group(level, seller, week):
        key = (level, seller if level in (BY_SELLER_WEEK, BY_SELLER) else None, week if level in (BY_SELLER_WEEK, BY_WEEK) else None)
        return groups.setdefault(key, empty_group())

    for row in calls:
        entry = group(row["level"], row["seller"], row["week"])
        entry.update(
            calls=row["calls"],
            duration=round(float(row["duration"]), 1),
            talk_share=_rounded(row["talk_share"]),
            questions=_rounded(row["questions"], 2),
        )
    for row in objections:
        entry = group(row["level"], row["seller"], row["week"])
        entry["by_category"].append(_objection(row, labels))
    for entry in groups.values():
        entry["by_category"].sort(key=lambda o: (-o["raised"], o["category"]))
        entry["objections"] = _objection_totals(entry["by_category"])
    for row in prompts:
        entry = group(row["level"], row["seller"], row["week"])
        entry["prompts"] = {"shown": row["shown"], "useful": row["useful"], "not_useful": row["not_useful"]}

    sellers = []
    for (level, seller, _), figures in sorted(groups.items(), key=lambda item: str(item[0][1]).casefold()):
        if level != BY_SELLER:
            continue
        weeks = [
            {"week": _day(week), **entry}
            for (lvl, name, week), entry in sorted(groups.items(), key=lambda item: str(item[0][2]))
            if lvl == BY_SELLER_WEEK and name == seller
        ]
        sellers.append({"seller": seller, **figures, "weeks": weeks, "trends": _trends(weeks)})
    team_weeks = [
        {"week": _day(week), **entry}
        for (lvl, _, week), entry in sorted(groups.items(), key=lambda item: str(item[0][2]))
        if lvl == BY_WEEK
    ]
    team = groups.get((ALL, None, None)) or empty_group()
    return {
        "period": {
            "since": None if since is None else since.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "until": now.astimezone(timezone.utc).isoformat(timespec="seconds"),
        },
        "team": {**team, "sellers": len(sellers), "weeks": team_weeks, "trends": _trends(team_weeks)},
        "sellers": sellers,
        "targets": {"talk_share": TALK_SHARE_TARGET, "talk_share_max": TALK_SHARE_MAX, "questions": list(QUESTIONS_RANGE)},
    }


def _rows(conn, query: str, params: Optional[dict]) -> list[dict]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(query, params).fetchall()


def _rounded(value, digits: int = 3):
    return None if value is None else round(float(value), digits)


def _day(value) -> Optional[str]:
    return value.isoformat() if isinstance(value, date) else value


def _objection(row, labels: dict) -> dict:
    judged = row["answered"] + row["unanswered"]
    return {
        "category": row["category"],
        "label": labels.get(row["category"]) or label_of(row["category"]),
        "raised": row["raised"],
        "answered": row["answered"],
        "unanswered": row["unanswered"],
        "answered_share": round(row["answered"] / judged, 3) if judged else None,
    }


def _objection_totals(by_category: list[dict]) -> dict:
    raised = sum(o["raised"] for o in by_category)
    answered = sum(o["answered"] for o in by_category)
    judged = answered + sum(o["unanswered"] for o in by_category)
    return {
        "raised": raised,
        "answered": answered,
        "unanswered": judged - answered,
        "answered_share": round(answered / judged, 3) if judged else None,
    }


def _trends(weeks: list[dict]) -> dict:
    """Week by week, did the later weeks get closer to the targets than the earlier ones?"""
    return {
        "talk_share": _trend([w["talk_share"] for w in weeks], lambda v: abs(v - TALK_SHARE_TARGET)),
        "questions": _trend(
            [w["questions"] for w in weeks], lambda v: max(0.0, QUESTIONS_RANGE[0] - v, v - QUESTIONS_RANGE[1])
        ),
        "objections_answered": _trend(
            [w["objections"]["answered_share"] for w in weeks], lambda v: 1.0 - v
        ),
    }


# -- rendering ------------------------------------------------------------------


def _period(report: dict) -> str:
    since = report["period"]["since"]
    return "All the team's calls" if since is None else f"The team's calls since {since[:10]}"


def _week_text(week: Optional[str]) -> str:
    """``week of 3 Nov 2026`` (ISO weeks start on Monday)."""
    if not week:
        return "?"
    return datetime.fromisoformat(week).strftime("%d %b %Y").lstrip("0")


def _calls(count: int) -> str:
    return f"{count} call{'s' * (count != 1)}"


def _number(value, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _answered(objections: dict) -> str:
    judged = objections["answered"] + objections["unanswered"]
    if not objections["raised"]:
        return "none raised"
    if not judged:
        return f"{objections['raised']} raised, none judged"
    return f"{objections['answered']}/{judged} answered ({objections['answered_share']:.0%})"


def _useful(prompts: dict) -> str:
    return f"{prompts['useful']} useful, {prompts['not_useful']} not, of {prompts['shown']} shown"


def _direction(trend: dict) -> str:
    return f" ({trend['direction']})" if trend.get("direction") else ""


def render_team_text(report: dict) -> str:
    team = report["team"]
    lines = [
        f"{_period(report)}: {team['calls']} call{'s' * (team['calls'] != 1)} by {team['sellers']} "
        f"seller{'s' * (team['sellers'] != 1)}, {duration_text(team['duration'])} in all",
    ]
    if not team["calls"]:
        lines.append("  (no calls synced yet: each seller runs `voicecoach sync --to URL --seller NAME`)")
        return "\n".join(lines)
    lines += [
        f"  talk share {_percent(team['talk_share'])} (target about {TALK_SHARE_TARGET:.0%}){_direction(team['trends']['talk_share'])}",
        f"  questions per call {_number(team['questions'])} (target {QUESTIONS_RANGE[0]}-{QUESTIONS_RANGE[1]})"
        f"{_direction(team['trends']['questions'])}",
        f"  objections {_answered(team['objections'])}",
        f"  prompts {_useful(team['prompts'])}",
        "",
        "The team's most common objections",
    ]
    for o in team["by_category"]:
        share = "" if o["answered_share"] is None else f" ({o['answered_share']:.0%})"
        lines.append(f"  {o['label']:<20} {o['raised']:>4} raised, {o['answered']} answered{share}")
    if not team["by_category"]:
        lines.append("  (none raised)")
    lines += ["", "Sellers"]
    for s in report["sellers"]:
        lines.append(
            f"  {s['seller']:<16} {_calls(s['calls']):>9}  talk {_percent(s['talk_share']):>4}"
            f"{_direction(s['trends']['talk_share'])}  questions {_number(s['questions'])}"
            f"  objections {_answered(s['objections'])}  prompts {s['prompts']['useful']}/{s['prompts']['shown']} useful"
        )
    for s in report["sellers"]:
        lines += ["", f"{s['seller']}, week by week"]
        for w in s["weeks"]:
            categories = ", ".join(
                f"{o['category']} {o['answered']}/{o['raised']}" for o in w["by_category"]
            ) or "no objections"
            lines.append(
                f"  week of {_week_text(w['week']):<12} {_calls(w['calls']):>9}  talk {_percent(w['talk_share']):>4}"
                f"  questions {_number(w['questions'])}  objections answered: {categories}"
                f"  prompts {w['prompts']['useful']}/{w['prompts']['shown']} useful"
            )
    lines += ["", "The team, week by week"]
    for w in team["weeks"]:
        lines.append(
            f"  week of {_week_text(w['week']):<12} {_calls(w['calls']):>9}  talk {_percent(w['talk_share']):>4}"
            f"  questions {_number(w['questions'])}  objections {_answered(w['objections'])}"
        )
    return "\n".join(lines)


def render_team_markdown(report: dict) -> str:
    team = report["team"]
    lines = [
        f"# {_period(report)}",
        "",
        f"- Calls: {team['calls']} by {team['sellers']} seller{'s' * (team['sellers'] != 1)}, {duration_text(team['duration'])} in all",
    ]
    if team["calls"]:
        lines += [
            f"- Talk share: {_percent(team['talk_share'])} (target about {TALK_SHARE_TARGET:.0%}){_direction(team['trends']['talk_share'])}",
            f"- Questions per call: {_number(team['questions'])} (target {QUESTIONS_RANGE[0]}-{QUESTIONS_RANGE[1]})",
            f"- Objections: {_answered(team['objections'])}",
            f"- Prompts: {_useful(team['prompts'])}",
            "",
            "## Most common objections",
            "",
            "| objection | raised | answered | answered % |",
            "|---|---|---|---|",
        ]
        for o in team["by_category"]:
            share = "-" if o["answered_share"] is None else f"{o['answered_share']:.0%}"
            lines.append(f"| {_cell(o['label'])} | {o['raised']} | {o['answered']} | {share} |")
        lines += [
            "",
            "## Sellers",
            "",
            "| seller | calls | talk share | questions/call | objections answered | prompts useful |",
            "|---|---|---|---|---|---|",
        ]
        for s in report["sellers"]:
            lines.append(
                f"| {_cell(s['seller'])} | {s['calls']} | {_percent(s['talk_share'])}{_direction(s['trends']['talk_share'])} | "
                f"{_number(s['questions'])} | {_cell(_answered(s['objections']))} | {s['prompts']['useful']}/{s['prompts']['shown']} |"
            )
        lines += [
            "",
            "## Week by week",
            "",
            "| seller | week of | calls | talk share | questions/call | objections (answered/raised) | prompts useful |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in report["sellers"]:
            for w in s["weeks"]:
                categories = ", ".join(f"{o['category']} {o['answered']}/{o['raised']}" for o in w["by_category"]) or "-"
                lines.append(
                    f"| {_cell(s['seller'])} | {_week_text(w['week'])} | {w['calls']} | {_percent(w['talk_share'])} | "
                    f"{_number(w['questions'])} | {_cell(categories)} | {w['prompts']['useful']}/{w['prompts']['shown']} |"
                )
    return "\n".join(lines) + "\n"


def render_team_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str)


def render_team(report: dict, output_format: str) -> str:
    """The team report in ``text``, ``markdown``, ``json`` or ``html``."""
    if output_format == "html":
        return render_team_html(report)
    renderers = {"text": render_team_text, "markdown": render_team_markdown, "json": render_team_json}
    return renderers[output_format](report)


def team_filename(report: dict) -> str:
    since = report["period"]["since"]
    return "voicecoach-team.html" if since is None else f"voicecoach-team-since-{since[:10]}.html"


def produce_team_report(
    conninfo: Optional[str] = None,
    *,
    since: Optional[str] = None,
    output_format: str = "text",
    output: Optional[str] = None,
    now: Optional[datetime] = None,
) -> ReportOutput:
    """``voicecoach report --team`` without the command line.

    ``conninfo`` is the team database (default: the one ``voicecoach sync``
    remembered); ``since`` as ``--since`` reads it (``8w``, ``2026-11-01``).
    HTML goes to ``voicecoach-team.html`` in the current folder unless
    ``output`` names a file (or ``-``); other formats are returned as text
    unless ``output`` names a file. Raises ValueError with a one-line message
    when the database cannot be read.
    """
    try:
        target = resolve_target(conninfo, option="--from")
        cutoff = parse_since(since, now) if since else None
        conn = connect(target)
    except SyncError as error:
        raise ValueError(str(error)) from None
    try:
        report = build_team_report(conn, cutoff, now=now)
    except Exception as error:
        raise ValueError(f"cannot read the team report from {without_password(target)}: {str(error).splitlines()[0]}") from None
    finally:
        conn.close()
    text = render_team(report, output_format)
    if output == "-" or (output is None and output_format != "html"):
        return ReportOutput(text=text)
    path = os.path.abspath(output or team_filename(report))
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as error:
        raise ValueError(f"cannot write {path} ({error.strerror})") from None
    return ReportOutput(path=path)


# -- HTML ---------------------------------------------------------------------------

SELLER_COLOURS = ("#2563eb", "#0d9488", "#7c3aed", "#db2777", "#ea580c", "#65a30d", "#0891b2", "#4b5563")


def render_team_html(report: dict) -> str:
    """The team report as one self-contained page, in the personal report's style."""
    from .report_html import GOOD, WARN, BAD, _arrow, _cards, _footer, _objection_stats, _page

    team = report["team"]
    heading = _period(report)
    parts = [
        "<header>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="meta">{team["calls"]} call{"s" * (team["calls"] != 1)} by {team["sellers"]} '
        f'seller{"s" * (team["sellers"] != 1)}, {_e(duration_text(team["duration"]))} in all</p>',
        "</header>",
    ]
    if not team["calls"]:
        parts.append(
            '<section><p class="empty">No calls synced yet: each seller runs '
            "<code>voicecoach sync --to URL --seller NAME</code>.</p></section>"
        )
        parts.append(_footer(transcript=False).replace("from your call log; nothing was sent anywhere", "from the team database"))
        return _page(heading, parts)
    numbers = [
        {"name": "calls", "label": "Calls", "value": team["calls"], "display": str(team["calls"]),
         "note": f"{team['sellers']} sellers, {len(team['weeks'])} weeks", "target": None, "status": None},
    ]
    if team["talk_share"] is not None:
        numbers.append(
            {"name": "talk_share", "label": "Sellers' share of the talk", "value": team["talk_share"],
             "display": f"{team['talk_share']:.0%}" + _arrow(team["trends"]["talk_share"]["direction"]),
             "target": f"about {TALK_SHARE_TARGET:.0%}", "status": judge_talk_share(team["talk_share"])}
        )
    if team["questions"] is not None:
        low, high = QUESTIONS_RANGE
        q = team["questions"]
        numbers.append(
            {"name": "questions", "label": "Questions per call", "value": q,
             "display": f"{q:.1f}" + _arrow(team["trends"]["questions"]["direction"]), "target": f"{low}-{high}",
             "status": GOOD if low <= q <= high else WARN if low - 3 <= q <= high + 3 else BAD}
        )
    objections = team["objections"]
    if objections["answered_share"] is not None:
        share = objections["answered_share"]
        numbers.append(
            {"name": "objections_answered", "label": "Objections answered", "value": share,
             "display": f"{share:.0%}", "target": "all of them",
             "status": GOOD if share == 1 else WARN if share >= 0.5 else BAD}
        )
    prompts = team["prompts"]
    rated = prompts["useful"] + prompts["not_useful"]
    numbers.append(
        {"name": "prompts_useful", "label": "Prompts rated useful", "value": prompts["useful"],
         "display": f"{prompts['useful']} of {rated}" if rated else "none rated",
         "note": f"{prompts['shown']} prompts shown", "target": None, "status": None}
    )
    parts.append(_cards(numbers))
    parts += [
        '<section id="talk-trend-section"><h2>Share of the talk, week by week</h2>',
        f'<p class="explain">Each line is one seller; best near {TALK_SHARE_TARGET:.0%} (green band), '
        f"over {TALK_SHARE_MAX:.0%} (red) the prospect is not talking enough.</p>",
        weekly_chart(report, "talk_share", "talk-trend-chart", "Share of the talk, week by week", 0.0, 1.0,
                     lambda v: f"{v:.0%}", (TALK_SHARE_GOOD, TALK_SHARE_MAX)),
        "</section>",
    ]
    if team["questions"] is not None:
        top = max([QUESTIONS_RANGE[1] + 4] + [w["questions"] or 0 for s in report["sellers"] for w in s["weeks"]])
        top = -(-top // 4) * 4
        parts += [
            '<section id="questions-trend-section"><h2>Questions per call, week by week</h2>',
            f'<p class="explain">{QUESTIONS_RANGE[0]}-{QUESTIONS_RANGE[1]} on a discovery call went with the best outcomes (green band).</p>',
            weekly_chart(report, "questions", "questions-trend-chart", "Questions per call, week by week", 0.0,
                         float(top), lambda v: f"{v:.0f}", (QUESTIONS_RANGE, None)),
            "</section>",
        ]
    parts.append(
        _objection_stats(team["by_category"])
        .replace("Objections you met most", "The team's most common objections")
        .replace("on these calls", "on the team's calls")
    )
    parts.append(_seller_table(report["sellers"]))
    parts.append(_week_table(report["sellers"]))
    parts.append(
        _footer(transcript=False).replace(
            "on your own computer from your call log; nothing was sent anywhere.",
            "from the team database: redacted transcripts and figures the sellers synced; no audio.",
        )
    )
    return _page(f"Team report – {heading}", parts)


def _e(text) -> str:
    return escape("" if text is None else str(text), quote=True)


def weekly_chart(report, key, chart_id, title, low, high, fmt, bands) -> str:
    """One line per seller over the weeks, against the target band."""
    from .report_html import LEFT, PLOT, _n, _path, _svg, banded_grid, time_axis, value_scale

    weeks = sorted({w["week"] for s in report["sellers"] for w in s["weeks"]})
    top, plot_height = 8, 170
    height = top + plot_height + 24 + 22 * ((len(report["sellers"]) + 3) // 4)
    step = PLOT / max(len(weeks), 1)
    index = {week: i for i, week in enumerate(weeks)}

    def x(i):
        return LEFT + step * (i + 0.5)

    y = value_scale(top, plot_height, low, high)
    good, worst = bands
    body = banded_grid(y, low, high, fmt, good, worst)
    body.append(time_axis([_week_text(week)[:6] for week in weeks], x, top + plot_height + 18))
    legend_y = top + plot_height + 40
    for n, seller in enumerate(report["sellers"]):
        colour = SELLER_COLOURS[n % len(SELLER_COLOURS)]
        points = [{"at": index[w["week"]], key: w[key]} for w in seller["weeks"]]
        body.append(f'<g class="seller-line" data-seller="{_e(seller["seller"])}">')
        body.append(f'<path d="{_path(points, key, x, y)}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for w in seller["weeks"]:
            if w[key] is None:
                continue
            tip = f"{seller['seller']}, week of {_week_text(w['week'])}: {fmt(w[key])} ({w['calls']} calls)"
            body.append(
                f'<circle cx="{_n(x(index[w["week"]]))}" cy="{_n(y(w[key]))}" r="4.5" fill="{colour}">'
                f"<title>{_e(tip)}</title></circle>"
            )
        column, row = n % 4, n // 4
        lx, ly = LEFT + column * (PLOT / 4), legend_y + row * 22
        body.append(
            f'<rect x="{_n(lx)}" y="{_n(ly - 10)}" width="12" height="12" rx="3" fill="{colour}"/>'
            f'<text x="{_n(lx + 18)}" y="{_n(ly)}">{_e(seller["seller"])}</text></g>'
        )
    description = f"{len(report['sellers'])} sellers over {len(weeks)} weeks"
    return _svg(chart_id, height, title, description, body, "line-chart")


def _seller_table(sellers: list[dict]) -> str:
    from .report_html import _arrow

    rows = []
    for s in sellers:
        share = "–" if s["talk_share"] is None else f"{s['talk_share']:.0%}{_arrow(s['trends']['talk_share']['direction'])}"
        status = "" if s["talk_share"] is None else judge_talk_share(s["talk_share"])
        rows.append(
            f'<tr><td class="who">{_e(s["seller"])}</td><td>{s["calls"]}</td>'
            f'<td class="{status}">{_e(share)}</td><td>{_e(_number(s["questions"]))}</td>'
            f'<td>{_e(_answered(s["objections"]))}</td>'
            f'<td>{s["prompts"]["useful"]} of {s["prompts"]["shown"]}</td></tr>'
        )
    return (
        '<section id="sellers"><h2>Sellers</h2>'
        "<table><thead><tr><th>Seller</th><th>Calls</th><th>Talk share</th><th>Questions per call</th>"
        f"<th>Objections answered</th><th>Prompts rated useful</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _week_table(sellers: list[dict]) -> str:
    rows = []
    for s in sellers:
        for w in reversed(s["weeks"]):
            categories = ", ".join(
                f"{o['label']} {o['answered']}/{o['raised']}" for o in w["by_category"]
            ) or "–"
            share = "–" if w["talk_share"] is None else f"{w['talk_share']:.0%}"
            rows.append(
                f'<tr><td class="who">{_e(s["seller"])}</td><td class="time">{_e(_week_text(w["week"]))}</td>'
                f'<td>{w["calls"]}</td><td>{share}</td><td>{_e(_number(w["questions"]))}</td>'
                f'<td>{_e(categories)}</td><td>{w["prompts"]["useful"]} of {w["prompts"]["shown"]}</td></tr>'
            )
    return (
        '<section id="weeks"><h2>Week by week</h2>'
        '<p class="explain">Objections: answered of raised, per kind. Weeks start on Monday (UTC).</p>'
        "<table><thead><tr><th>Seller</th><th>Week of</th><th>Calls</th><th>Talk share</th><th>Questions per call</th>"
        f"<th>Objections</th><th>Prompts rated useful</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
