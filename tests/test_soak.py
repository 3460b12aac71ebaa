"""The soak in its shortened form: four minutes of call instead of two hours.

The full soak is ``python benchmarks/soak.py`` (two hours of call, 10 % latency and
50 MB limits). Four minutes are too short for those limits to separate a leak from
the model's memory coming and going, so this run is judged more loosely; the
judging itself is tested on made-up figures below, at the real limits.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import soak  # noqa: E402
from soak import Probe, Sample, judge  # noqa: E402

BOUNDS = {"audio": 256, "segments": 64, "events": 0}


@pytest.mark.slow
def test_a_four_minute_soak_keeps_memory_queues_and_latency_flat(transcriber):
    result = soak.soak(4, transcriber=transcriber, memory_limit_mb=80, latency_tolerance=1.0, log=lambda *_: None)
    print(result.report())
    criteria = {criterion.name: criterion for criterion in result.criteria}
    assert result.minutes >= 4 and result.utterances >= 60, result.report()
    assert result.prompts > 0, result.report()
    assert criteria["queues"].passed, result.report()
    assert criteria["memory"].passed, result.report()
    assert criteria["latency"].passed, result.report()


def probe_with(rss=lambda at: 300.0, events=lambda at: 0, work=lambda at: 0.4, minutes=120):
    probe = Probe(controls=None)
    for step in range(int(minutes * 6)):
        at = step * 10.0
        probe.samples.append(Sample(at, at / 8, rss(at), {"audio": 256, "segments": 64, "events": events(at)}))
        probe.utterances.append((at, work(at), 20.0))
    return probe


def verdicts(probe, minutes=120):
    criteria, _notes = judge(probe, BOUNDS, minutes, soak.MEMORY_LIMIT_MB, soak.LATENCY_TOLERANCE)
    return {criterion.name: criterion.passed for criterion in criteria}


def test_a_flat_run_passes():
    assert verdicts(probe_with()) == {"memory": True, "queues": True, "latency": True}


def test_warm_up_growth_is_forgiven_but_later_growth_is_not():
    assert verdicts(probe_with(rss=lambda at: 200 + min(at, 300) / 2))["memory"]  # +150 MB, all in the warm-up
    assert not verdicts(probe_with(rss=lambda at: 300 + at / 120))["memory"]  # one MB every two minutes


def test_a_growing_event_queue_fails():
    assert not verdicts(probe_with(events=lambda at: int(at / 60)))["queues"]


def test_a_coach_slower_at_the_end_than_at_the_start_fails():
    assert verdicts(probe_with(work=lambda at: 0.40 + at / 7200 * 0.02))["latency"]  # +5 %
    assert not verdicts(probe_with(work=lambda at: 0.40 + at / 7200 * 0.1))["latency"]  # +25 %
