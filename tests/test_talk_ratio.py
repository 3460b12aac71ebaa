"""The talk-ratio plugin: figures from known speaking times, and when it speaks up."""

import pytest

from voicecoach import MEDIUM, SpeechActivity, Utterance
from voicecoach.testing import CallRecorder, run_conversation
from voicecoach_talk_ratio import (
    DEFAULTS,
    InterruptionCoach,
    SilenceCoach,
    TalkRatioCoach,
    count_fillers,
    questions_in,
)


def line(speaker, start, end, text="words"):
    return {"speaker": speaker, "text": text, "start": start, "end": end}


def prompts(lines, settings=None, kind="talk_ratio", warnings=None):
    summary = run_conversation(lines, plugins={"talk_ratio": settings or {}}, warnings=warnings)
    return [prompt for prompt in summary.prompts if prompt.kind == kind]


def observations(lines, kind, settings=None):
    recorder = CallRecorder()
    run_conversation(lines, plugins={"talk_ratio": settings or {}}, extra_plugins=[recorder])
    return [item for item in recorder.observations if item.kind == kind]


def talk_ratio_coach():
    return TalkRatioCoach(
        **{name: float(DEFAULTS[name]) for name in
           ("window_seconds", "max_seller_share", "min_window_talk_seconds", "max_monologue_seconds")}
    )


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
    coach = talk_ratio_coach()
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
    coach = talk_ratio_coach()
    feed(coach, [(item["speaker"], item["start"], item["end"]) for item in lines])
    talk_seconds = coach.final_observation().data["talk_seconds"]
    assert talk_seconds["seller"] == pytest.approx(summary.talk_seconds["seller"])
    assert talk_seconds["prospect"] == pytest.approx(summary.talk_seconds["prospect"])


def test_nobody_spoke():
    coach = talk_ratio_coach()
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


# -- interruptions --------------------------------------------------------------

PROSPECT_TALKS = "We keep every receipt in a shoebox and my husband types them in on Sundays"


def test_an_interrupting_seller_is_counted_and_prompted():
    lines = [
        line("prospect", 0, 10, PROSPECT_TALKS),
        line("seller", 6, 8, "Right, so our app reads them for you"),
        line("prospect", 12, 25, PROSPECT_TALKS),
        line("seller", 15, 17.5, "We do that automatically, you know"),
    ]
    (prompt,) = prompts(lines, kind="talk_ratio.interruptions")
    # Known once the seller has talked a second over the prospect.
    assert prompt.at == pytest.approx(16)
    assert prompt.text == "You interrupted twice in the last 2 minutes: let them finish"
    assert prompt.priority == MEDIUM and prompt.data["at"] == [6, 15]
    each = observations(lines, "interruption")
    assert [(item.at, item.value) for item in each] == [(6, 2.0), (15, 2.5)]
    assert [item.data["prospect_start"] for item in each] == [0, 12]
    (total,) = observations(lines, "interruptions")
    assert total.value == 2 and total.data["at"] == [6, 15]


def test_backchannels_and_early_replies_are_not_interruptions():
    lines = [
        line("prospect", 0, 10, PROSPECT_TALKS),
        line("seller", 3, 3.5, "mm-hm"),
        line("seller", 6, 6.6, "right"),
        # Starts as the prospect's last word fades: a quick reply, not a cut-in.
        line("seller", 9.8, 14, "And how long does that take him?"),
        # Both start at once after a pause: nobody cut anybody off.
        line("prospect", 20, 28, PROSPECT_TALKS),
        line("seller", 20.1, 23, "Sorry, go ahead"),
    ]
    assert prompts(lines, kind="talk_ratio.interruptions") == []
    assert observations(lines, "interruption") == []
    assert observations(lines, "interruptions")[0].value == 0


def test_one_interruption_is_logged_but_not_prompted():
    lines = [line("prospect", 0, 10, PROSPECT_TALKS), line("seller", 4, 6, "But our app does that")]
    assert prompts(lines, kind="talk_ratio.interruptions") == []
    assert observations(lines, "interruptions")[0].value == 1


def test_the_interruption_prompt_is_rate_limited():
    lines = []
    for turn in range(6):  # an interruption every 20 s
        lines += [line("prospect", turn * 20, turn * 20 + 10, PROSPECT_TALKS),
                  line("seller", turn * 20 + 5, turn * 20 + 7, "Let me stop you there")]
    lines += [line("prospect", 200, 210, PROSPECT_TALKS), line("seller", 205, 207, "Let me stop you there"),
              line("prospect", 220, 230, PROSPECT_TALKS), line("seller", 225, 227, "Let me stop you there")]
    found = prompts(lines, kind="talk_ratio.interruptions")
    # The second interruption prompts; the next four come within 120 s of that
    # prompt. The one at 205 s prompts again, counting only those since the first
    # prompt and within the last two minutes (105 s and 205 s).
    assert [prompt.at for prompt in found] == [26, 206]
    assert found[1].text == "You interrupted twice in the last 2 minutes: let them finish"
    assert observations(lines, "interruptions")[0].value == 8


def test_talk_over_the_rest_of_a_cut_utterance_counts_when_it_ends():
    coach = InterruptionCoach(min_seconds=1.0, overlap_seconds=0.5, to_prompt=2, window_seconds=120,
                              repeat_seconds=120)
    # Voice activity cut the prospect's long turn at 12.3 s and announced no new start.
    coach.speech_activity(session=None, activity=SpeechActivity("prospect", 0.0))
    coach.speech_activity(session=None, activity=SpeechActivity("prospect", 0.0, 12.3))
    coach.speech_activity(session=None, activity=SpeechActivity("seller", 15.0))
    assert coach.clock_tick(session=None, now=17.0) is None
    coach.speech_activity(session=None, activity=SpeechActivity("seller", 15.0, 17.5))
    results = coach.speech_activity(session=None, activity=SpeechActivity("prospect", 12.3, 20.0))
    assert [(item.kind, item.at, item.value) for item in results] == [("interruption", 15.0, 2.5)]


def test_a_mixed_channel_has_no_interruptions():
    lines = [line("mixed", 0, 10, PROSPECT_TALKS), line("mixed", 4, 7, PROSPECT_TALKS)]
    assert observations(lines, "interruptions")[0].value == 0


# -- pace -------------------------------------------------------------------------

def words(count):
    return " ".join(["word"] * count)


def test_pace_is_words_over_speaking_time_with_pauses_inside_a_turn():
    lines = [
        line("seller", 0, 9.5, words(30)),
        line("seller", 10, 20, words(30)),  # 0.5 s pause: the same turn, counted as speaking time
        line("prospect", 21, 30, words(25)),
        line("seller", 31, 41, words(25)),  # 150 wpm on its own
    ]
    (pace,) = observations(lines, "pace")
    assert pace.value == round(85 / 30 * 60) == 170
    assert pace.data == {"words": 85, "seconds": 30.0, "verdict": "in range", "range": [130.0, 175.0]}


def test_a_rushed_seller_is_told_to_slow_down_once():
    rushed = [line("seller", start, start + 9, words(30)) for start in (0, 10, 20, 30, 40)]  # 200 wpm
    (prompt,) = prompts(rushed, kind="talk_ratio.pace")
    # The first moment the window holds 40 words.
    assert prompt.at == pytest.approx(19)
    assert prompt.text == "Slow down: 200 words per minute"
    assert prompt.detail == ["A clear pace is 130-175 words per minute: pause after each point"]
    assert observations(rushed, "pace")[0].data["verdict"] == "fast"


def test_fast_but_not_rushed_is_logged_not_prompted():
    brisk = [line("seller", start, start + 10, words(30)) for start in (0, 11, 22, 33)]  # 180 wpm
    assert prompts(brisk, kind="talk_ratio.pace") == []
    assert observations(brisk, "pace")[0].data["verdict"] == "fast"


def test_the_pace_prompt_rearms_after_the_pace_recovers():
    lines = [line("seller", start, start + 9, words(30)) for start in (0, 10)]  # 200 wpm
    lines += [line("seller", start, start + 15, words(30)) for start in (40, 60, 80, 100)]  # 120 wpm
    lines += [line("seller", start, start + 9, words(33)) for start in (180, 190, 200)]  # 220 wpm
    found = prompts(lines, kind="talk_ratio.pace")
    assert [(prompt.at, prompt.text) for prompt in found] == [
        (19, "Slow down: 200 words per minute"), (199, "Slow down: 220 words per minute")]


def test_the_prospects_pace_is_not_the_sellers():
    lines = [line("prospect", start, start + 9, words(30)) for start in (0, 10, 20)]
    assert prompts(lines, kind="talk_ratio.pace") == []
    assert observations(lines, "pace")[0].value is None


# -- questions --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("How do you handle bookkeeping today?", 1),
    ("What do you use now. How many people use it", 2),  # Whisper dropped the marks
    ("So who signs the contract", 1),
    ("Do you have a budget in mind", 1),
    ("Is that right? Great. Can we meet on Friday", 2),
    ("What's the hardest part", 1),
    ("It takes you five hours, right?", 1),
    ("What we do is sort every receipt.", 0),
    ("When you sign up, you get a free month.", 0),
    ("How we do it is simple. I can send you the details.", 0),
    ("Could be worse.", 0),
    ("Is it $4.99 a month?", 1),
])
def test_questions_are_found_with_or_without_a_question_mark(text, expected):
    assert len(questions_in(text)) == expected


def test_the_sellers_questions_are_counted_for_the_call():
    lines = [
        ("seller", "Thanks for your time. How do you do your books today?"),
        ("prospect", "In a spreadsheet. Why do you ask?"),
        ("seller", "Who else works on them. Our app sorts receipts."),
    ]
    (questions,) = observations(lines, "questions")
    assert questions.value == 2
    assert [item["text"] for item in questions.data["asked"]] == [
        "How do you do your books today?", "Who else works on them."]
    assert questions.data["verdict"] == "few" and questions.data["range"] == [11, 14]


# -- filler words -----------------------------------------------------------------

FILLERS = DEFAULTS["filler_words"]


@pytest.mark.parametrize("text, expected", [
    ("Um, so it's, like, basically five users, you know.", {"um": 1, "like": 1, "basically": 1, "you know": 1}),
    ("I mean, it's kind of slow, actually.", {"i mean": 1, "kind of": 1, "actually": 1}),
    ("I like it and it looks like a fit.", {}),
    ("Do you know what kind of software they use?", {}),
    ("What I mean is this sort of thing.", {}),
])
def test_filler_words_count_only_where_they_are_fillers(text, expected):
    assert count_fillers(text, FILLERS) == expected


def test_the_filler_rate_is_per_hundred_seller_words():
    lines = [
        ("seller", "Um, so our app, basically, sorts every receipt for you and files it away."),  # 14 words, 2 fillers
        ("prospect", "Um, like, I mean, okay."),
        ("seller", "It is, you know, the quickest way to get your taxes ready."),  # 12 words, 1 filler
    ]
    (fillers,) = observations(lines, "fillers")
    assert fillers.value == round(3 / 26 * 100, 1)
    assert fillers.data["counts"] == {"um": 1, "basically": 1, "you know": 1}
    assert "undercounts" in fillers.data["note"]


# -- silences ---------------------------------------------------------------------

def test_a_long_silence_is_prompted_and_logged():
    lines = [line("seller", 10, 14, "Our app sorts every receipt for you."),
             line("prospect", 15, 18, "Okay, that sounds good."),
             line("seller", 26, 29, "So, shall we look at pricing?")]
    (prompt,) = prompts(lines, kind="talk_ratio.silence")
    assert prompt.at == pytest.approx(23)
    assert prompt.text == "5 seconds of silence: ask a question"
    # The quiet before the first words is not a silence of the call.
    (silence,) = observations(lines, "silence")
    assert (silence.at, silence.value, silence.data) == (18, 8, {"end": 26})
    (total,) = observations(lines, "silences")
    assert total.value == 1 and total.data["longest_seconds"] == 8


def test_a_silence_after_the_sellers_question_is_left_alone():
    lines = [line("seller", 0, 4, "What would make this a ten for you?"),
             line("prospect", 12, 16, "Honestly, if my husband could use it too.")]
    assert prompts(lines, kind="talk_ratio.silence") == []
    assert observations(lines, "silences")[0].value == 1


def test_short_pauses_are_not_silences():
    lines = [line("seller" if turn % 2 else "prospect", turn * 5, turn * 5 + 4, "words") for turn in range(10)]
    assert prompts(lines, kind="talk_ratio.silence") == []
    assert observations(lines, "silences")[0].value == 0


def test_a_monologue_cut_by_voice_activity_is_not_a_silence():
    coach = SilenceCoach(long_seconds=5, repeat_seconds=120)
    coach.speech_activity(session=None, activity=SpeechActivity("seller", 0.0))
    coach.speech_activity(session=None, activity=SpeechActivity("seller", 0.0, 12.2))
    # The seller goes on; voice activity announces no start for the rest.
    assert all(coach.clock_tick(session=None, now=float(now)) is None for now in range(13, 20))
    assert coach.speech_activity(session=None, activity=SpeechActivity("seller", 12.2, 20.0)) is None
    coach.transcript(session=None, utterance=Utterance("seller", "And that is the whole story.", 12.2, 20.0))
    assert all(coach.clock_tick(session=None, now=float(now)) is None for now in range(20, 25))
    prompt = coach.clock_tick(session=None, now=25.5)
    assert prompt.kind == "talk_ratio.silence" and prompt.data["silence_start"] == 20.0


def test_silences_are_found_on_a_mixed_channel():
    lines = [line("mixed", 0, 4, "So that is the app."), line("mixed", 11, 14, "Right, okay.")]
    assert len(prompts(lines, kind="talk_ratio.silence")) == 1


@pytest.mark.parametrize("settings, expected", [
    ({"filler_words": "um"}, "filler_words must be a list of words or phrases"),
    ({"interruptions_to_prompt": 1.5}, "interruptions_to_prompt must be a whole number"),
    ({"min_words_per_minute": 180}, "min_words_per_minute must not be above max_words_per_minute"),
    ({"long_silence_seconds": 0}, "long_silence_seconds must be a positive number"),
])
def test_bad_dynamics_settings_are_reported(settings, expected):
    warnings = []
    prompts([line("seller", 0, 100)], settings, warnings=warnings)
    assert any(expected in warning for warning in warnings), warnings
