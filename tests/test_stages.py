"""The stages plugin: where the call is, and the gaps worth a prompt."""

import collections
from pathlib import Path

import pytest
import yaml

from voicecoach import HIGH, hookimpl
from voicecoach.testing import run_conversation
from voicecoach_objections.playbook import shipped_playbook_path
from voicecoach_stages.cues import compile_cue, find_cue, words_of
from voicecoach_stages.definitions import load_stage_book
from voicecoach_stages.questions import questions_in

DIALOGUES = sorted((Path(__file__).parent / "corpus" / "dialogues").glob("*.yaml"))
STAGES = ("opening", "discovery", "presentation", "objection_handling", "closing")


class Observations:
    def __init__(self):
        self.seen = []
        self.utterances = []

    @hookimpl
    def transcript(self, session, utterance):
        self.utterances.append(utterance)

    @hookimpl
    def observed(self, session, observation):
        self.seen.append(observation)

    def stages(self):
        return [(o.value, o.data["from"]) for o in self.seen if o.kind == "stage"]

    def stage_after_each_utterance(self):
        """The stage the call is in once each utterance has been heard."""
        changed = {o.data["utterance_id"]: o.value for o in self.seen if o.kind == "stage"}
        current, after = None, []
        for utterance in self.utterances:
            current = changed.get(utterance.id, current)
            after.append(current)
        return after


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


def kinds(summary):
    return [prompt.kind for prompt in summary.prompts]


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
    assert [kind for kind in kinds(summary) if kind != "stage"] == []


def test_each_change_says_how_long_the_previous_stage_lasted_and_the_end_sums_them_up():
    lines = [
        {"speaker": "seller", "text": "Good morning, thanks for joining.", "start": 0, "end": 2},
        {"speaker": "seller", "text": "What made you take this call?", "start": 30, "end": 32},
        {"speaker": "seller", "text": "Let me show you how our platform works.", "start": 100, "end": 103},
    ]
    summary, recorder = run(lines)
    changes = [o for o in recorder.seen if o.kind == "stage"]
    assert [o.data["seconds_in_previous"] for o in changes] == [None, 30.0, 70.0]
    (times,) = [o for o in recorder.seen if o.kind == "stage.time"]
    assert times.value == "presentation"
    assert times.data["seconds"]["opening"] == 30.0 and times.data["seconds"]["discovery"] == 70.0
    assert times.data["next_step_agreed"] is False


def test_small_talk_questions_stay_in_the_opening():
    _, recorder = run(
        [
            ("seller", "Hi Sam, good to finally connect. Are you dialing in from the office today?"),
            ("prospect", "From home, the office is being painted."),
            ("seller", "How was your weekend?"),
        ]
    )
    assert [stage for stage, _ in recorder.stages()] == ["opening"]


def test_an_objection_answer_stays_in_objection_handling_until_the_pitch_resumes():
    _, recorder = run(
        [
            ("seller", "What do you use for this today?"),
            ("seller", "Let me show you how it works."),
            ("prospect", "Hmm, I don't think it would work for us."),
            ("seller", "I hear you. Our product handles exactly that, and we include the setup."),  # the answer
            ("prospect", "Okay, that is fair."),
            ("seller", "Great. Moving on, the next thing I want to show you is the reporting."),
        ]
    )
    assert [stage for stage, _ in recorder.stages()] == [
        "opening", "discovery", "presentation", "objection_handling", "presentation",
    ]
    assert recorder.stage_after_each_utterance()[3] == "objection_handling"


def test_an_objection_in_the_opening_is_handled_then_discovery_follows():
    _, recorder = run(
        [
            ("prospect", "Reliable Plumbing, this is Steve."),
            ("seller", "Hi Steve, this is Kira with RankRight. Can I have thirty seconds?"),
            ("prospect", "Look, we're not interested. We get ten of these calls a week."),
            ("seller", "I bet you do. Where do most of your new jobs come from right now?"),
            ("prospect", "Referrals, mostly."),
            ("seller", "And how many of those are emergency jobs?"),
        ]
    )
    assert [stage for stage, _ in recorder.stages()] == ["opening", "objection_handling", "discovery"]


def test_a_denied_objection_is_not_objection_handling():
    _, recorder = run(
        [("seller", "Tell me about your business."), ("seller", "Our platform does the books."),
         ("prospect", "It's not too expensive, that's fine.")]
    )
    assert "objection_handling" not in [stage for stage, _ in recorder.stages()]


def test_one_channel_with_both_voices_is_followed_too():
    _, recorder = run(
        [
            ("mixed", "Thanks for joining. So what made you take this call?"),
            ("mixed", "Our receipts are a mess. Okay, let me show you how our app sorts them."),
            ("mixed", "Honestly that sounds too expensive for us."),
        ]
    )
    assert [stage for stage, _ in recorder.stages()] == [
        "opening", "discovery", "presentation", "objection_handling",
    ]


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
    assert "stage.pitch_before_discovery" not in kinds(summary)


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
    assert "stage.long_presentation" not in kinds(summary)
    summary, _ = run(lines + [{"speaker": "seller", "text": "And more.", "start": 560, "end": 562}])
    assert "stage.long_presentation" in kinds(summary)


def test_an_objection_restarts_the_presentation_clock():
    lines = [
        {"speaker": "seller", "text": "What is your biggest challenge?", "start": 0, "end": 3},
        {"speaker": "seller", "text": "Let me show you how it works.", "start": 10, "end": 12},
        {"speaker": "prospect", "text": "That sounds too expensive.", "start": 90, "end": 92},
        {"speaker": "seller", "text": "Fair. Let me show you the cheaper plan then.", "start": 95, "end": 98},
        {"speaker": "seller", "text": "It does the same.", "start": 190, "end": 192},
    ]
    summary, _ = run(lines, {"max_presentation_seconds": 120})
    assert "stage.long_presentation" not in kinds(summary)


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
    assert prompt.priority == HIGH


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
    assert "stage.no_next_step" not in kinds(summary)


def test_without_a_planned_length_there_is_no_warning_before_goodbye():
    summary, _ = run(NEAR_THE_END + [{"speaker": "prospect", "text": "Interesting.", "start": 95, "end": 96}])
    assert "stage.no_next_step" not in kinds(summary)


def test_saying_goodbye_with_no_next_step_is_prompted_at_once():
    summary, _ = run(
        NEAR_THE_END
        + [
            ("prospect", "Okay. Send me something in writing."),
            ("seller", "Sure thing, I'll email you a one pager."),
            ("prospect", "Great. I gotta get back to the kitchen."),
        ]
    )
    (prompt,) = [prompt for prompt in summary.prompts if prompt.kind == "stage.no_next_step"]
    assert prompt.priority == HIGH and "kitchen" in prompt.trigger.text
    assert prompt.data["reason"] == "goodbye"


def test_goodbye_after_a_next_step_is_not_prompted():
    summary, _ = run(
        NEAR_THE_END
        + [
            ("seller", "How about Thursday at five thirty for a walk through?"),
            ("prospect", "Thursday at five thirty works. Have a good day!"),
        ]
    )
    assert "stage.no_next_step" not in kinds(summary)


@pytest.mark.parametrize(
    "text, questions",
    [
        ("How do you handle it today?", 1),
        ("so how do you handle it today", 1),  # no punctuation: the first words tell
        ("Great. Tell me more about that.", 0),  # discovery, but not a question
        ("So what we do for restaurants is run local ads.", 0),  # punctuation says it is not a question
        ("That makes sense. Our software connects to your bank.", 0),
        ("Okay. What is the hardest part? And how often?", 2),
    ],
)
def test_questions_are_found_with_or_without_punctuation(text, questions):
    assert len(questions_in(text)) == questions


def test_cues_ignore_case_punctuation_contractions_and_hedges():
    cue = compile_cue("(can not|could not) afford")
    assert find_cue([cue], words_of("We CAN'T afford it.")) is cue
    assert find_cue([cue], words_of("we cant afford it")) is cue
    assert find_cue([compile_cue("to expensive")], words_of("it's not too expensive")) is None
    steep = compile_cue("that is steep")
    assert find_cue([steep], words_of("That's kind of steep, honestly.")) is steep
    assert words_of("about 30% off, $49 at 9am") == ["about", "thirty", "percent", "off", "dollar", "forty", "nine", "at", "nine", "am"]


def test_a_cue_with_a_word_speech_loses_is_refused():
    with pytest.raises(ValueError, match="'really' is dropped from speech"):
        compile_cue("(really|very) expensive")


def test_the_shipped_stages_are_in_call_order():
    book = load_stage_book()
    assert [stage.name for stage in book.stages] == list(STAGES)


def test_a_bad_stage_book_names_the_key(tmp_path):
    path = tmp_path / "stages.yaml"
    path.write_text("stages:\n  opening: {cues: {anyone: [hello]}}\n  discovery: {from: {closing: cue}}\n")
    with pytest.raises(ValueError, match=r"stages.discovery.from.closing is not another stage"):
        load_stage_book(str(path))
    path.write_text("stages:\n  opening: {}\n  discovery: {from: {opening: sometimes}}\n")
    with pytest.raises(ValueError, match=r"stages.discovery.from.opening must be one of cue, twice, strong"):
        load_stage_book(str(path))


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"max_presentation_seconds": "long"}, "plugins.stages.max_presentation_seconds must be a positive number"),
        ({"expected_call_seconds": -5}, "plugins.stages.expected_call_seconds must be a positive number"),
        ({"next_step_share": 1.5}, "plugins.stages.next_step_share must be a fraction below 1"),
        ({"max_presentation": 300}, "plugins.stages.max_presentation is not a setting of stages"),
    ],
)
def test_a_bad_setting_is_reported(settings, message):
    warnings = []
    run(SCRIPTED_CALL[:2], settings, warnings)
    assert any(message in warning for warning in warnings), warnings


# The labelled dialogues in tests/corpus/dialogues: varied calls (direct sales, insurance,
# software, home and agency services) with the stage a coach watching would name at each
# line. Labelling: opening = greetings, rapport, agenda; discovery = the seller's questions
# about the prospect's situation and the answers; presentation = the offer, its price, and
# the prospect's questions about it; objection handling = from a concern raised until the
# call moves on; closing = asking for the business, agreeing a next step, and goodbyes.


def load_dialogue(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_labelled_dialogues_are_well_formed():
    categories = set(yaml.safe_load(Path(shipped_playbook_path()).read_text())["objections"]) | {"none"}
    assert len(DIALOGUES) >= 15
    for path in DIALOGUES:
        dialogue = load_dialogue(path)
        assert dialogue["title"] and dialogue["domain"], path.name
        assert 12 <= len(dialogue["lines"]) <= 40, path.name
        for number, line in enumerate(dialogue["lines"], start=1):
            where = f"{path.name} line {number}"
            assert line["speaker"] in ("seller", "prospect"), where
            assert line["text"].strip(), where
            assert line["stage"] in STAGES, where
            if line["speaker"] == "prospect":
                assert line["objection"] in categories, where
            else:
                assert "objection" not in line, where


@pytest.fixture(scope="module")
def coached_dialogues():
    """Each labelled dialogue, run once through the plugin: (name, dialogue, summary, recorder)."""
    coached = []
    for path in DIALOGUES:
        dialogue = load_dialogue(path)
        summary, recorder = run([(line["speaker"], line["text"]) for line in dialogue["lines"]])
        coached.append((path.stem, dialogue, summary, recorder))
    return coached


def test_the_stage_is_right_for_most_lines_of_the_labelled_dialogues(coached_dialogues):
    right = collections.Counter()
    total = collections.Counter()
    for _, dialogue, _, recorder in coached_dialogues:
        for line, heard in zip(dialogue["lines"], recorder.stage_after_each_utterance()):
            total[line["stage"]] += 1
            right[line["stage"]] += heard == line["stage"]
    accuracy = sum(right.values()) / sum(total.values())
    recall = {stage: right[stage] / total[stage] for stage in STAGES}
    # Measured 0.92 over all dialogues; 0.83 on the last batch written after the cues were
    # tuned. The floor catches a regression, not noise from one new dialogue.
    assert accuracy >= 0.85, (accuracy, recall)
    assert min(recall.values()) >= 0.75, recall


def pitches_first(dialogue):
    stages = [line["stage"] for line in dialogue["lines"]]
    if "presentation" not in stages:
        return False
    return "discovery" not in stages or stages.index("presentation") < stages.index("discovery")


def test_pitching_before_discovery_is_prompted_in_exactly_the_calls_that_do_it(coached_dialogues):
    for name, dialogue, summary, _ in coached_dialogues:
        prompted = "stage.pitch_before_discovery" in kinds(summary)
        assert prompted == pitches_first(dialogue), name


# Calls that end without a date, a time or a signature (the seller sends something, or the
# prospect will call back).
WITHOUT_NEXT_STEP = {
    "carpet_cleaning_pitch_first", "dental_software_pitch_first", "gym_membership_callback",
    "haircare_mlm_no_next_step", "home_insurance_renewal_pitch", "lawn_care_no_next_step",
    "marketing_agency_no_next_step", "medicare_supplement_no_next_step", "seo_agency_cold_call",
    "skincare_friend_pitches_first", "windows_replacement_stall",
}


def test_goodbyes_without_a_next_step_are_prompted_and_agreed_steps_never_are(coached_dialogues):
    prompted = {name for name, _, summary, _ in coached_dialogues if "stage.no_next_step" in kinds(summary)}
    assert prompted <= WITHOUT_NEXT_STEP, prompted - WITHOUT_NEXT_STEP
    # Some calls end without goodbye words ("Thanks man, later."): most are caught.
    assert len(prompted) >= 0.75 * len(WITHOUT_NEXT_STEP), WITHOUT_NEXT_STEP - prompted


def test_small_talk_split_across_utterances_stays_in_the_opening():
    # A pause can split one turn into two utterances: "Happy Friday!" ... "Did you survive the week?"
    _, recorder = run([("seller", "Hey Nicole! Happy Friday!"), ("seller", "Did you survive the week?")])
    assert [stage for stage, _ in recorder.stages()] == ["opening"]


@pytest.mark.slow
def test_the_stages_hold_up_through_speech_recognition(transcriber, tmp_path):
    """A labelled call spoken by espeak-ng and heard by tiny.en: mishearings and all."""
    from voicecoach.coach import coach_recording
    from voicecoach.synth import ScriptLine, synthesize_call
    from voicecoach.testing import make_profile

    dialogue = load_dialogue(DIALOGUES[0].with_name("executive_search_retainer.yaml"))
    call = synthesize_call([ScriptLine(line["speaker"], line["text"], pause_before=0.6) for line in dialogue["lines"]])
    path = str(tmp_path / "call.wav")
    call.write_stereo(path)
    recorder = Observations()
    summary = coach_recording(make_profile({"stages": {}}), input=path, transcriber=transcriber, plugins=[recorder])

    # Each script line takes the stage after the last utterance heard within its time.
    after = dict(zip((u.id for u in recorder.utterances), recorder.stage_after_each_utterance()))
    heard, current = [], "opening"
    for spoken in call.lines:
        mine = [u for u in recorder.utterances if u.speaker == spoken.speaker and u.start < spoken.end and u.end > spoken.start]
        current = after[mine[-1].id] if mine else current
        heard.append(current)
    right = sum(stage == line["stage"] for stage, line in zip(heard, dialogue["lines"]))
    assert right / len(heard) >= 0.8, list(zip(heard, [line["stage"] for line in dialogue["lines"]]))
    assert {stage for stage, _ in recorder.stages()} == set(STAGES)
    assert "stage.no_next_step" not in kinds(summary)
