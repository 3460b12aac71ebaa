"""The stages plugin: where the call is, and the gaps worth a prompt."""

import pytest

from voicecoach import HIGH, hookimpl
from voicecoach.testing import run_conversation
from voicecoach_stages.cues import compile_cue, find_cue, words_of
from voicecoach_stages.definitions import load_stage_book
from voicecoach_stages.questions import questions_in


class Observations:
    def __init__(self):
        self.seen = []

    @hookimpl
    def observed(self, session, observation):
        self.seen.append(observation)

    def stages(self):
        return [(o.value, o.data["from"]) for o in self.seen if o.kind == "stage"]


SCRIPTED_CALL = [
    ("seller", "Hi Maria, thanks for taking the time today. How was your week?"),
    ("prospect", "Pretty good, thanks. We had a busy weekend."),
    ("seller", "Great. So how do you handle your bookkeeping today?"),
    ("prospect", "I do it myself in a spreadsheet, usually at night."),
    ("seller", "What is the hardest part of it for you?"),
    ("prospect", "Sorting all the receipts."),
    ("seller", "That makes sense. Our software connects to your bank and sorts every payment."),
    ("prospect", "That sounds useful. How much does it cost?"),
    ("seller", "It is forty nine dollars a month, and that includes support."),
    ("prospect", "To be honest, that sounds too expensive for us right now."),
    ("seller", "I understand. Saving five hours a week pays for it in the first month."),
    ("prospect", "Okay, that is fair."),
    ("seller", "So shall we get you started with a free trial? What is the next step on your side?"),
    ("prospect", "Yes, let's schedule a call on Friday."),
]


def run(lines, settings=None, warnings=None):
    recorder = Observations()
    summary = run_conversation(lines, plugins={"stages": settings or {}}, extra_plugins=[recorder], warnings=warnings)
    return summary, recorder


def test_a_scripted_call_goes_through_the_stages_in_order():
    summary, recorder = run(SCRIPTED_CALL)
    assert recorder.stages() == [
        ("opening", None),
        ("discovery", "opening"),
        ("presentation", "discovery"),
        ("objection_handling", "presentation"),
        ("closing", "objection_handling"),
    ]
    stage_prompts = [prompt for prompt in summary.prompts if prompt.kind == "stage"]
    assert [prompt.key for prompt in stage_prompts] == ["discovery", "presentation", "objection_handling", "closing"]
    assert all(prompt.priority in ("low", "medium") for prompt in stage_prompts)
    assert "next step" in stage_prompts[-1].text
    # A well-run call: no gap prompts.
    assert [prompt.kind for prompt in summary.prompts if prompt.kind != "stage"] == []


def test_an_answer_to_an_objection_can_return_to_presentation():
    _, recorder = run(
        [
            ("seller", "What do you use for this today?"),
            ("seller", "Let me show you how it works."),
            ("prospect", "Hmm, I don't think it would work for us."),
            ("seller", "Fair. Here is how our product handles exactly that."),
        ]
    )
    assert [stage for stage, _ in recorder.stages()] == [
        "opening", "discovery", "presentation", "objection_handling", "presentation",
    ]


def test_a_denied_objection_is_not_objection_handling():
    _, recorder = run(
        [("seller", "Tell me about your business."), ("seller", "Our platform does the books."),
         ("prospect", "It's not too expensive, that's fine.")]
    )
    assert "objection_handling" not in [stage for stage, _ in recorder.stages()]


def test_pitching_before_any_discovery_question_is_prompted():
    summary, _ = run(
        [
            ("seller", "Hi, thanks for joining. How are you?"),  # small talk is not discovery
            ("prospect", "Fine, thanks."),
            ("seller", "Great. Let me show you our platform, it connects to your bank."),
        ]
    )
    gaps = [prompt for prompt in summary.prompts if prompt.kind == "stage.pitch_before_discovery"]
    assert len(gaps) == 1 and gaps[0].priority == HIGH


def test_no_pitch_prompt_after_a_discovery_question():
    summary, _ = run(
        [
            ("seller", "so what made you take this call"),  # unpunctuated, as the recogniser may write it
            ("prospect", "Our books are a mess."),
            ("seller", "Let me show you our platform."),
        ]
    )
    assert "stage.pitch_before_discovery" not in [prompt.kind for prompt in summary.prompts]


def test_a_presentation_past_its_limit_is_prompted():
    lines = [
        {"speaker": "seller", "text": "What is your biggest challenge?", "start": 0, "end": 3},
        {"speaker": "prospect", "text": "Receipts.", "start": 4, "end": 5},
        {"speaker": "seller", "text": "Let me show you how it works.", "start": 10, "end": 12},
        {"speaker": "seller", "text": "And here it files the receipt.", "start": 100, "end": 103},
        {"speaker": "seller", "text": "And the tax report is one click.", "start": 200, "end": 203},
    ]
    summary, _ = run(lines, {"max_presentation_seconds": 120})
    long = [prompt for prompt in summary.prompts if prompt.kind == "stage.long_presentation"]
    assert len(long) == 1
    assert long[0].at == pytest.approx(130, abs=1.0)
    assert "2 minutes" in long[0].text


def test_the_default_presentation_limit_is_nine_minutes():
    lines = [
        {"speaker": "seller", "text": "What is your biggest challenge?", "start": 0, "end": 3},
        {"speaker": "seller", "text": "Let me show you how it works.", "start": 10, "end": 12},
        {"speaker": "seller", "text": "Still showing.", "start": 500, "end": 502},
    ]
    summary, _ = run(lines)
    assert "stage.long_presentation" not in [prompt.kind for prompt in summary.prompts]
    summary, _ = run(lines + [{"speaker": "seller", "text": "And more.", "start": 560, "end": 562}])
    assert "stage.long_presentation" in [prompt.kind for prompt in summary.prompts]


NEAR_THE_END = [
    {"speaker": "seller", "text": "What is your biggest challenge?", "start": 0, "end": 3},
    {"speaker": "prospect", "text": "Receipts.", "start": 4, "end": 5},
    {"speaker": "seller", "text": "Let me show you how it works.", "start": 10, "end": 12},
]


def test_no_next_step_near_the_planned_end_is_prompted():
    summary, _ = run(
        NEAR_THE_END + [{"speaker": "prospect", "text": "Interesting.", "start": 95, "end": 96}],
        {"expected_call_seconds": 100},
    )
    (prompt,) = [prompt for prompt in summary.prompts if prompt.kind == "stage.no_next_step"]
    assert prompt.at == pytest.approx(90, abs=1.0)


def test_an_agreed_next_step_silences_the_warning():
    summary, _ = run(
        NEAR_THE_END
        + [
            {"speaker": "seller", "text": "Can we put a follow up in the calendar?", "start": 20, "end": 23},
            {"speaker": "prospect", "text": "Sure, Friday at ten.", "start": 24, "end": 25},
            {"speaker": "prospect", "text": "Thanks.", "start": 95, "end": 96},
        ],
        {"expected_call_seconds": 100},
    )
    assert "stage.no_next_step" not in [prompt.kind for prompt in summary.prompts]


def test_without_a_planned_length_there_is_no_warning():
    summary, _ = run(NEAR_THE_END + [{"speaker": "prospect", "text": "Interesting.", "start": 95, "end": 96}])
    assert "stage.no_next_step" not in [prompt.kind for prompt in summary.prompts]


@pytest.mark.parametrize(
    "text, questions",
    [
        ("How do you handle it today?", 1),
        ("so how do you handle it today", 1),  # no punctuation
        ("Great. Tell me more about that.", 1),
        ("That makes sense. Our software connects to your bank.", 0),
        ("Okay. What is the hardest part? And how often?", 2),
    ],
)
def test_questions_are_found_with_or_without_punctuation(text, questions):
    assert len(questions_in(text)) == questions


def test_cues_ignore_case_punctuation_and_contractions():
    cue = compile_cue("(can not|could not) afford")
    assert find_cue([cue], words_of("We CAN'T afford it.")) is cue
    assert find_cue([cue], words_of("we cant afford it")) is cue
    assert find_cue([compile_cue("to expensive")], words_of("it's not too expensive")) is None


def test_the_shipped_stages_are_in_call_order():
    book = load_stage_book()
    assert [stage.name for stage in book.stages] == [
        "opening", "discovery", "presentation", "objection_handling", "closing",
    ]


def test_a_bad_setting_is_reported():
    warnings = []
    run(SCRIPTED_CALL[:2], {"max_presentation_seconds": "long"}, warnings)
    assert any("plugins.stages.max_presentation_seconds must be a positive number" in w for w in warnings), warnings
