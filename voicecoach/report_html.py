"""The call report as one self-contained HTML page a seller can open, print or send.

Everything is inline: the CSS, and the charts as SVG drawn here in Python, so the
page needs no script, font or network to show, and prints and mails as it looks.
Every chart is an ``<svg class="chart">`` with an id and an accessible
``<title>``. All text from the log (transcripts, prompts, plugin names) is
untrusted and goes through :func:`html.escape`.
"""

from __future__ import annotations

from html import escape
from typing import Callable, Optional

from . import __version__
from .events import MIXED, PROSPECT, SELLER
from .report import (
    BAD,
    GOOD,
    QUESTIONS_RANGE,
    SENTIMENT_NEGATIVE,
    SENTIMENT_POSITIVE,
    TALK_SHARE_GOOD,
    TALK_SHARE_MAX,
    TALK_SHARE_TARGET,
    WARN,
    duration_text,
    judge_talk_share,
    label_of,
    when_text,
)

WIDTH = 960  # every chart's viewBox width: charts line up on one time axis
LEFT = 112  # room for lane and axis labels
RIGHT = 16
PLOT = WIDTH - LEFT - RIGHT

SPEAKER_NAMES = {SELLER: "You", PROSPECT: "Prospect", MIXED: "Both (one channel)"}
STAGE_COLOURS = {
    "opening": "#c7d2fe",
    "discovery": "#a7f3d0",
    "presentation": "#bfdbfe",
    "objection_handling": "#fecaca",
    "closing": "#fde68a",
}
OTHER_STAGE_COLOURS = ("#e9d5ff", "#fbcfe8", "#ccfbf1", "#fed7aa", "#d9f99d", "#e5e7eb")
STATUS_WORDS = {GOOD: "On target", WARN: "Watch", BAD: "Off target", None: "No target"}
ANSWER_WORDS = {True: "answered", False: "not answered", None: "not judged"}
STATE_WORDS = {"answered": "answered", "unanswered": "not answered", "unjudged": "not judged"}

CSS = """
:root { --seller: #2563eb; --prospect: #0d9488; --mixed: #7c3aed; --good: #15803d; --warn: #b45309;
  --bad: #b91c1c; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --paper: #ffffff; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #f3f4f6; color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
.meta { color: var(--muted); margin: 0 0 4px; }
.note { background: #fff7ed; border-left: 4px solid var(--warn); padding: 8px 12px; margin: 12px 0; }
section { background: var(--paper); border-radius: 10px; padding: 16px 18px; margin: 16px 0;
  box-shadow: 0 1px 2px rgba(0,0,0,.06); break-inside: avoid; }
h2 { font-size: 18px; margin: 0 0 4px; }
.explain { color: var(--muted); margin: 0 0 10px; font-size: 14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px;
  background: none; box-shadow: none; padding: 0; }
.card { background: var(--paper); border-radius: 10px; padding: 12px 14px; border-top: 6px solid #9ca3af;
  box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.card.good { border-top-color: var(--good); } .card.warn { border-top-color: var(--warn); }
.card.bad { border-top-color: var(--bad); }
.card-label { color: var(--muted); font-size: 13px; }
.card-value { font-size: 26px; font-weight: 650; margin: 2px 0; }
.card-target { font-size: 13px; }
.card-status { font-size: 13px; font-weight: 600; margin-top: 4px; }
.card.good .card-status { color: var(--good); } .card.warn .card-status { color: var(--warn); }
.card.bad .card-status { color: var(--bad); } .card .card-status.none { color: var(--muted); }
svg.chart { width: 100%; height: auto; display: block; overflow: visible; }
svg text { font-family: inherit; font-size: 12px; fill: #374151; }
svg .axis line, svg .grid line { stroke: #d1d5db; stroke-width: 1; }
svg .lane { fill: #f9fafb; stroke: #e5e7eb; }
svg .span.seller { fill: var(--seller); } svg .span.prospect { fill: var(--prospect); }
svg .span.mixed { fill: var(--mixed); } svg .span.other { fill: #6b7280; }
svg .zone-good { fill: #dcfce7; } svg .zone-bad { fill: #fee2e2; }
svg .target { stroke: var(--good); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .target-label { fill: var(--good); font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg .talk-line { fill: none; stroke: var(--seller); stroke-width: 2.5; stroke-linejoin: round; }
svg .sentiment-trend { fill: none; stroke: #6b7280; stroke-width: 2; stroke-linejoin: round; }
svg .sentiment-dot { stroke: #fff; stroke-width: 1.5; }
svg .sentiment-dot.positive { fill: var(--good); } svg .sentiment-dot.neutral { fill: #9ca3af; }
svg .sentiment-dot.negative { fill: var(--bad); } svg .sentiment-dot.uncounted { fill-opacity: .35; }
svg .objection-marker line { stroke-width: 1.5; stroke-dasharray: 3 3; }
svg .objection-marker.answered circle { fill: var(--good); } svg .objection-marker.answered line { stroke: var(--good); }
svg .objection-marker.unanswered circle { fill: var(--bad); } svg .objection-marker.unanswered line { stroke: var(--bad); }
svg .objection-marker.unjudged circle { fill: #6b7280; } svg .objection-marker.unjudged line { stroke: #6b7280; }
svg .objection-marker text { fill: #fff; font-weight: 700; font-size: 11px; }
svg .stage-band { stroke: #fff; stroke-width: 1; }
svg .bar.answered { fill: var(--good); } svg .bar.unanswered { fill: var(--bad); } svg .bar.unjudged { fill: #9ca3af; }
svg .bar.questions { fill: var(--seller); } svg .point { fill: var(--seller); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 13px; color: var(--muted); margin: 6px 0 0; padding: 0; }
.legend li { list-style: none; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 5px; }
.empty { color: var(--muted); font-style: italic; margin: 4px 0; }
ol.objections { padding-left: 0; margin: 10px 0 0; }
ol.objections li { list-style: none; border-left: 5px solid #9ca3af; padding: 6px 12px; margin: 8px 0; background: #f9fafb; }
ol.objections li.answered { border-left-color: var(--good); } ol.objections li.unanswered { border-left-color: var(--bad); }
.num { display: inline-block; min-width: 22px; padding: 0 6px; border-radius: 11px; background: #6b7280; color: #fff;
  font-weight: 700; font-size: 12px; text-align: center; margin-right: 6px; }
li.answered .num { background: var(--good); } li.unanswered .num { background: var(--bad); }
.quote { font-style: italic; }
.verdict { font-weight: 600; } li.answered .verdict { color: var(--good); } li.unanswered .verdict { color: var(--bad); }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
td.time { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
.rating { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.rating.useful { background: #dcfce7; color: var(--good); } .rating.not-useful { background: #fee2e2; color: var(--bad); }
.rating.unrated { color: var(--muted); }
.who { font-weight: 600; white-space: nowrap; } tr.seller .who { color: var(--seller); }
tr.prospect .who { color: var(--prospect); } tr.mixed .who { color: var(--mixed); }
tr.objection td { background: #fef2f2; }
details summary { cursor: pointer; font-weight: 600; font-size: 18px; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
@media print { body { background: #fff; } section, .card { box-shadow: none; border: 1px solid var(--line); } }
"""


def render_html(report: dict) -> str:
    """One call's report as a complete HTML document."""
    session = report["session"]
    duration = _duration(report)
    axis = TimeAxis(duration)
    speech = report.get("speech") or [
        {"speaker": u["speaker"], "start": u["start"], "end": u["end"]} for u in report["utterances"]
    ]
    objections = report["objections"]
    parts = [
        "<header>",
        "<h1>Call report</h1>",
        f'<p class="meta">{_e(when_text(session["started_at"]))} · {_e(duration_text(duration))}'
        f' · profile {_e(session["profile"])} · session {_e(str(session["id"])[:8])}</p>',
    ]
    if session["status"] not in ("ended", None):
        parts.append(
            f'<p class="note">This call did not end cleanly (status: {_e(session["status"])}): '
            "the report shows what was logged until then.</p>"
        )
    parts.append("</header>")
    parts.append(_cards(report.get("key_numbers") or []))
    parts += [
        '<section id="timeline-section">',
        "<h2>How the call went</h2>",
        '<p class="explain">Read down: the stage the call was in, who was speaking, and each objection '
        "(numbered, green if you answered it, red if not).</p>",
        stage_timeline(report["stages"], axis),
        speaker_timeline(speech, objections, axis),
        _speaker_legend(speech),
        "</section>",
        '<section id="talk-ratio-section">',
        "<h2>Your share of the talk over the call</h2>",
    ]
    talk_chart = talk_ratio_chart(report.get("talk_over_time") or {}, report["talk"]["seller_share"], axis)
    if talk_chart.startswith("<svg"):
        parts.append(
            f'<p class="explain">Of all the talking in the last {_e(duration_text(_window(report)))}, how much was you. '
            f"Best near {TALK_SHARE_TARGET:.0%} (green band); over {TALK_SHARE_MAX:.0%} (red) the prospect is not "
            "talking enough.</p>"
        )
    parts += [
        talk_chart,
        "</section>",
        '<section id="sentiment-section">',
        "<h2>The prospect's mood</h2>",
    ]
    sentiment = report.get("sentiment")
    if sentiment:
        parts += [
            '<p class="explain">Each dot is one thing the prospect said, from negative (bottom) to positive (top); '
            "the grey line is the mood over their last few remarks.</p>",
            sentiment_chart(sentiment, axis),
        ]
    else:
        parts.append(
            '<p class="empty">Not measured on this call (the sentiment coach was off, '
            "or the prospect was not on a channel of their own).</p>"
        )
    parts.append("</section>")
    parts.append(_objection_list(objections))
    parts.append(_dynamics(report.get("dynamics") or {}))
    parts.append(_prompt_table(report["prompts"], report["usefulness"]))
    parts.append(_transcript(report["utterances"], objections))
    parts.append(_footer())
    return _page(f"Call report {str(session['id'])[:8]} – {when_text(session['started_at'])}", parts)


def _page(title: str, parts: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # Nothing on this page loads from anywhere: say so to the browser too.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
            f"<title>{_e(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            "<main>",
            *parts,
            "</main>",
            "</body>",
            "</html>",
        ]
    ) + "\n"


def _e(text) -> str:
    return escape("" if text is None else str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value == value else "0"


def _clock(seconds) -> str:
    seconds = int(seconds or 0)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _duration(report) -> float:
    ends = [report["session"]["duration"] or 0.0]
    ends += [s["end"] for s in report.get("speech") or []]
    ends += [u["end"] for u in report["utterances"]]
    return max(ends + [1.0])


def _window(report) -> float:
    return (report.get("talk_over_time") or {}).get("window_seconds") or 0


def _speaker_class(speaker) -> str:
    return speaker if speaker in (SELLER, PROSPECT, MIXED) else "other"


class TimeAxis:
    """Seconds of the call onto the shared horizontal axis of every timeline chart."""

    STEPS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)

    def __init__(self, duration: float):
        self.duration = max(duration, 1.0)

    def x(self, seconds: float) -> float:
        return LEFT + PLOT * min(max(seconds, 0.0), self.duration) / self.duration

    def ticks(self) -> list[float]:
        step = next((s for s in self.STEPS if self.duration / s <= 10), 7200)
        return [i * step for i in range(int(self.duration // step) + 1)]

    def svg(self, top: float, bottom: float, label_y: float) -> str:
        out = ['<g class="axis">']
        for tick in self.ticks():
            x = _n(self.x(tick))
            out.append(f'<line x1="{x}" y1="{_n(top)}" x2="{x}" y2="{_n(bottom)}"/>')
            out.append(f'<text x="{x}" y="{_n(label_y)}" text-anchor="middle">{_clock(tick)}</text>')
        out.append("</g>")
        return "".join(out)


def _svg(chart_id: str, height: float, title: str, description: str, body: list[str], kind: str) -> str:
    return (
        f'<svg id="{chart_id}" class="chart {kind}" viewBox="0 0 {WIDTH} {_n(height)}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{_e(title)}</title><desc id="{chart_id}-desc">{_e(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def speaker_timeline(speech: list[dict], objections: list[dict], axis: TimeAxis) -> str:
    """Two lanes (you, the prospect), one bar per stretch of speech, objections marked on top."""
    speakers = [s for s in (SELLER, PROSPECT, MIXED) if any(x["speaker"] == s for x in speech)]
    speakers += sorted({x["speaker"] for x in speech} - set(speakers))
    if not speakers:
        return '<p class="empty" id="speaker-timeline-empty">No speech was logged on this call.</p>'
    rows = _marker_rows(objections, axis)
    marker_top, lane_height, gap = 4, 30, 8
    lane_top = marker_top + MARKER_ROW * (max(rows, default=0) + 1) + 6
    bottom = lane_top + len(speakers) * (lane_height + gap)
    height = bottom + 20
    body = [axis.svg(lane_top - 4, bottom - gap + 4, bottom + 12)]
    totals = {}
    for index, speaker in enumerate(speakers):
        y = lane_top + index * (lane_height + gap)
        name = SPEAKER_NAMES.get(speaker, label_of(speaker))
        body.append(f'<rect class="lane" x="{LEFT}" y="{y}" width="{PLOT}" height="{lane_height}" rx="4"/>')
        body.append(f'<text x="{LEFT - 8}" y="{y + lane_height / 2 + 4}" text-anchor="end">{_e(name)}</text>')
        spans = [s for s in speech if s["speaker"] == speaker]
        totals[name] = sum(s["end"] - s["start"] for s in spans)
        body.append(f'<g class="spans" data-speaker="{_e(speaker)}">')
        for span in spans:
            x1, x2 = axis.x(span["start"]), axis.x(span["end"])
            body.append(
                f'<rect class="span {_speaker_class(speaker)}" x="{_n(x1)}" y="{y + 3}" width="{_n(max(x2 - x1, 0.6))}" '
                f'height="{lane_height - 6}"><title>{_e(name)} {_clock(span["start"])}–{_clock(span["end"])}</title></rect>'
            )
        body.append("</g>")
    for number, (objection, row) in enumerate(zip(objections, rows), start=1):
        body.append(_objection_marker(number, objection, axis, marker_top + row * MARKER_ROW, bottom - gap))
    description = "; ".join(f"{name} spoke {duration_text(seconds)}" for name, seconds in totals.items())
    if objections:
        description += f"; {len(objections)} objection{'s' if len(objections) != 1 else ''} marked"
    return _svg("speaker-timeline", height, "Who spoke when", description, body, "timeline")


MARKER_ROW = 24  # a marker's circle and the room around it
MARKER_ROWS = 3


def _marker_rows(objections: list[dict], axis: TimeAxis) -> list[int]:
    """The row each objection's marker sits in: objections close in time stack up instead of hiding each other."""
    last_x = [float("-inf")] * MARKER_ROWS
    rows = []
    for objection in objections:
        x = axis.x(objection["at"])
        row = next((r for r in range(MARKER_ROWS) if x - last_x[r] >= MARKER_ROW), None)
        if row is None:
            row = min(range(MARKER_ROWS), key=lambda r: last_x[r])
        last_x[row] = x
        rows.append(row)
    return rows


def _objection_marker(number: int, objection: dict, axis: TimeAxis, top: float, bottom: float) -> str:
    state = {True: "answered", False: "unanswered", None: "unjudged"}[objection["answered"]]
    x = _n(axis.x(objection["at"]))
    prompt = objection["prompt"] or "no prompt was shown"
    tip = (
        f"Objection {number} at {_clock(objection['at'])}, {objection['label']}: “{objection['said'] or ''}” "
        f"— prompt: {prompt} — {ANSWER_WORDS[objection['answered']]}"
    )
    return (
        f'<g class="objection-marker {state}" id="objection-marker-{number}" data-category="{_e(objection["category"])}">'
        f"<title>{_e(tip)}</title>"
        f'<line x1="{x}" y1="{top + 22}" x2="{x}" y2="{_n(bottom)}"/>'
        f'<circle cx="{x}" cy="{top + 11}" r="11"/>'
        f'<text x="{x}" y="{top + 15}" text-anchor="middle">{number}</text></g>'
    )


def _speaker_legend(speech) -> str:
    present = {s["speaker"] for s in speech}
    items = [
        f'<li><span class="swatch" style="background:var(--{speaker})"></span>{_e(SPEAKER_NAMES[speaker])}</li>'
        for speaker in (SELLER, PROSPECT, MIXED)
        if speaker in present
    ]
    items += [
        '<li><span class="swatch" style="background:var(--good)"></span>objection answered</li>',
        '<li><span class="swatch" style="background:var(--bad)"></span>objection not answered</li>',
    ]
    return f'<ul class="legend">{"".join(items)}</ul>'


def _stage_colour(name, seen: dict) -> str:
    if name in STAGE_COLOURS:
        return STAGE_COLOURS[name]
    if name not in seen:
        seen[name] = OTHER_STAGE_COLOURS[len(seen) % len(OTHER_STAGE_COLOURS)]
    return seen[name]


def stage_timeline(stages: list[dict], axis: TimeAxis) -> str:
    """One coloured band per stage, from when it began to when the next one did."""
    if not stages:
        return '<p class="empty" id="stage-timeline-empty">No call stages were detected (the stages coach was off or heard no cues).</p>'
    height, top, band = 40, 4, 30
    body = [f'<text x="{LEFT - 8}" y="{top + band / 2 + 4}" text-anchor="end">Stage</text>']
    others: dict = {}
    for stage in stages:
        x1, x2 = axis.x(stage["at"]), axis.x(stage.get("until", axis.duration))
        label = stage.get("label") or label_of(stage["stage"])
        width = max(x2 - x1, 1.0)
        body.append(
            f'<g class="stage" data-stage="{_e(stage["stage"])}">'
            f'<rect class="stage-band" x="{_n(x1)}" y="{top}" width="{_n(width)}" height="{band}" '
            f'fill="{_stage_colour(stage["stage"], others)}">'
            f"<title>{_e(label)} {_clock(stage['at'])}–{_clock(stage.get('until', axis.duration))}</title></rect>"
        )
        if width > 7.5 * len(label):
            body.append(f'<text x="{_n(x1 + 6)}" y="{top + band / 2 + 4}">{_e(label)}</text>')
        elif width > 16:
            body.append(f'<text x="{_n(x1 + 4)}" y="{top + band / 2 + 4}">{_e(label[:1])}</text>')
        body.append("</g>")
    names = " → ".join(s.get("label") or label_of(s["stage"]) for s in stages)
    return _svg("stage-timeline", height, "Call stages", f"The call went {names}", body, "timeline")


def talk_ratio_chart(talk_over_time: dict, whole_call: Optional[float], axis: TimeAxis) -> str:
    """Your share of the talk in a sliding window, against the target band."""
    points = talk_over_time.get("points") or []
    if not any(p["seller_share"] is not None for p in points):
        return (
            '<p class="empty" id="talk-ratio-empty">Not measured: the talk share needs you and the prospect '
            "on separate channels, both speaking.</p>"
        )
    top, plot_height = 8, 150
    height = top + plot_height + 24

    def y(share):
        return top + plot_height * (1 - share)

    good_low, good_high = TALK_SHARE_GOOD
    body = [
        _zone("zone-bad", y(1), y(TALK_SHARE_MAX)),
        _zone("zone-good", y(good_high), y(good_low)),
        '<g class="grid">',
    ]
    for share in (0, 0.25, 0.5, 0.75, 1):
        body.append(_rule(y(share)))
        body.append(f'<text x="{LEFT - 8}" y="{_n(y(share) + 4)}" text-anchor="end">{share:.0%}</text>')
    body.append("</g>")
    body.append(axis.svg(top + plot_height, top + plot_height + 4, top + plot_height + 18))
    body.append(
        _rule(y(TALK_SHARE_TARGET), "target")
    )
    body.append(
        f'<text class="target-label" x="{LEFT + PLOT - 4}" y="{_n(y(TALK_SHARE_TARGET) + 15)}" '
        f'text-anchor="end">target {TALK_SHARE_TARGET:.0%}</text>'
    )
    body.append(f'<path class="talk-line" d="{_path(points, "seller_share", axis.x, y)}"/>')
    description = "Your share of the talk over time"
    if whole_call is not None:
        description += f"; {whole_call:.0%} over the whole call against a target of about {TALK_SHARE_TARGET:.0%}"
    return _svg("talk-ratio-chart", height, "Your share of the talk over the call", description, body, "line-chart")


def _zone(css_class: str, top: float, bottom: float) -> str:
    """A band across the whole plot, between two heights."""
    return f'<rect class="{css_class}" x="{LEFT}" y="{_n(top)}" width="{PLOT}" height="{_n(bottom - top)}"/>'


def _rule(y: float, css_class: str = "") -> str:
    """A line across the whole plot at one height."""
    css = f' class="{css_class}"' if css_class else ""
    return f'<line{css} x1="{LEFT}" y1="{_n(y)}" x2="{LEFT + PLOT}" y2="{_n(y)}"/>'


def _path(points: list[dict], key: str, x: Callable, y: Callable) -> str:
    """An SVG path through the points, broken where a value is missing."""
    commands, pen_down = [], False
    for point in points:
        value = point.get(key)
        if value is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{_n(x(point['at']))} {_n(y(value))}")
        pen_down = True
    return " ".join(commands)


def sentiment_chart(sentiment: dict, axis: TimeAxis) -> str:
    """The prospect's mood, one dot per remark, with the running trend."""
    top, plot_height = 8, 130
    height = top + plot_height + 24

    def y(score):
        return top + plot_height * (1 - (max(-1.0, min(1.0, score)) + 1) / 2)

    body = [
        _zone("zone-good", y(1), y(SENTIMENT_POSITIVE)),
        _zone("zone-bad", y(SENTIMENT_NEGATIVE), y(-1)),
        '<g class="grid">',
    ]
    for score, label in ((1, "positive"), (0, "neutral"), (-1, "negative")):
        body.append(_rule(y(score)))
        body.append(f'<text x="{LEFT - 8}" y="{_n(y(score) + 4)}" text-anchor="end">{label}</text>')
    body.append("</g>")
    body.append(axis.svg(top + plot_height, top + plot_height + 4, top + plot_height + 18))
    points = sentiment["points"]
    trend = _path(points, "trend", axis.x, y)
    if trend:
        body.append(f'<path class="sentiment-trend" d="{trend}"/>')
    body.append('<g class="dots">')
    radius = 6 if len(points) <= 60 else 4
    for point in points:
        classes = f"sentiment-dot {_e(point['label'])}" + ("" if point.get("counted", True) else " uncounted")
        said = f": “{point['text']}”" if point.get("text") else ""
        body.append(
            f'<circle class="{classes}" cx="{_n(axis.x(point["at"]))}" cy="{_n(y(point["score"]))}" r="{radius}">'
            f"<title>{_clock(point['at'])} {_e(point['label'])} ({point['score']:+.2f}){_e(said)}</title></circle>"
        )
    body.append("</g>")
    average = sentiment.get("average")
    description = f"{len(points)} remarks scored" + ("" if average is None else f"; average {average:+.2f}")
    return _svg("sentiment-chart", height, "The prospect's mood over the call", description, body, "line-chart")


def _cards(numbers: list[dict]) -> str:
    if not numbers:
        return ""
    cards = []
    for n in numbers:
        status, target = n["status"], n.get("target")
        word = STATUS_WORDS[status] if n["value"] is not None else "Not measured"
        card = [
            f'<div class="card {status or "none"}" data-name="{_e(n["name"])}">',
            f'<div class="card-label">{_e(n["label"])}</div>',
            f'<div class="card-value">{_e(n["display"])}</div>',
        ]
        if n.get("note"):
            card.append(f'<div class="card-target">{_e(n["note"])}</div>')
        if target:
            card.append(f'<div class="card-target">Target: {_e(target)}</div>')
            card.append(f'<div class="card-status{"" if status else " none"}">{_e(word)}</div>')
        card.append("</div>")
        cards.append("".join(card))
    return f'<section class="cards" id="key-numbers" aria-label="Key numbers">{"".join(cards)}</section>'


def _objection_list(objections: list[dict]) -> str:
    parts = ['<section id="objections">', "<h2>Objections</h2>"]
    if not objections:
        parts += ['<p class="empty">No objections were raised.</p>', "</section>"]
        return "\n".join(parts)
    parts.append('<ol class="objections">')
    for number, o in enumerate(objections, start=1):
        state = {True: "answered", False: "unanswered", None: "unjudged"}[o["answered"]]
        if o["prompt"]:
            prompt = f'Prompt shown at {_clock(o["prompted_at"])}: {_e(o["prompt"])}'
            if o.get("latency") is not None:
                prompt += f" <small>({o['latency']:.1f} s after the words)</small>"
        else:
            prompt = "No prompt was shown (another prompt was on screen)."
        if o["answered"] is True:
            seconds = o.get("seconds_to_answer")
            verdict = "Answered" + (f" {seconds:.1f} s later" if seconds is not None else "")
            if o.get("answer"):
                verdict += f': <span class="quote">“{_e(o["answer"])}”</span>'
        elif o["answered"] is False:
            verdict = "Not answered: the prospect went on before you took it up."
        else:
            verdict = "Not judged (both voices on one channel)."
        parts.append(
            f'<li class="{state}" id="objection-{number}"><span class="num">{number}</span>'
            f'<strong>{_e(o["label"])}</strong> at {_clock(o["at"])}: '
            f'<span class="quote">“{_e(o["said"])}”</span><br>{prompt}<br>'
            f'<span class="verdict">{verdict}</span></li>'
        )
    parts += ["</ol>", "</section>"]
    return "\n".join(parts)


def _dynamics(dynamics: dict) -> str:
    if not dynamics:
        return ""
    items = []
    questions = dynamics.get("questions")
    if questions and questions.get("asked"):
        asked = "".join(f"<li>{_clock(q.get('at'))} {_e(q.get('text'))}</li>" for q in questions["asked"])
        items.append(
            f"<details><summary>Questions you asked ({len(questions['asked'])})</summary><ul>{asked}</ul></details>"
        )
    fillers = dynamics.get("fillers")
    if fillers and fillers.get("per_100_words") is not None:
        top = ", ".join(f"“{_e(word)}” {count}" for word, count in list(fillers.get("counts", {}).items())[:5])
        items.append(f"<p>Filler words: {fillers['per_100_words']:.1f} per 100 words{': ' + top if top else ''}.</p>")
    silences = dynamics.get("silences")
    if silences and silences.get("count") is not None:
        longest = silences.get("longest_seconds")
        items.append(
            f"<p>Long silences: {silences['count']:.0f}"
            + (f", the longest {longest:.0f} s" if silences["count"] and longest else "")
            + ".</p>"
        )
    if not items:
        return ""
    return '<section id="dynamics"><h2>How you talked</h2>' + "".join(items) + "</section>"


def _prompt_table(prompts: list[dict], usefulness: dict) -> str:
    parts = ['<section id="prompts">', f"<h2>Prompts you were shown ({len(prompts)})</h2>"]
    if not prompts:
        parts += ['<p class="empty">No prompts were shown on this call.</p>', "</section>"]
        return "\n".join(parts)
    parts.append(
        '<p class="explain">Press + or − during a call to rate the prompt on screen; your ratings tune what you see.</p>'
    )
    timed = any(p["latency"] is not None for p in prompts)
    speed_head = "<th>Speed</th>" if timed else ""
    parts.append(
        "<table><thead><tr><th>At</th><th>Coach</th><th>Prompt</th><th>Because they said</th>"
        f"{speed_head}<th>Your rating</th></tr></thead><tbody>"
    )
    for p in prompts:
        rating = {
            True: '<span class="rating useful">useful</span>',
            False: '<span class="rating not-useful">not useful</span>',
            None: '<span class="rating unrated">–</span>',
        }[p["useful"]]
        seconds = "" if p["latency"] is None else f"{p['latency']:.1f} s"
        speed = f'<td class="time">{seconds}</td>' if timed else ""
        parts.append(
            f'<tr class="prompt priority-{_e(p["priority"])}"><td class="time">{_clock(p["at"])}</td>'
            f'<td>{_e(p["plugin"])}</td><td>{_e(p["text"])}</td><td>{_e(p["because"])}</td>'
            f"{speed}<td>{rating}</td></tr>"
        )
    parts.append("</tbody></table>")
    rated = {plugin: u for plugin, u in sorted(usefulness.items()) if u["useful"] or u["not_useful"]}
    if rated:
        rows = "".join(
            f"<tr><td>{_e(plugin)}</td><td>{u['shown']}</td><td>{u['useful']}</td><td>{u['not_useful']}</td></tr>"
            for plugin, u in rated.items()
        )
        parts.append(
            '<h2 style="margin-top:14px">Your ratings, per coach</h2><table id="ratings"><thead><tr><th>Coach</th>'
            f"<th>Shown</th><th>Useful</th><th>Not useful</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _transcript(utterances: list[dict], objections: list[dict]) -> str:
    raised_at = {round(o["at"], 2) for o in objections}
    rows = []
    for u in utterances:
        speaker = u["speaker"]
        classes = _speaker_class(speaker) + (" objection" if round(u["start"], 2) in raised_at else "")
        rows.append(
            f'<tr class="{classes}"><td class="time">{_clock(u["start"])}</td>'
            f'<td class="who">{_e(SPEAKER_NAMES.get(speaker, speaker))}</td><td>{_e(u["text"])}</td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="3" class="empty">Nothing was transcribed.</td></tr>'
    return (
        '<section id="transcript-section"><details id="transcript">'
        f"<summary>Transcript ({len(utterances)} remarks)</summary>"
        f"<table><tbody>{body}</tbody></table></details></section>"
    )


def _footer(transcript: bool = True) -> str:
    privacy = (
        "This page holds the call's transcript: share it only with people the prospect would expect to see it. "
        if transcript
        else ""
    )
    return (
        f"<footer>Made by VoiceCoach {_e(__version__)} on your own computer from your call log; nothing was sent anywhere. "
        f"{privacy}"
        "Targets: talk share, questions and monologues from Gong Labs' studies of recorded sales calls; "
        "pace from Read.ai.</footer>"
    )


# -- many calls ---------------------------------------------------------------


def render_summary_html(summary: dict) -> str:
    """Many calls on one page: trends, objections, personal bests."""
    since = summary["period"]["since"]
    heading = "All your calls" if since is None else f"Your calls since {when_text(since)}"
    calls = summary["per_call"]
    parts = [
        "<header>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="meta">{summary["calls"]} call{"s" if summary["calls"] != 1 else ""}, '
        f'{_e(duration_text(summary["total_duration"]))} in all · up to {_e(when_text(summary["period"]["until"]))}</p>',
        "</header>",
    ]
    if not calls:
        parts.append('<section><p class="empty">No calls were logged in that time.</p></section>')
        parts.append(_footer(transcript=False))
        return _page(heading, parts)
    talk, questions = summary["trends"]["talk_share"], summary["trends"]["questions"]
    numbers = [
        {"name": "calls", "label": "Calls", "value": summary["calls"], "display": str(summary["calls"]),
         "note": f"{duration_text(summary['total_duration'])} on calls", "target": None, "status": None},
    ]
    if talk["average"] is not None:
        numbers.append(
            {"name": "talk_share", "label": "Your average share of the talk", "value": talk["average"],
             "display": f"{talk['average']:.0%}" + _arrow(talk["direction"]),
             "target": f"about {TALK_SHARE_TARGET:.0%}", "status": judge_talk_share(talk["average"])}
        )
    if questions["average"] is not None:
        low, high = QUESTIONS_RANGE
        average = questions["average"]
        numbers.append(
            {"name": "questions", "label": "Questions per call", "value": average,
             "display": f"{average:.1f}" + _arrow(questions["direction"]), "target": f"{low}-{high}",
             "status": GOOD if low <= average <= high else WARN if low - 3 <= average <= high + 3 else BAD}
        )
    judged = sum(o["answered"] + o["unanswered"] for o in summary["objections"])
    if judged:
        answered = sum(o["answered"] for o in summary["objections"])
        numbers.append(
            {"name": "objections_answered", "label": "Objections answered", "value": answered,
             "display": f"{answered / judged:.0%}", "target": "all of them",
             "status": GOOD if answered == judged else WARN if answered * 2 >= judged else BAD}
        )
    parts.append(_cards(numbers))
    parts += [
        '<section id="talk-trend-section"><h2>Your share of the talk, call by call</h2>',
        f'<p class="explain">Best near {TALK_SHARE_TARGET:.0%} (green band); over {TALK_SHARE_MAX:.0%} (red) is too much.</p>',
        per_call_chart(
            "talk-trend-chart", "Your share of the talk, call by call", calls, "seller_share",
            0.0, 1.0, lambda v: f"{v:.0%}", (TALK_SHARE_GOOD, TALK_SHARE_MAX, TALK_SHARE_TARGET),
        ),
        "</section>",
    ]
    if any(call["questions"] is not None for call in calls):
        most = max([QUESTIONS_RANGE[1] + 4] + [call["questions"] or 0 for call in calls])
        top = -(-most // 4) * 4  # four whole-number steps on the axis
        parts += [
            '<section id="questions-trend-section"><h2>Questions you asked, call by call</h2>',
            f'<p class="explain">{QUESTIONS_RANGE[0]}-{QUESTIONS_RANGE[1]} on a discovery call went with the best outcomes (green band).</p>',
            per_call_chart(
                "questions-trend-chart", "Questions asked, call by call", calls, "questions",
                0.0, float(top), lambda v: f"{v:.0f}", (QUESTIONS_RANGE, None, None), bars=True,
            ),
            "</section>",
        ]
    parts.append(_objection_stats(summary["objections"]))
    parts.append(_bests(summary["bests"]))
    parts.append(_call_table(calls))
    parts.append(_footer(transcript=False))
    return _page(heading, parts)


def _arrow(direction) -> str:
    return {"better": " ↗ better", "worse": " ↘ worse", "steady": " → steady"}.get(direction, "")


def value_scale(top: float, plot_height: float, low: float, high: float):
    """The y of a value on a chart from ``low`` (bottom) to ``high`` (top), clamped."""

    def y(value):
        return top + plot_height * (1 - (min(max(value, low), high) - low) / (high - low))

    return y


def banded_grid(y, low, high, fmt, good: tuple, worst) -> list[str]:
    """The green target band, the red band past ``worst`` (if any), and five labelled grid lines."""
    good_low, good_high = good
    body = []
    if worst is not None:
        body.append(_zone("zone-bad", y(high), y(worst)))
    body.append(_zone("zone-good", y(good_high), y(good_low)))
    body.append('<g class="grid">')
    for i in range(5):
        value = low + (high - low) * i / 4
        body.append(_rule(y(value)))
        body.append(f'<text x="{LEFT - 8}" y="{_n(y(value) + 4)}" text-anchor="end">{_e(fmt(value))}</text>')
    body.append("</g>")
    return body


def time_axis(labels: list[str], x, baseline: float) -> str:
    """Labels under the points, about ten of them and always the last."""
    every = max(1, len(labels) // 10)
    texts = [
        f'<text x="{_n(x(index))}" y="{baseline}" text-anchor="middle">{_e(label)}</text>'
        for index, label in enumerate(labels)
        if index % every == 0 or index == len(labels) - 1
    ]
    return "".join(['<g class="axis">', *texts, "</g>"])


def per_call_chart(chart_id, title, calls, key, low, high, fmt, bands, bars: bool = False) -> str:
    """One point (or bar) per call, oldest first, against the target band."""
    top, plot_height = 8, 150
    height = top + plot_height + 24
    count = len(calls)
    step = PLOT / count

    def x(index):
        return LEFT + step * (index + 0.5)

    y = value_scale(top, plot_height, low, high)
    good, worst, target = bands
    body = banded_grid(y, low, high, fmt, good, worst)
    if target is not None:
        body.append(_rule(y(target), "target"))
    body.append(time_axis([when_text(call["started_at"])[4:10] for call in calls], x, top + plot_height + 18))
    values = [{"at": index, key: call[key]} for index, call in enumerate(calls)]
    marks = []
    for index, call in enumerate(calls):
        value = call[key]
        if value is None:
            continue
        tip = f"{when_text(call['started_at'])} ({str(call['id'])[:8]}): {fmt(value)}"
        if bars:
            width = max(min(step * 0.6, 40), 2)
            marks.append(
                f'<rect class="bar questions" x="{_n(x(index) - width / 2)}" y="{_n(y(value))}" width="{_n(width)}" '
                f'height="{_n(y(low) - y(value))}"><title>{_e(tip)}</title></rect>'
            )
        else:
            marks.append(f'<circle class="point" cx="{_n(x(index))}" cy="{_n(y(value))}" r="5"><title>{_e(tip)}</title></circle>')
    if not bars:
        body.append(f'<path class="talk-line" d="{_path(values, key, x, y)}"/>')
    body.append('<g class="marks">' + "".join(marks) + "</g>")
    known = [call[key] for call in calls if call[key] is not None]
    description = f"{len(known)} of {count} calls measured" + (f"; latest {fmt(known[-1])}" if known else "")
    return _svg(chart_id, height, title, description, body, "line-chart" if not bars else "bar-chart")


def _objection_stats(objections: list[dict]) -> str:
    parts = ['<section id="objection-stats"><h2>Objections you met most</h2>']
    if not objections:
        parts.append('<p class="empty">No objections were raised on these calls.</p></section>')
        return "".join(parts)
    row, gap = 26, 8
    height = len(objections) * (row + gap) + 4
    most = max(o["raised"] for o in objections)
    scale = (PLOT - 150) / most
    body = []
    for index, o in enumerate(objections):
        y = 4 + index * (row + gap)
        unjudged = o["raised"] - o["answered"] - o["unanswered"]
        body.append(f'<g class="objection-row" data-category="{_e(o["category"])}">')
        body.append(f'<text x="{LEFT - 8}" y="{y + row / 2 + 4}" text-anchor="end">{_e(o["label"])}</text>')
        x = LEFT
        for part, count in (("answered", o["answered"]), ("unanswered", o["unanswered"]), ("unjudged", unjudged)):
            if count:
                body.append(
                    f'<rect class="bar {part}" x="{_n(x)}" y="{y}" width="{_n(count * scale)}" height="{row}">'
                    f"<title>{_e(o['label'])}: {count} {STATE_WORDS[part]}</title></rect>"
                )
                x += count * scale
        share = "" if o["answered_share"] is None else f", {o['answered_share']:.0%} answered"
        body.append(f'<text x="{_n(x + 8)}" y="{y + row / 2 + 4}">{o["raised"]} raised{share}</text></g>')
    title = "Objections by how often they came up"
    parts.append(_svg("objections-chart", height, title, f"{len(objections)} kinds of objection", body, "bar-chart"))
    parts.append(
        '<ul class="legend"><li><span class="swatch" style="background:var(--good)"></span>answered</li>'
        '<li><span class="swatch" style="background:var(--bad)"></span>not answered</li>'
        '<li><span class="swatch" style="background:#9ca3af"></span>not judged</li></ul></section>'
    )
    return "".join(parts)


def _bests(bests: list[dict]) -> str:
    if not bests:
        return ""
    cards = "".join(
        f'<div class="card good" data-name="{_e(b["name"])}"><div class="card-label">{_e(b["label"])}</div>'
        f'<div class="card-value">{_e(b["display"])}</div>'
        f'<div class="card-target">{_e(when_text(b["started_at"]))} · {_e(str(b["session_id"])[:8])}</div></div>'
        for b in bests
    )
    return f'<section id="bests"><h2>Personal bests</h2><div class="cards">{cards}</div></section>'


def _call_table(calls: list[dict]) -> str:
    rows = []
    for c in reversed(calls):
        judged = [o for o in c["objections"] if o["answered"] is not None]
        share = "–" if c["seller_share"] is None else f"{c['seller_share']:.0%}"
        status = "" if c["seller_share"] is None else judge_talk_share(c["seller_share"])
        asked = "–" if c["questions"] is None else f"{c['questions']:.0f}"
        answered = f"{c['answered']} of {len(judged)}" if judged else "–"
        rows.append(
            f'<tr><td class="time">{_e(when_text(c["started_at"]))}</td><td><code>{_e(str(c["id"])[:8])}</code></td>'
            f'<td class="time">{_e(duration_text(c["duration"]))}</td><td class="{status}">{share}</td>'
            f"<td>{asked}</td><td>{answered}</td></tr>"
        )
    return (
        '<section id="calls"><h2>Calls</h2><p class="explain">See one call: '
        "<code>voicecoach report --session ID --format html</code></p>"
        "<table><thead><tr><th>When</th><th>Session</th><th>Length</th><th>Talk share</th><th>Questions</th>"
        f"<th>Objections answered</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
