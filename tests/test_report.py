"""Reports from the log: one call (text, markdown, JSON, HTML) and many calls.

The HTML page is opened in headless Chromium (Debian's ``chromium``) to check that
its charts really drew: the browser's own layout of every chart, and the pixels
of a screenshot.
"""

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from voicecoach import open_log
from voicecoach.report import (
    BAD,
    GOOD,
    WARN,
    build_report,
    build_summary,
    judge_talk_share,
    parse_since,
    produce_report,
    render_json,
    render_markdown,
    render_report,
    render_summary,
    render_text,
)
from voicecoach.report_html import render_html, render_summary_html
from voicecoach.testing import run_conversation

EVERY_COACH = ["objections", "stages", "talk_ratio", "sentiment", "sqlite_log"]
# Untrusted words in a transcript: each would run, or break the page, if written raw.
HOSTILE = (
    "I do it in a spreadsheet </title></svg><script>document.title='pwned'</script>"
    "<img src=x onerror=\"document.title='pwned'\"> & \"quotes\""
)
CALL = [
    {"speaker": "seller", "text": "Hi Maria, thanks for taking the time today. How was your week?", "start": 0.0, "end": 3.6},
    {"speaker": "prospect", "text": "Pretty good, thanks. We had a lovely busy weekend.", "start": 4.2, "end": 6.9},
    {"speaker": "seller", "text": "Great. So how do you handle your bookkeeping today?", "start": 7.5, "end": 10.2},
    {"speaker": "prospect", "text": HOSTILE, "start": 10.9, "end": 14.0},
    {"speaker": "seller", "text": "Our software connects to your bank and sorts every payment for you.", "start": 14.8, "end": 18.9},
    {"speaker": "prospect", "text": "To be honest, that sounds too expensive for us right now.", "start": 19.6, "end": 22.6},
    {"speaker": "seller", "text": "I understand, cost matters. How much is your time worth each week?", "start": 23.3, "end": 27.0},
    {"speaker": "prospect", "text": "Let me think about it and get back to you.", "start": 27.7, "end": 30.0},
    # A new turn from the prospect, and the stall above goes unanswered.
    {"speaker": "prospect", "text": "Anyway, what are your support hours?", "start": 32.5, "end": 34.4},
    {"speaker": "seller", "text": "Support is open every day. Can we meet on Friday at ten?", "start": 35.0, "end": 38.4},
    {"speaker": "prospect", "text": "Yes, Friday at ten works for us. Thank you.", "start": 39.0, "end": 41.5},
]


@pytest.fixture(scope="module")
def logged_call(tmp_path_factory):
    db_path = str(tmp_path_factory.mktemp("log") / "log.db")
    summary = run_conversation(CALL, EVERY_COACH, db_path=db_path)
    report = build_report(open_log(db_path, create=False), summary.session_id)
    return db_path, summary.session_id, report


@pytest.fixture(scope="module")
def page(logged_call, tmp_path_factory):
    _, _, report = logged_call
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return str(path)


# -- the report dict ------------------------------------------------------------


def test_the_report_keeps_its_keys_and_gains_the_charts_data(logged_call):
    db_path, session_id, report = logged_call
    db = open_log(db_path, create=False)
    assert report["session"]["id"] == session_id
    assert {"latency", "utterances", "prompts", "usefulness", "talk", "stages"} <= set(report)
    assert len(report["utterances"]) == len(CALL)
    assert len(report["speech"]) == db["speech_activity"].count == len(CALL)

    price, stall = report["objections"]
    assert (price["category"], price["answered"], price["label"]) == ("price", True, "Price")
    assert price["said"].startswith("To be honest") and price["prompt"].startswith("Price:")
    assert price["at"] == 19.6 and price["seconds_to_answer"] == pytest.approx(0.7)
    assert (stall["category"], stall["answered"]) == ("stall", False)

    stages = report["stages"]
    assert stages and all(s["until"] >= s["at"] for s in stages)
    assert stages[-1]["until"] == pytest.approx(report["session"]["duration"])

    points = report["talk_over_time"]["points"]
    assert len(points) == 120 and all(p["seller_share"] is None or 0 <= p["seller_share"] <= 1 for p in points)
    assert report["sentiment"]["points"] and len(report["sentiment"]["points"]) == sum(
        1 for line in CALL if line["speaker"] == "prospect"
    )
    assert report["dynamics"]["questions"]["count"] >= 3
    names = [n["name"] for n in report["key_numbers"]]
    assert names[:2] == ["talk_share", "longest_monologue"]
    assert {"questions", "pace", "objections_answered", "sentiment"} <= set(names)
    answered = next(n for n in report["key_numbers"] if n["name"] == "objections_answered")
    assert (answered["display"], answered["status"]) == ("1 of 2", WARN)
    # Text mode measures no latency: no card claims one.
    assert "prompt_latency" not in names


@pytest.mark.parametrize(
    "share, status", [(0.43, GOOD), (0.31, GOOD), (0.55, GOOD), (0.25, WARN), (0.60, WARN), (0.66, BAD)]
)
def test_the_talk_share_is_judged_against_gongs_figures(share, status):
    assert judge_talk_share(share) == status


def test_text_markdown_and_json_still_render(logged_call):
    _, session_id, report = logged_call
    text = render_text(report, with_transcript=True)
    assert "talk ratio" in text and "Key numbers" in text and "not answered" in text and "p50" in text
    markdown = render_markdown(report)
    assert markdown.startswith(f"# Call report {session_id[:8]}") and "| Your share of the talk |" in markdown
    assert json.loads(render_json(report))["objections"][0]["category"] == "price"
    assert render_report(report, "json") == render_json(report)


def test_a_call_without_the_optional_coaches_still_reports(tmp_path):
    db_path = str(tmp_path / "log.db")
    summary = run_conversation(CALL[:6], ["objections", "sqlite_log"], db_path=db_path)
    report = build_report(open_log(db_path, create=False), summary.session_id)
    assert report["sentiment"] is None and report["dynamics"] == {} and report["stages"] == []
    assert {n["name"] for n in report["key_numbers"]} == {"talk_share", "longest_monologue", "objections_answered"}
    page = render_html(report)
    assert 'id="speaker-timeline"' in page and 'id="talk-ratio-chart"' in page
    assert 'id="sentiment-chart"' not in page and "Not measured on this call" in page
    assert 'id="stage-timeline"' not in page and "No call stages were detected" in page
    render_text(report), render_markdown(report)


def test_a_one_channel_call_has_one_lane_and_no_talk_share(tmp_path):
    db_path = str(tmp_path / "log.db")
    lines = [dict(line, speaker="mixed") for line in CALL[:4]]
    summary = run_conversation(lines, ["objections", "sqlite_log"], db_path=db_path)
    report = build_report(open_log(db_path, create=False), summary.session_id)
    page = render_html(report)
    assert page.count('class="lane"') == 1 and "Both (one channel)" in page
    assert 'id="talk-ratio-chart"' not in page and 'id="talk-ratio-empty"' in page


# -- the HTML page -------------------------------------------------------------


def test_the_html_is_one_self_contained_file_with_every_log_text_escaped(logged_call):
    _, _, report = logged_call
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # Nothing to fetch: no scripts, links, images, fonts or addresses.
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|https?://", page, re.IGNORECASE)
    assert "Content-Security-Policy" in page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "&lt;/title&gt;&lt;/svg&gt;" in page and "&amp; &quot;quotes&quot;" in page
    for chart in ("speaker-timeline", "stage-timeline", "talk-ratio-chart", "sentiment-chart"):
        assert re.search(rf'<svg id="{chart}" class="chart[^"]*"[^>]* role="img"', page)
        assert f'<title id="{chart}-title">' in page
    assert '<details id="transcript">' in page
    assert 40_000 > len(page.encode()) > 10_000


def test_the_summary_html_is_self_contained(tmp_path):
    summary = build_summary(open_log(str(tmp_path / "empty.db")))
    page = render_summary_html(summary)
    assert "No calls were logged" in page and "<script" not in page


# -- many calls -----------------------------------------------------------------

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def three_calls(tmp_path_factory):
    """Three calls 20, 5 and 1 days ago: the seller talks less and asks more each time."""
    db_path = str(tmp_path_factory.mktemp("many") / "log.db")
    monologue = {"speaker": "seller", "text": "Let me tell you all about our software and every feature in it. " * 3}
    calls = [
        (20, [CALL[0], monologue, monologue, CALL[5], CALL[7]]),  # the price objection goes unanswered
        (5, CALL[:8]),
        (1, CALL),
    ]
    ids = []
    for days, lines in calls:
        lines = [{k: v for k, v in line.items() if k not in ("start", "end")} for line in lines]
        ids.append(run_conversation(lines, EVERY_COACH, db_path=db_path).session_id)
        db = open_log(db_path)
        started = (NOW - timedelta(days=days)).isoformat(timespec="seconds")
        db["sessions"].update(ids[-1], {"started_at": started})
        db.close()
    return db_path, ids


def test_the_summary_counts_calls_trends_objections_and_bests(three_calls):
    db_path, ids = three_calls
    summary = build_summary(open_log(db_path, create=False), now=NOW)
    assert summary["calls"] == 3 and [c["id"] for c in summary["per_call"]] == ids
    shares = summary["trends"]["talk_share"]["values"]
    assert shares[0] > shares[1] > shares[2] and summary["trends"]["talk_share"]["direction"] == "better"
    assert summary["trends"]["questions"]["values"][-1] >= summary["trends"]["questions"]["values"][0]
    price = next(o for o in summary["objections"] if o["category"] == "price")
    assert price["raised"] == 3 and price["answered"] == 2 and price["answered_share"] == pytest.approx(2 / 3, abs=0.001)
    assert summary["objections"][0]["category"] == "price"
    bests = {b["name"]: b for b in summary["bests"]}
    assert bests["talk_share"]["session_id"] == ids[2]
    assert bests["questions"]["session_id"] in ids[1:]
    assert bests["fastest_answer"]["value"] == pytest.approx(0.6)  # untimed lines are 0.6 s apart
    assert summary["total_duration"] == pytest.approx(sum(c["duration"] for c in summary["per_call"]), abs=0.1)


def test_since_keeps_only_the_recent_calls(three_calls):
    db_path, ids = three_calls
    db = open_log(db_path, create=False)
    assert [c["id"] for c in build_summary(db, timedelta(days=7), now=NOW)["per_call"]] == ids[1:]
    assert [c["id"] for c in build_summary(db, parse_since("2d", NOW), now=NOW)["per_call"]] == ids[2:]
    assert build_summary(db, parse_since("2026-11-30", NOW), now=NOW)["calls"] == 0
    recent = produce_report(db, since="7d", output_format="json", now=NOW)
    assert json.loads(recent.text)["calls"] == 2
    assert json.loads(produce_report(db, all_calls=True, output_format="json", now=NOW).text)["calls"] == 3


def test_the_summary_renders_in_every_format(three_calls):
    db_path, _ = three_calls
    summary = build_summary(open_log(db_path, create=False), now=NOW)
    text = render_summary(summary, "text")
    assert text.startswith("All calls: 3 calls") and "Personal bests" in text and "Price" in text
    assert "| Price | 3 | 2 | 67% |" in render_summary(summary, "markdown")
    assert json.loads(render_summary(summary, "json"))["calls"] == 3
    page = render_summary(summary, "html")
    for chart in ("talk-trend-chart", "questions-trend-chart", "objections-chart"):
        assert f'<svg id="{chart}"' in page
    assert page.count('class="point"') == 3 and "<script" not in page


@pytest.mark.parametrize(
    "text, expected",
    [
        ("7d", NOW - timedelta(days=7)),
        ("24h", NOW - timedelta(hours=24)),
        ("2w", NOW - timedelta(weeks=2)),
        (" 3D ", NOW - timedelta(days=3)),
        ("2026-11-01T09:00:00+00:00", datetime(2026, 11, 1, 9, tzinfo=timezone.utc)),
    ],
)
def test_parse_since_reads_periods_and_dates(text, expected):
    assert parse_since(text, NOW) == expected


def test_a_date_alone_is_midnight_on_the_sellers_clock():
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1).astimezone()


@pytest.mark.parametrize("text", ["7x", "", "yesterday", "0d", "-3d", "2026-13-01"])
def test_a_bad_since_is_a_one_line_message(text):
    with pytest.raises(ValueError) as caught:
        parse_since(text, NOW)
    message = str(caught.value)
    assert "\n" not in message and "7d" in message


def test_report_options_that_conflict_are_refused(three_calls):
    db = open_log(three_calls[0], create=False)
    with pytest.raises(ValueError, match="not both"):
        produce_report(db, since="7d", all_calls=True)
    with pytest.raises(ValueError, match="one or the other"):
        produce_report(db, session_id="abc", all_calls=True)


def test_html_goes_to_a_file_named_for_the_call(logged_call, tmp_path, monkeypatch):
    db_path, session_id, _ = logged_call
    monkeypatch.chdir(tmp_path)
    db = open_log(db_path, create=False)
    result = produce_report(db, session_id=session_id, output_format="html")
    assert result.text is None and result.path == str(tmp_path / f"voicecoach-report-{session_id[:8]}.html")
    assert open(result.path, encoding="utf-8").read().startswith("<!DOCTYPE html>")
    assert produce_report(db, output_format="html", output="-").text.startswith("<!DOCTYPE html>")
    written = produce_report(db, output_format="markdown", output="call.md")
    assert written.path == str(tmp_path / "call.md") and "# Call report" in open(written.path).read()
    with pytest.raises(ValueError, match="cannot write"):
        produce_report(db, output_format="html", output=str(tmp_path / "missing" / "x.html"))


# -- in a real browser ------------------------------------------------------------


def chromium_binary():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: `make test` installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; `make test` installs it)")
    return found


WINDOW = (1100, 1700)


def chromium(page_path: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium on a local file, cut off from the network, as ENVIRONMENT.md says."""
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *args,
        f"file://{page_path}",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)


# Run in a copy of the page only: it measures, in the browser, what each chart drew.
MEASURE = """<script>
const found = {title: document.title, scripts: document.scripts.length, images: document.images.length, charts: {}};
for (const svg of document.querySelectorAll("svg.chart")) {
  const box = svg.getBoundingClientRect();
  const drawn = selector => [...svg.querySelectorAll(selector)].filter(e => {
    const b = e.getBBox(); return b.width > 0 && b.height > 0; }).length;
  found.charts[svg.id] = {
    x: box.x, y: box.y, width: box.width, height: box.height,
    title: svg.querySelector(":scope > title").textContent,
    spans: drawn("rect.span"), markers: drawn(".objection-marker"), bands: drawn("rect.stage-band"),
    dots: drawn("circle.sentiment-dot"), points: drawn("circle.point"), bars: drawn("rect.bar"),
    lines: [...svg.querySelectorAll("path.talk-line, path.sentiment-trend")].map(p => p.getTotalLength()),
  };
}
const out = document.createElement("pre");
out.id = "measured";
out.textContent = JSON.stringify(found);
document.body.appendChild(out);
</script>"""


def measure(page_path: str, tmp_path) -> dict:
    """Chromium's own layout of every chart on the page."""
    source = open(page_path, encoding="utf-8").read()
    # Without the page's Content-Security-Policy, so that escaping alone keeps hostile text inert.
    source = re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", source)
    head, _, tail = source.rpartition("</body>")
    copy = tmp_path / "measured.html"
    copy.write_text(head + MEASURE + "</body>" + tail, encoding="utf-8")
    dom = chromium(str(copy), tmp_path, "--dump-dom").stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def read_png(path: str) -> np.ndarray:
    """A screenshot's pixels (height x width x channels); Chromium writes 8-bit RGB(A) PNGs."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, compressed = 8, b""
    while position < len(data):
        (length,), kind = struct.unpack(">I", data[position : position + 4]), data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    raw = np.frombuffer(zlib.decompress(compressed), dtype=np.uint8).reshape(height, width * channels + 1)
    image = np.zeros((height, width * channels), dtype=np.uint8)
    above = np.zeros(width * channels, dtype=np.int32)
    for row in range(height):
        kind, line = raw[row, 0], raw[row, 1:].astype(np.int32)
        if kind == 0:
            out = line
        elif kind == 1:  # Sub: a running sum per channel
            out = np.cumsum(line.reshape(width, channels), axis=0).reshape(-1) & 255
        elif kind == 2:  # Up
            out = (line + above) & 255
        else:  # Average and Paeth need the pixel to the left: one byte at a time
            out = np.zeros_like(line)
            values, previous = line.tolist(), above.tolist()
            result = [0] * len(values)
            for i, value in enumerate(values):
                left = result[i - channels] if i >= channels else 0
                up = previous[i]
                if kind == 3:
                    result[i] = (value + (left + up) // 2) & 255
                else:
                    corner = previous[i - channels] if i >= channels else 0
                    estimate = left + up - corner
                    a, b, c = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                    predictor = left if a <= b and a <= c else up if b <= c else corner
                    result[i] = (value + predictor) & 255
            out = np.array(result, dtype=np.int32)
        image[row] = out
        above = out
    return image.reshape(height, width, channels)[:, :, :3]


def pixels_near(image: np.ndarray, box: dict, colour: str, tolerance: int = 40) -> int:
    """How many pixels in the chart's box are close to ``colour`` (#rrggbb)."""
    x, y = int(box["x"]), int(box["y"])
    area = image[y : y + int(box["height"]), x : x + int(box["width"])].astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(area - target).sum(axis=2) < tolerance).sum())


@pytest.fixture(scope="module")
def browser_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def measured(page, browser_tmp):
    return measure(page, browser_tmp)


def test_chromium_lays_out_every_chart_with_what_the_log_holds(measured, logged_call):
    _, _, report = logged_call
    charts = measured["charts"]
    assert set(charts) == {"stage-timeline", "speaker-timeline", "talk-ratio-chart", "sentiment-chart"}
    for name, chart in charts.items():
        assert chart["width"] > 800 and chart["height"] > 30 and chart["title"], name
    timeline = charts["speaker-timeline"]
    assert timeline["spans"] == len(report["speech"]) == len(CALL)
    assert timeline["markers"] == len(report["objections"]) == 2
    assert charts["stage-timeline"]["bands"] == len(report["stages"]) >= 2
    assert charts["talk-ratio-chart"]["lines"][0] > 300
    assert charts["sentiment-chart"]["dots"] == len(report["sentiment"]["points"])
    # Top to bottom in reading order: stages, speakers, talk share, mood.
    order = sorted(charts, key=lambda name: charts[name]["y"])
    assert order == ["stage-timeline", "speaker-timeline", "talk-ratio-chart", "sentiment-chart"]


def test_hostile_transcript_text_stays_text_in_the_browser(measured):
    assert not measured["title"].startswith("pwned") and measured["title"].startswith("Call report")
    assert measured["scripts"] == 1  # the measuring script, nothing from the transcript
    assert measured["images"] == 0


def test_the_screenshot_shows_the_charts_drawn(page, measured, browser_tmp):
    shot = browser_tmp / "report.png"
    chromium(page, browser_tmp, f"--screenshot={shot}")
    image = read_png(str(shot))
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])
    charts = measured["charts"]
    for name, chart in charts.items():
        assert chart["y"] + chart["height"] <= WINDOW[1], f"{name} is below the screenshot"
    timeline = charts["speaker-timeline"]
    assert pixels_near(image, timeline, "#2563eb") > 500  # the seller's bars
    assert pixels_near(image, timeline, "#0d9488") > 500  # the prospect's bars
    assert pixels_near(image, timeline, "#15803d") > 50  # the answered objection's marker
    assert pixels_near(image, timeline, "#b91c1c") > 50  # the unanswered one's
    assert pixels_near(image, charts["stage-timeline"], "#a7f3d0") + pixels_near(
        image, charts["stage-timeline"], "#fecaca"
    ) > 500
    assert pixels_near(image, charts["talk-ratio-chart"], "#2563eb") > 300  # the line
    assert pixels_near(image, charts["talk-ratio-chart"], "#dcfce7") > 2000  # the target band
    assert pixels_near(image, charts["sentiment-chart"], "#15803d") > 50  # positive remarks


def test_chromium_draws_the_summary_of_many_calls(three_calls, browser_tmp):
    db_path, _ = three_calls
    path = browser_tmp / "summary.html"
    path.write_text(render_summary_html(build_summary(open_log(db_path, create=False), now=NOW)), encoding="utf-8")
    charts = measure(str(path), browser_tmp)["charts"]
    assert charts["talk-trend-chart"]["points"] == 3 and charts["talk-trend-chart"]["lines"][0] > 100
    assert charts["questions-trend-chart"]["bars"] == 3
    assert charts["objections-chart"]["bars"] >= 2


def test_the_sellers_ratings_show_on_the_page(tmp_path):
    db_path = str(tmp_path / "log.db")
    summary = run_conversation(CALL[:8], ["objections", "sqlite_log"], db_path=db_path)
    db = open_log(db_path)
    prompts = list(db.query("select id, plugin from prompts order by rowid"))
    db["prompt_feedback"].insert_all(
        [
            {"session_id": summary.session_id, "prompt_id": prompts[0]["id"], "plugin": prompts[0]["plugin"], "useful": 1},
            {"session_id": summary.session_id, "prompt_id": prompts[1]["id"], "plugin": prompts[1]["plugin"], "useful": 0},
        ]
    )
    page = render_html(build_report(db, summary.session_id))
    assert page.count('<span class="rating useful">') == 1 and page.count('<span class="rating not-useful">') == 1
    assert '<table id="ratings">' in page


def test_the_summary_names_its_file_for_the_period(three_calls, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = open_log(three_calls[0], create=False)
    since = produce_report(db, since="2026-11-17", output_format="html", now=NOW)
    assert os.path.basename(since.path) == "voicecoach-summary-since-2026-11-17.html"
    every = produce_report(db, all_calls=True, output_format="html", now=NOW)
    assert os.path.basename(every.path) == "voicecoach-summary-all.html"
