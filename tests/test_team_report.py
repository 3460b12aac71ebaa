"""The team report, computed in PostgreSQL, against figures worked out by hand for a few calls."""

import json
import os
import shutil
import uuid

import pytest

from voicecoach.keys import CallControls
from voicecoach.log import open_log
from voicecoach.report import build_report
from voicecoach.sync import connect, sync
from voicecoach.team import build_team_report, produce_team_report, render_team
from voicecoach.testing import RatesPrompts, run_conversation

# Two kinds of call with exact timings, so every figure can be worked out by hand.
# A: seller talks 6 + 4 = 10 s, prospect 3 + 2 = 5 s: share 10/15 = 2/3. Two questions.
#    A price objection, answered.
CALL_A = [
    dict(speaker="seller", text="Good morning. How do you plan your deliveries today?", start=0, end=6),
    dict(speaker="prospect", text="On a whiteboard. Honestly it sounds too expensive for us.", start=7, end=10),
    dict(speaker="seller", text="I understand. What does a missed delivery cost you every week?", start=11, end=15),
    dict(speaker="prospect", text="Fair point, maybe a few hundred.", start=16, end=18),
]
# B: seller 4 s, prospect 4 + 2.5 = 6.5 s: share 4/10.5. One question.
#    A "needs to consult" objection the seller never takes up.
CALL_B = [
    dict(speaker="seller", text="Hello, shall we look at the plan together?", start=0, end=4),
    dict(speaker="prospect", text="I need to talk to my husband first.", start=5, end=9),
    dict(speaker="prospect", text="It is a family business after all.", start=12, end=14.5),
]
SHARE_A, SHARE_B = 10 / 15, 4 / 10.5

# Alice: week of 2 Nov: A, B; week of 9 Nov: A, A.  Bob: week of 9 Nov: B, B; week of 16 Nov: A.
CALLS = {
    "alice": [(CALL_A, "2026-11-03T09:00:00+00:00"), (CALL_B, "2026-11-05T15:00:00+00:00"),
              (CALL_A, "2026-11-10T10:00:00+00:00"), (CALL_A, "2026-11-13T11:00:00+00:00")],
    "Bob & Co": [(CALL_B, "2026-11-09T08:30:00+00:00"), (CALL_B, "2026-11-12T16:00:00+00:00"),
                 (CALL_A, "2026-11-17T09:00:00+00:00")],
}


@pytest.fixture(scope="module")
def team(postgres, tmp_path_factory):
    """Two sellers' laptops, each with its own log, synced to one team database."""
    owner = f"manager_{uuid.uuid4().hex[:6]}"
    url = postgres.create_database(owner=owner)
    password = postgres.passwords[owner]
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("PGPASSWORD", password)
    logs = {}
    for seller, calls in CALLS.items():
        db_path = str(tmp_path_factory.mktemp("laptop") / "log.db")
        for lines, started_at in calls:
            controls = CallControls()
            summary = run_conversation(
                lines, plugins=["objections", "talk_ratio", "sqlite_log"], db_path=db_path,
                # The seller presses + on price prompts and - on the rest.
                extra_plugins=[RatesPrompts(controls, useful=lambda prompt: prompt.kind == "objection.price")],
                controls=controls,
            )
            db = open_log(db_path)
            db["sessions"].update(summary.session_id, {"started_at": started_at})
            db.close()
        sync(open_log(db_path), url, seller)
        logs[seller] = db_path
    yield url, logs
    monkeypatch.undo()


@pytest.fixture
def report(team):
    url, _ = team
    with connect(url) as conn:
        return build_team_report(conn)


def seller(report, name):
    return next(s for s in report["sellers"] if s["seller"] == name)


def test_each_sellers_figures_match_the_hand_worked_ones(report):
    alice = seller(report, "alice")
    assert alice["calls"] == 4
    assert alice["duration"] == 3 * 18 + 14.5
    assert alice["talk_share"] == round((3 * SHARE_A + SHARE_B) / 4, 3) == 0.595
    assert alice["questions"] == round((2 + 1 + 2 + 2) / 4, 2) == 1.75
    assert alice["objections"] == {"raised": 4, "answered": 3, "unanswered": 1, "answered_share": 0.75}
    assert [(o["category"], o["raised"], o["answered"]) for o in alice["by_category"]] == [
        ("price", 3, 3), ("consult", 1, 0)
    ]
    assert alice["prompts"] == {"shown": 4, "useful": 3, "not_useful": 1}

    bob = seller(report, "Bob & Co")
    assert bob["calls"] == 3
    assert bob["talk_share"] == round((2 * SHARE_B + SHARE_A) / 3, 3) == 0.476
    assert bob["questions"] == round((1 + 1 + 2) / 3, 2) == 1.33
    assert bob["objections"] == {"raised": 3, "answered": 1, "unanswered": 2, "answered_share": 0.333}
    assert bob["prompts"] == {"shown": 3, "useful": 1, "not_useful": 2}


def test_week_by_week_and_the_trends(report):
    alice = seller(report, "alice")
    weeks = {w["week"]: w for w in alice["weeks"]}
    assert list(weeks) == ["2026-11-02", "2026-11-09"]  # ISO weeks start on Monday
    first, second = weeks["2026-11-02"], weeks["2026-11-09"]
    assert (first["calls"], first["talk_share"], first["questions"]) == (2, round((SHARE_A + SHARE_B) / 2, 3), 1.5)
    assert {o["category"]: (o["raised"], o["answered"]) for o in first["by_category"]} == {"price": (1, 1), "consult": (1, 0)}
    assert first["prompts"] == {"shown": 2, "useful": 1, "not_useful": 1}
    assert (second["calls"], second["talk_share"], second["questions"]) == (2, round(SHARE_A, 3), 2.0)
    assert second["objections"]["answered_share"] == 1.0
    # Talking more in the second week: further from the 43% target.
    assert alice["trends"]["talk_share"]["direction"] == "worse"
    assert alice["trends"]["talk_share"]["values"] == [first["talk_share"], second["talk_share"]]

    bob = seller(report, "Bob & Co")
    assert [(w["week"], w["calls"]) for w in bob["weeks"]] == [("2026-11-09", 2), ("2026-11-16", 1)]

    team = report["team"]
    assert [(w["week"], w["calls"]) for w in team["weeks"]] == [("2026-11-02", 2), ("2026-11-09", 4), ("2026-11-16", 1)]
    assert team["weeks"][1]["talk_share"] == round((2 * SHARE_A + 2 * SHARE_B) / 4, 3)


def test_the_teams_most_common_objections_and_totals(report):
    team = report["team"]
    assert (team["calls"], team["sellers"]) == (7, 2)
    assert team["talk_share"] == round((4 * SHARE_A + 3 * SHARE_B) / 7, 3) == 0.544
    assert team["questions"] == round(11 / 7, 2)
    assert [(o["category"], o["label"], o["raised"], o["answered"], o["answered_share"]) for o in team["by_category"]] == [
        ("price", "Price", 4, 4, 1.0),
        ("consult", "Needs to consult", 3, 0, 0.0),
    ]
    assert team["prompts"] == {"shown": 7, "useful": 4, "not_useful": 3}


def test_the_team_figures_agree_with_each_calls_own_report(team, report):
    """The SQL views read a call as the personal report does."""
    _, logs = team
    for name, db_path in logs.items():
        db = open_log(db_path)
        calls = [build_report(db, row["id"], timeline=False) for row in db.query("select id from sessions")]
        mine = seller(report, name)
        shares = [c["talk"]["seller_share"] for c in calls]
        assert mine["talk_share"] == pytest.approx(sum(shares) / len(shares), abs=0.001)
        raised = [o for c in calls for o in c["objections"]]
        assert mine["objections"]["raised"] == len(raised)
        assert mine["objections"]["answered"] == sum(1 for o in raised if o["answered"])
        useful = sum(u["useful"] for c in calls for u in c["usefulness"].values())
        assert mine["prompts"]["useful"] == useful


def test_since_keeps_the_later_calls_only(team):
    url, _ = team
    with connect(url) as conn:
        from datetime import datetime, timezone

        later = build_team_report(conn, since=datetime(2026, 11, 9, tzinfo=timezone.utc))
    assert later["team"]["calls"] == 5 and later["period"]["since"].startswith("2026-11-09")
    assert seller(later, "alice")["calls"] == 2


def test_every_format_renders(team, report, tmp_path):
    url, _ = team
    text = produce_team_report(url).text
    assert "2 sellers" in text and "Needs to consult" in text and "Bob & Co" in text
    assert "week of 9 Nov 2026" in text
    markdown = render_team(report, "markdown")
    assert "| alice | 4 | 60% (worse) |" in markdown and "## Most common objections" in markdown
    as_json = json.loads(produce_team_report(url, output_format="json").text)
    assert as_json["team"]["calls"] == 7
    page = produce_team_report(url, output_format="html", output=str(tmp_path / "team.html"))
    if os.environ.get("VOICECOACH_KEEP_TEAM_HTML"):
        shutil.copy(page.path, os.environ["VOICECOACH_KEEP_TEAM_HTML"])
    html = open(page.path, encoding="utf-8").read()
    assert html.startswith("<!DOCTYPE html>") and "default-src 'none'" in html
    assert 'id="talk-trend-chart"' in html and 'id="objections-chart"' in html and 'id="sellers"' in html
    assert "Bob &amp; Co" in html and "Bob & Co" not in html
    assert "src=" not in html and "http" not in html.replace('http-equiv', '')


def test_an_empty_team_database_says_how_to_fill_it(postgres, monkeypatch):
    owner = f"manager_{uuid.uuid4().hex[:6]}"
    url = postgres.create_database(owner=owner)
    monkeypatch.setenv("PGPASSWORD", postgres.passwords[owner])
    text = produce_team_report(url).text
    assert "0 calls" in text and "voicecoach sync --to URL --seller NAME" in text
    assert "No calls synced yet" in produce_team_report(url, output_format="html", output="-").text


def test_no_team_database_given_or_remembered_is_one_clear_line():
    with pytest.raises(ValueError, match="give --from postgresql://"):
        produce_team_report(None)
