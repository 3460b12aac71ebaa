"""The talk-ratio plugin: figures from known speaking times, and when it speaks up."""

import pytest

from voicecoach import MEDIUM, SpeechActivity
from voicecoach.testing import run_conversation
from voicecoach_talk_ratio import DEFAULTS, TalkRatioCoach


def line(speaker, start, end, text="words"):
    return {"speaker": speaker, "text": text, "start": start, "end": end}


def prompts(lines, settings=None, kind="talk_ratio", warnings=None):
    summary = run_conversation(lines, plugins={"talk_ratio": settings or {}}, warnings=warnings)
    return [prompt for prompt in summary.prompts if prompt.kind == kind]


def test_seller_share_prompt_uses_the_real_figures():
    (prompt,) = prompts([line("seller", 0, 50), line("prospect", 51, 61), line("seller", 62, 100)])
    # At 61 s the window holds 60 s of talk (the minimum): 50 seller, 10 prospect.
    assert prompt.at == pytest.approx(61)
    assert prompt.priority == MEDIUM and prompt.key is None
    assert prompt.data["seller_seconds"] == 50 and prompt.data["prospect_seconds"] == 10
    assert prompt.data["seller_share"] == pytest.approx(50 / 60, abs=1e-3)
    assert prompt.text == "You have done 83% of the talking so far: ask a question and listen"


def test_a_balanced_call_gets_no_prompt():
    turns = [line("seller" if turn % 2 == 0 else "prospect", turn * 16, turn * 16 + 15) for turn in range(20)]
    assert prompts(turns) == []


def test_too_little_talk_to_judge():
    assert prompts([line("seller", 0, 40), line("prospect", 41, 45)]) == []


def test_the_share_is_measured_over_the_recent_window():
    lines = [line("prospect", 0, 200), line("seller", 201, 260)]
    (prompt,) = prompts(lines, {"window_seconds": 60, "min_window_talk_seconds": 30})
    # First second the seller passes 65% of the last minute: 39 s against 20 s.
    assert prompt.at == pytest.approx(240)
    assert prompt.data["seller_seconds"] == 39 and prompt.data["prospect_seconds"] == 20
    assert prompt.text == "You have done 66% of the talking in the last minute: ask a question and listen"


def test_the_share_prompt_is_not_repeated_while_over_the_limit():
    lines = [line("seller", 0, 50), line("prospect", 51, 61), line("seller", 62, 300)]
    assert len(prompts(lines)) == 1


def test_a_long_monologue_is_prompted_while_it_lasts():
    lines = [line("seller", 0, 50), line("prospect", 50.3, 50.8, "mm-hm"), line("seller", 51, 120)]
    (prompt,) = prompts(lines, kind="talk_ratio.monologue")
    # A backchannel does not end a monologue; the prompt comes mid-speech.
    assert prompt.at == pytest.approx(91)
    assert prompt.text == "You have been talking for 91 seconds straight: pause and ask a question"


def test_the_prospect_taking_a_turn_ends_the_monologue():
    lines = [line("seller", 0, 50), line("prospect", 51, 55), line("seller", 56, 140)]
    assert prompts(lines, kind="talk_ratio.monologue") == []


def test_mixed_voices_are_not_counted():
    lines = [line("mixed", 0, 100), line("mixed", 101, 200)]
    assert prompts(lines) == [] and prompts(lines, kind="talk_ratio.monologue") == []


def feed(coach, spans):
    for speaker, start, end in spans:
        coach.speech_activity(session=None, activity=SpeechActivity(speaker, start))
        coach.speech_activity(session=None, activity=SpeechActivity(speaker, start, end))


def test_the_call_figures_at_the_end():
    coach = TalkRatioCoach(**{name: float(value) for name, value in DEFAULTS.items()})
    feed(coach, [("seller", 0, 50), ("prospect", 51, 61), ("mixed", 61, 66), ("seller", 62, 100)])
    observation = coach.session_ending(session=None, now=0.0)
    assert observation.kind == "talk_ratio"
    assert observation.value == pytest.approx(88 / 98, abs=1e-3)
    assert observation.data["talk_seconds"] == {"seller": 88.0, "prospect": 10.0, "mixed": 5.0}
    assert observation.data["longest_monologue_seconds"] == 50.0
    assert observation.data["longest_monologue_start"] == 0


def test_the_figures_agree_with_the_session_summary():
    lines = [line("seller", 0, 12.5), line("prospect", 13, 20.25), line("seller", 21, 30)]
    summary = run_conversation(lines, plugins={"talk_ratio": {}})
    coach = TalkRatioCoach(**{name: float(value) for name, value in DEFAULTS.items()})
    feed(coach, [(item["speaker"], item["start"], item["end"]) for item in lines])
    talk_seconds = coach.final_observation().data["talk_seconds"]
    assert talk_seconds["seller"] == pytest.approx(summary.talk_seconds["seller"])
    assert talk_seconds["prospect"] == pytest.approx(summary.talk_seconds["prospect"])


def test_nobody_spoke():
    coach = TalkRatioCoach(**{name: float(value) for name, value in DEFAULTS.items()})
    assert coach.final_observation().value is None


@pytest.mark.parametrize("settings, expected", [
    ({"max_seller_share": 65}, "max_seller_share must be a fraction below 1"),
    ({"window_seconds": "5 minutes"}, "window_seconds must be a positive number"),
    ({"max_talk": 1}, "plugins.talk_ratio.max_talk is not a setting"),
])
def test_bad_settings_are_reported(settings, expected):
    warnings = []
    prompts([line("seller", 0, 100)], settings, warnings=warnings)
    assert any(expected in warning for warning in warnings), warnings
