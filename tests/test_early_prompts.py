"""Prompts before the prospect stops talking, and a speech engine that dies mid-call.

Real espeak-ng speech, the embedded model, replayed at the pace of a live call.
"""

import pytest

from voicecoach import PROSPECT, SELLER
from voicecoach.coach import coach_recording
from voicecoach.synth import ScriptLine, synthesize_call
from voicecoach.testing import CallRecorder, make_profile

pytestmark = pytest.mark.slow

# One long prospect turn with no pause in it: the objection comes early, the
# turn goes on for seconds after it.
CALL = [
    ScriptLine(SELLER, "So what do you think of the offer?", pause_before=0.3),
    ScriptLine(
        PROSPECT,
        "Well honestly that all sounds far too expensive for a small team like ours and on top of "
        "that we are busy with the move to our new office until the end of the summer",
        pause_before=0.6,
    ),
    ScriptLine(SELLER, "I understand, what would it need to cost?", pause_before=0.8),
]


@pytest.fixture(scope="module")
def long_turn_call(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("call") / "call.wav")
    call = synthesize_call(CALL, tail=0.5)
    call.write_stereo(path)
    return call, path


def coach(path, transcriber, endpointing, **options):
    profile = make_profile(["objections"])
    profile.endpointing = endpointing
    recorder = CallRecorder()
    summary = coach_recording(profile, input=path, transcriber=transcriber, plugins=[recorder], **options)
    return summary, recorder


def final_with(recorder, word):
    return next(u for u in recorder.utterances if word in u.text.lower())


def test_an_objection_in_a_long_turn_is_prompted_while_the_prospect_is_still_talking(long_turn_call, transcriber):
    call, path = long_turn_call
    summary, recorder = coach(path, transcriber, {}, realtime=True)
    assert any(p.speaker == PROSPECT for p in recorder.partials), "a long turn is transcribed while it is spoken"

    [prompt] = recorder.prompts_of("objection.price")  # once, though partial and final both say it
    assert prompt.trigger.partial
    final = final_with(recorder, "expensive")
    assert prompt.trigger.id == final.id  # the partial and the final are one utterance
    delivered_at = next(at for at, p in recorder.prompts if p is prompt)
    assert delivered_at < final.timing.speech_ended_at - 1.0, "prompted seconds before the turn ended"
    # The log's record of the objection comes from the final words, once.
    assert [o.value for o in recorder.observations if o.kind == "objection"] == ["price"]


def test_without_partials_the_prompt_waits_for_the_end_of_the_turn(long_turn_call, transcriber):
    call, path = long_turn_call
    summary, recorder = coach(path, transcriber, {"partial_every": 0}, realtime=True)
    assert not recorder.partials
    [prompt] = recorder.prompts_of("objection.price")
    assert not prompt.trigger.partial
    delivered_at = next(at for at, p in recorder.prompts if p is prompt)
    assert delivered_at > final_with(recorder, "expensive").timing.speech_ended_at


class DiesAfter:
    """The embedded engine, failing for good after ``calls`` utterances (a crashed worker)."""

    description = "dies after a few utterances"

    def __init__(self, engine, calls):
        self.engine, self.calls = engine, calls

    def warm_up(self):
        pass

    def transcribe(self, samples):
        self.calls -= 1
        if self.calls < 0:
            raise RuntimeError("the speech engine process died")
        return self.engine.transcribe(samples)


def test_a_dead_speech_engine_is_restarted_and_no_utterance_is_lost(long_turn_call, transcriber):
    _, path = long_turn_call
    expected, _ = coach(path, transcriber, {})
    warnings = []
    summary, recorder = coach(
        path, DiesAfter(transcriber, calls=1), {}, transcriber_factory=lambda: transcriber, warn=warnings.append
    )
    assert summary.utterances == expected.utterances >= 3
    assert "expensive" in recorder.said(PROSPECT)
    assert [w for w in warnings if "restarting" in w] == [
        "the speech engine failed (the speech engine process died); restarting it, no audio is lost"
    ]


def test_without_a_way_to_restart_the_failed_utterances_are_skipped_with_a_warning(long_turn_call, transcriber):
    _, path = long_turn_call
    warnings = []
    summary, _ = coach(path, DiesAfter(transcriber, calls=1), {}, warn=warnings.append)
    assert summary.utterances == 1
    # Said once, not once per lost utterance.
    assert [w for w in warnings if "transcription" in w] == [
        "transcription failed for one utterance and it was skipped: the speech engine process died"
    ]
