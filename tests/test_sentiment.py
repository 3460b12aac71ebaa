"""The sentiment plugin: VADER scores per prospect utterance, the trend, and the prompt."""

import socket

import pytest

from voicecoach import HIGH
from voicecoach.testing import CallRecorder, run_conversation
from voicecoach_sentiment import Scorer

WARM_UP = [
    ("seller", "How is the new shop going?"),
    ("prospect", "Pretty good, thanks, we had a busy weekend."),
    ("seller", "How do you do your books today?"),
    ("prospect", "I do them myself in a spreadsheet at night."),
]


def run(lines, settings=None, warnings=None):
    recorder = CallRecorder()
    summary = run_conversation(lines, plugins={"sentiment": settings or {}}, extra_plugins=[recorder],
                               warnings=warnings)
    return summary.prompts, recorder.observations


def scores(observations):
    return [item for item in observations if item.kind == "sentiment"]


def test_a_turn_to_negative_is_prompted_with_the_words_that_turned_it():
    lines = WARM_UP + [
        ("seller", "Our plan is forty nine dollars a month."),
        ("prospect", "Honestly, this is a waste of our time and I'm not happy with it."),
    ]
    (prompt,), observations = run(lines)
    assert prompt.kind == "sentiment.negative" and prompt.priority == HIGH
    assert prompt.text == 'The prospect turned negative ("waste", "not happy"): acknowledge it, then ask what\'s behind it'
    assert prompt.trigger.text.startswith("Honestly, this is a waste")
    assert prompt.key == str(prompt.trigger.id)
    assert prompt.data["words"] == ["waste", "not happy"]
    # Strongly negative on its own, though the warm start keeps the mean above zero.
    assert prompt.data["compound"] <= -0.5 and prompt.data["trend"] > 0
    assert prompt.detail[0].startswith("Mood over their last 3 remarks: ")


@pytest.mark.parametrize("text", [
    "That's not bad at all.",
    "No problem, we can do Friday.",
    "I have no complaints about the current tool.",
    "It's not that expensive, to be fair.",
    "To be honest, I think it could work for us.",
])
def test_neutral_and_positive_hard_cases_do_not_prompt(text):
    prompts, observations = run(WARM_UP + [("prospect", text)])
    assert prompts == []
    assert scores(observations)[-1].data["label"] in ("neutral", "positive")


def test_each_prospect_utterance_is_scored_with_the_trend():
    _, observations = run(WARM_UP + [("seller", "That sounds awful."), ("prospect", "It's terrible, honestly.")])
    logged = scores(observations)
    # The seller's words are not scored.
    assert [item.data["label"] for item in logged] == ["positive", "neutral", "negative"]
    first, second, third = logged
    assert first.value == pytest.approx(Scorer().compound("Pretty good, thanks, we had a busy weekend."), abs=1e-3)
    assert first.data["words"] == ["pretty", "good", "thanks"]
    assert third.data["words"] == ["terrible"]
    assert third.data["trend"] == pytest.approx((first.value + second.value + third.value) / 3, abs=1e-3)
    assert third.data["utterance_id"] and third.at is not None


def test_a_call_that_starts_negative_has_no_turn_to_prompt():
    lines = [("prospect", "I'm annoyed, your last email was a mess."), ("seller", "I'm sorry about that.")]
    prompts, observations = run(lines)
    assert prompts == [] and scores(observations)[0].data["label"] == "negative"


def test_short_answers_are_logged_but_do_not_move_the_trend():
    prompts, observations = run(WARM_UP + [("prospect", "No."), ("prospect", "Not really.")])
    assert prompts == []
    short = scores(observations)[-2:]
    assert [item.data["counted"] for item in short] == [False, False]
    assert all(item.data["trend"] is None for item in short)


def timed(speaker, start, text):
    return {"speaker": speaker, "text": text, "start": start, "end": start + 3}


def test_a_drift_to_negative_is_prompted():
    lines = WARM_UP + [
        ("prospect", "I am a bit worried about the setup."),
        ("prospect", "And that is a problem for us, to be honest."),
    ]
    (prompt,), observations = run(lines)
    assert prompt.trigger.text.startswith("And that is a problem")
    # No single remark is strongly negative: the mean of the last three turned.
    assert all(item.value > -0.5 for item in scores(observations))
    assert prompt.data["trend"] <= -0.05 and prompt.data["words"] == ["problem"]


def test_the_prompt_rearms_when_the_mood_recovers_and_is_rate_limited():
    good, bad = "This looks really great, I love it.", "This is terrible, I hate the whole thing."
    lines = [timed("prospect", 0, good), timed("prospect", 10, good), timed("prospect", 20, bad),
             timed("prospect", 30, bad),                                   # still negative: no second prompt
             timed("prospect", 40, good), timed("prospect", 50, good),     # recovered: re-armed
             timed("prospect", 60, good), timed("prospect", 70, bad),      # < 120 s after the first: held back
             timed("prospect", 80, bad), timed("prospect", 90, good), timed("prospect", 100, good),
             timed("prospect", 110, good), timed("prospect", 150, bad), timed("prospect", 160, bad)]
    prompts, _ = run(lines)
    assert [prompt.at for prompt in prompts] == [23, 153]


def test_the_call_summary():
    _, observations = run(WARM_UP + [("prospect", "That is terrible news, honestly.")])
    (summary,) = [item for item in observations if item.kind == "sentiment_summary"]
    assert summary.data["utterances"] == summary.data["counted"] == 3
    assert summary.data["labels"] == {"negative": 1, "neutral": 1, "positive": 1}
    assert summary.data["lowest"]["compound"] < -0.05
    assert summary.data["thresholds"] == [-0.05, 0.05]


def test_the_profile_can_add_words_to_the_lexicon():
    lines = WARM_UP + [("prospect", "We will probably go with the competitor instead.")]
    assert scores(run(lines)[1])[-1].value == 0
    changed = scores(run(lines, {"lexicon": {"competitor": -2.0}})[1])[-1]
    assert changed.value < -0.05 and changed.data["words"] == ["competitor"]


def test_scoring_needs_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert Scorer().compound("This is a waste of time") < -0.05


@pytest.mark.parametrize("settings, expected", [
    ({"negative": -5}, "negative must be a compound score between -1 and 1"),
    ({"negative": 0.5}, "negative must be below"),
    ({"window_utterances": 0}, "window_utterances must be a whole number"),
    ({"strong_negative": 0.2}, "strong_negative must be a compound score from -1 up to negative"),
    ({"lexicon": {"pricey": -9}}, "lexicon must map words to scores from -4 to 4"),
    ({"threshold": 1}, "plugins.sentiment.threshold is not a setting"),
])
def test_bad_settings_are_reported(settings, expected):
    warnings = []
    run(WARM_UP, settings, warnings=warnings)
    assert any(expected in warning for warning in warnings), warnings
