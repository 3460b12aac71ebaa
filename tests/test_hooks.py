"""Every hook is documented, every documented example runs, and every hook has a test here.

The tests named ``test_<hook>`` check what docs/hooks.md promises for that hook.
"""

import inspect
import re
import time
from pathlib import Path

import pytest

import voicecoach
from voicecoach import HIGH, LOW, Observation, Prompt, SpeechActivity, Utterance, hookimpl, hookspecs
from voicecoach.keys import CallControls
from voicecoach.testing import CallRecorder, run_conversation, run_events

ROOT = Path(__file__).resolve().parent.parent
HOOKS_DOC = ROOT / "docs" / "hooks.md"


def declared_hooks():
    return [
        name for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, "voicecoach_spec")
    ]


def doc_sections():
    text = HOOKS_DOC.read_text()
    return {match.group(1): match.start() for match in re.finditer(r"^## (\w+)$", text, re.M)}, text


def test_every_hook_has_a_documentation_section_with_its_signature():
    sections, text = doc_sections()
    for name in declared_hooks():
        assert name in sections, f"docs/hooks.md has no section for {name}"
        parameters = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({parameters})`" in text, f"docs/hooks.md does not give {name}'s signature"
    assert set(sections) <= set(declared_hooks()), "docs/hooks.md documents a hook that does not exist"


def test_every_hook_has_a_test_named_after_it():
    tests = {name for name, _ in inspect.getmembers(__import__(__name__), inspect.isfunction)}
    for name in declared_hooks():
        assert f"test_{name}" in tests, f"tests/test_hooks.py has no test_{name}"


def documented_examples():
    _, text = doc_sections()
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("index", range(len(documented_examples())))
def test_the_documented_examples_run(index):
    exec(compile(documented_examples()[index], f"docs/hooks.md example {index + 1}", "exec"), {})


# -- one test per hook ---------------------------------------------------------


def test_register_commands():
    from click.testing import CliRunner

    from voicecoach.cli import build_cli
    from voicecoach.plugins import pm

    class Plugin:
        @hookimpl
        def register_commands(self, cli):
            @cli.command(name="ping")
            def ping():
                print("pong")

    plugin = Plugin()
    pm.register(plugin, name="ping")
    try:
        assert CliRunner().invoke(build_cli(), ["ping"]).output == "pong\n"
    finally:
        pm.unregister(plugin)
    assert "ping" not in CliRunner().invoke(build_cli(), ["--help"]).output


def test_register_sources():
    from voicecoach.plugins import get_sources

    assert {"file", "devices"} <= set(get_sources())


def test_register_transcribers():
    from voicecoach.plugins import get_transcribers

    assert "faster-whisper" in get_transcribers()


def test_session_started():
    class PerCall:
        def __init__(self):
            self.seen = 0

        @hookimpl
        def transcript(self, session, utterance):
            self.seen += 1
            return Observation(kind="seen", value=self.seen)

    made = []

    class Plugin:
        @hookimpl
        def session_started(self, session):
            made.append(PerCall())
            return made[-1]

    recorder = CallRecorder()
    for _ in range(2):  # state is per call: each call starts from zero
        run_conversation([("seller", "Hi."), ("prospect", "Hello.")], extra_plugins=[Plugin(), recorder])
    assert [o.value for o in recorder.observations if o.kind == "seen"] == [1, 2, 1, 2]
    assert len(made) == 2


def test_speech_activity():
    spans = []

    class Plugin:
        @hookimpl
        def speech_activity(self, session, activity):
            spans.append((activity.speaker, activity.start, activity.end))

    run_conversation(
        [{"speaker": "seller", "text": "Hi there.", "start": 1, "end": 2},
         {"speaker": "prospect", "text": "Hello.", "start": 3, "end": 4}],
        extra_plugins=[Plugin()],
    )
    # Starts come before ends, and before the words.
    assert spans == [("seller", 1, None), ("seller", 1, 2), ("prospect", 3, None), ("prospect", 3, 4)]


def test_partial_transcript():
    recorder = CallRecorder()
    partial = Utterance("prospect", "We already use", start=0, end=1.5, partial=True)
    final = Utterance("prospect", "We already use Acme.", start=0, end=2.5, id=partial.id)
    summary = run_events([partial, final], extra_plugins=[recorder])
    assert [u.text for u in recorder.partials] == ["We already use"]
    assert [u.text for u in recorder.utterances] == ["We already use Acme."]
    assert summary.utterances == 1  # a partial is not an utterance of its own


def test_transcript():
    recorder = CallRecorder()
    run_conversation([("seller", "My number is 555-867-5309.")], extra_plugins=[recorder])
    # Redacted before any plugin sees it.
    assert recorder.utterances[0].text == "My number is [phone number]."


def test_clock_tick():
    ticks = []

    class Plugin:
        @hookimpl
        def clock_tick(self, session, now):
            ticks.append(now)

    run_conversation([{"speaker": "seller", "text": "Hello.", "start": 4.5, "end": 5.2}], extra_plugins=[Plugin()])
    assert ticks == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_prompt_delivered():
    class Coach:
        @hookimpl
        def transcript(self, session, utterance):
            return [Prompt(kind="b", text="low", priority=LOW), Prompt(kind="a", text="high", priority=HIGH)]

    recorder = CallRecorder()
    run_conversation([("prospect", "Hmm.")], extra_plugins=[Coach(), recorder], arbitration={"min_interval": 0})
    delivered = [p for _, p in recorder.prompts]
    assert [p.text for p in delivered] == ["high", "low"]  # most urgent first
    assert all(p.plugin and p.at is not None and p.trigger is not None for p in delivered)


def test_prompt_feedback(db_path):
    class Coach:
        @hookimpl
        def transcript(self, session, utterance):
            return Prompt(kind="tip", text=f"tip {utterance.id}", key=str(utterance.id))

    controls = CallControls()

    class Seller:
        @hookimpl
        def prompt_delivered(self, session, prompt):
            controls.key("+")

    verdicts = []

    class Listener:
        @hookimpl
        def prompt_feedback(self, session, prompt, useful):
            verdicts.append((prompt.text, useful))

    run_conversation([("seller", "One."), ("seller", "Two.")], plugins=["sqlite_log"], db_path=db_path,
                     extra_plugins=[Coach(), Seller(), Listener()], controls=controls)
    assert [useful for _, useful in verdicts] == [True, True] and verdicts[0][0] != verdicts[1][0]
    assert voicecoach.open_log(db_path)["prompt_feedback"].count == 2


def test_observed():
    class Coach:
        @hookimpl
        def transcript(self, session, utterance):
            return Observation(kind="length", value=len(utterance.text))

    recorder = CallRecorder()
    run_conversation([{"speaker": "seller", "text": "Hello.", "start": 2, "end": 3}], extra_plugins=[Coach(), recorder])
    [observation] = recorder.observations
    assert (observation.kind, observation.value, observation.at) == ("length", 6, 3)
    assert observation.plugin.startswith("session-plugin")


def test_session_ending(db_path):
    class Summary:
        @hookimpl
        def session_ending(self, session, now):
            return [Observation(kind="summary", value=now), Prompt(kind="bye", text="Send the follow-up email")]

    summary = run_conversation([{"speaker": "seller", "text": "Bye.", "start": 0, "end": 7}],
                               plugins=["sqlite_log"], db_path=db_path, extra_plugins=[Summary()])
    assert [p.kind for p in summary.prompts] == ["bye"]
    db = voicecoach.open_log(db_path)
    assert [float(row["value"]) for row in db.query("select value from observations where kind = 'summary'")] == [7.0]
    assert db["prompts"].count == 1


def test_session_ended():
    summaries = []

    class Plugin:
        @hookimpl
        def session_ended(self, session, summary):
            summaries.append(summary)
            return Observation(kind="ignored")

    recorder = CallRecorder()
    run_conversation([("seller", "Hi.")], extra_plugins=[Plugin(), recorder])
    assert summaries[0].status == "ended" and summaries[0].utterances == 1
    assert recorder.observations == []  # what session_ended returns is ignored


def test_a_hook_that_raises_is_switched_off_and_the_call_goes_on():
    class Broken:
        @hookimpl
        def transcript(self, session, utterance):
            raise RuntimeError("boom")

    warnings = []
    recorder = CallRecorder()
    run_conversation([("seller", "One."), ("seller", "Two.")], extra_plugins=[Broken(), recorder], warnings=warnings)
    assert len(recorder.utterances) == 2
    assert len([w for w in warnings if "boom" in w]) == 1


def test_register_sources_a_profile_picks_the_live_source_by_name(transcriber):
    import numpy as np

    from voicecoach import SELLER, AudioChunk
    from voicecoach.coach import coach_live
    from voicecoach.plugins import pm
    from voicecoach.testing import make_profile

    class Tone:
        speakers = (SELLER,)

        def __init__(self, **options):
            self.options = options

        def describe(self):
            return "a test tone"

        def chunks(self):
            yield AudioChunk(SELLER, np.zeros(16000, np.float32), 0.0, time.monotonic())

        def stop(self):
            pass

    made = []

    class Plugin:
        @hookimpl
        def register_sources(self, register):
            register("tone", lambda **options: made.append(Tone(**options)) or made[-1])

    plugin = Plugin()
    pm.register(plugin, name="tone-source")
    try:
        profile = make_profile([])
        profile.source = "tone"
        summary = coach_live(profile, transcriber=transcriber, duration=1.0)
        assert summary.status == "ended" and made[0].options["capture"] == "two-way"
        profile.source = "no-such-source"
        with pytest.raises(Exception, match="source 'no-such-source' is not installed"):
            coach_live(profile, transcriber=transcriber)
    finally:
        pm.unregister(plugin)
