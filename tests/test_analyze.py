"""`voicecoach analyze` over a folder of synthesized calls: a local pool, then a real Dask cluster."""

import json
import os
import uuid

import pytest
from click.testing import CliRunner

from postgres_server import PostgresServer
from voicecoach import PROSPECT, SELLER
from voicecoach.analyze import analyze_command, find_calls
from voicecoach.log import open_log
from voicecoach.synth import ScriptLine, synthesize_call

pytestmark = pytest.mark.slow

CALLS = {
    "inventory": [
        ScriptLine(SELLER, "How do you count your stock today?", pause_before=0.3),
        ScriptLine(PROSPECT, "By hand. Honestly, it sounds too expensive for us.", pause_before=0.5),
        ScriptLine(SELLER, "I understand. What does a lost afternoon cost you?", pause_before=0.5),
    ],
    "bakery": [
        ScriptLine(SELLER, "Good morning, how many loaves do you bake each day?", pause_before=0.3),
        ScriptLine(PROSPECT, "About two hundred, but I need to talk to my husband first.", pause_before=0.5),
    ],
    "garage": [
        ScriptLine(SELLER, "Which repairs take most of your time?", pause_before=0.3),
        ScriptLine(PROSPECT, "Brakes and tyres, mostly in the winter months.", pause_before=0.5),
    ],
}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Three calls as a WAV, a FLAC and a seller/prospect pair, and one damaged file."""
    folder = tmp_path_factory.mktemp("archive")
    (folder / "2026-11").mkdir()
    synthesize_call(CALLS["inventory"]).write_stereo(str(folder / "inventory.wav"))
    synthesize_call(CALLS["bakery"]).write_stereo(str(folder / "2026-11" / "bakery.flac"))
    synthesize_call(CALLS["garage"]).write_mono_pair(
        str(folder / "garage.seller.wav"), str(folder / "garage.prospect.wav")
    )
    (folder / "damaged.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + os.urandom(2000))
    (folder / "notes.txt").write_text("not a recording")
    return folder


def test_calls_are_found_in_folders_and_pairs_by_their_names(archive):
    jobs, problems = find_calls([str(archive)])
    names = {os.path.relpath(job.name, archive): job for job in jobs}
    assert set(names) == {"inventory.wav", os.path.join("2026-11", "bakery.flac"), "garage", "damaged.wav"}
    assert names["garage"].seller.endswith("garage.seller.wav") and names["garage"].prospect.endswith("garage.prospect.wav")
    assert problems == []
    lone = archive / "lonely.seller.wav"
    lone.write_bytes((archive / "garage.seller.wav").read_bytes())
    try:
        _, problems = find_calls([str(archive), str(archive / "missing.wav")])
    finally:
        lone.unlink()
    assert any("without its lonely.prospect" in why for _, why in problems)
    assert any(path.endswith("missing.wav") and "no such file" in why for path, why in problems)


def _sessions(db_path):
    return list(open_log(db_path).query("select id, source, source_sha256, status from sessions order by source"))


def test_a_local_pool_logs_each_call_once_and_a_second_run_skips_them(archive, tmp_path):
    db_path = str(tmp_path / "log.db")
    runner = CliRunner()
    first = runner.invoke(analyze_command, [str(archive), "--workers", "2", "--db", db_path, "--json"])
    # The damaged file is reported and makes the exit status 1; every good call is logged.
    assert first.exit_code == 1, first.output
    progress = [line for line in first.output.splitlines() if line.startswith("voicecoach: [")]
    assert len(progress) == 4 and any("left" in line for line in progress)
    summary = json.loads(first.stdout)
    assert [f["call"] for f in summary["failed"]] == [str(archive / "damaged.wav")]
    assert "decode" in summary["failed"][0]["error"] or "audio" in summary["failed"][0]["error"]
    assert len(summary["analysed"]) == 3 and summary["workers"] == 2
    # Each worker process loaded the model once, however many calls it took.
    loads = {}
    for call in summary["analysed"]:
        loads[call["worker"]] = max(loads.get(call["worker"], 0), call["model_loads"])
    assert set(loads.values()) == {1}
    assert summary["calls_per_minute"] > 0 and summary["audio_hours_per_hour"] > 0

    sessions = _sessions(db_path)
    assert len(sessions) == 3 and len({s["source_sha256"] for s in sessions}) == 3
    assert all(s["status"] == "ended" for s in sessions)
    assert any("garage.seller.wav" in s["source"] and "garage.prospect.wav" in s["source"] for s in sessions)
    assert not any("voicecoach-analyze-" in s["source"] for s in sessions)
    db = open_log(db_path)
    said = " ".join(row["text"].lower() for row in db.query("select text from utterances"))
    assert "expensive" in said and "husband" in said
    categories = {row["value"] for row in db.query("select value from observations where kind = 'objection'")}
    assert {"price", "consult"} <= categories

    second = runner.invoke(analyze_command, [str(archive), "--workers", "2", "--db", db_path])
    assert "Skipped 3 already analysed" in second.output and "No new calls analysed" in second.output
    assert "damaged.wav" in second.output
    assert len(_sessions(db_path)) == 3


def test_a_dask_cluster_runs_the_same_calls_straight_into_postgresql(archive, tmp_path, monkeypatch):
    from distributed import LocalCluster

    server = PostgresServer().start()
    try:
        owner = f"archive_{uuid.uuid4().hex[:6]}"
        url = server.create_database(owner=owner)
        monkeypatch.setenv("PGPASSWORD", server.passwords[owner])
        good = [str(archive / "inventory.wav"), str(archive / "2026-11"), str(archive / "garage.seller.wav"),
                str(archive / "garage.prospect.wav")]
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            runner = CliRunner()
            result = runner.invoke(
                analyze_command,
                [*good, "--cluster", cluster.scheduler_address, "--to", url, "--seller", "archive", "--json"],
            )
            assert result.exit_code == 0, result.output
            summary = json.loads(result.stdout)
            assert len(summary["analysed"]) == 3 and "Dask cluster" in summary["where"]
            # One worker process took every call and loaded the model once.
            assert len({call["worker"] for call in summary["analysed"]}) == 1
            assert {call["model_loads"] for call in summary["analysed"]} == {1}
            again = runner.invoke(
                analyze_command, [*good, "--cluster", cluster.scheduler_address, "--to", url, "--seller", "archive"]
            )
            assert "Skipped 3 already analysed" in again.output, again.output
        with server.admin(url.rsplit("/", 1)[1]) as conn:
            rows = conn.execute("select seller, source, source_sha256 from voicecoach.sessions").fetchall()
            utterances = conn.execute("select count(*) from voicecoach.utterances").fetchone()[0]
        assert len(rows) == 3 and {r[0] for r in rows} == {"archive"} and len({r[2] for r in rows}) == 3
        assert utterances >= 6
        assert not (tmp_path / "log.db").exists()
    finally:
        server.stop()
