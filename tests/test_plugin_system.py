"""The plugin contract: loading, validation, isolation and per-session plugins."""

import json
import os
import subprocess
import sys
import time

import pytest

import voicecoach
import voicecoach.testing
from voicecoach import HIGH, Observation, Prompt, hookimpl
from voicecoach.plugins import PluginError, check_hooks, pm
from voicecoach.testing import run_conversation

CALL = [
    ("seller", "Thanks for joining, what made you take this call?"),
    ("prospect", "We need better bookkeeping."),
    ("seller", "Tell me more about that."),
]


def plugins_listed(env_value):
    env = dict(os.environ)
    if env_value is None:
        env.pop("VOICECOACH_LOAD_PLUGINS", None)
    else:
        env["VOICECOACH_LOAD_PLUGINS"] = env_value
    output = subprocess.run(
        [sys.executable, "-m", "voicecoach", "plugins", "--json"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    return {plugin["name"] for plugin in json.loads(output)}


def test_load_plugins_environment_switch():
    everything = plugins_listed(None)
    assert {"objections", "stages", "talk_ratio", "sqlite_log", "terminal"} <= everything
    defaults = {"file_source", "device_source", "faster_whisper_transcriber"}
    assert plugins_listed("") == defaults
    assert plugins_listed("objections,terminal") == defaults | {"objections", "terminal"}


def test_a_misspelled_hook_is_an_error():
    class Typo:
        @hookimpl
        def transcirpt(self, session, utterance):
            pass

    plugin = Typo()
    pm.register(plugin, name="typo")
    try:
        with pytest.raises(PluginError, match="transcirpt"):
            check_hooks()
    finally:
        pm.unregister(plugin)


class Recorder:
    """Records every per-call hook in order."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def session_started(self, session):
        self.calls.append("session_started")

    @hookimpl
    def speech_activity(self, session, activity):
        self.calls.append(f"speech_activity:{activity.speaker}:{'start' if activity.is_start else 'end'}")

    @hookimpl
    def transcript(self, session, utterance):
        self.calls.append(f"transcript:{utterance.speaker}")

    @hookimpl
    def prompt_delivered(self, session, prompt):
        self.calls.append(f"prompt_delivered:{prompt.kind}")

    @hookimpl
    def observed(self, session, observation):
        self.calls.append(f"observed:{observation.kind}")

    @hookimpl
    def session_ending(self, session, now):
        self.calls.append("session_ending")

    @hookimpl
    def session_ended(self, session, summary):
        self.calls.append("session_ended")


class Broken:
    @hookimpl
    def transcript(self, session, utterance):
        raise RuntimeError("crm is down")


class Coach:
    @hookimpl
    def transcript(self, session, utterance):
        if utterance.speaker == "prospect":
            return [Prompt(kind="demo.need", text="Ask what 'better' means", priority=HIGH, key=str(utterance.id)),
                    Observation(kind="need", value="bookkeeping")]


class Summariser:
    @hookimpl
    def session_ending(self, session, now):
        return Observation(kind="call_summary", value=round(now, 1))


def test_what_session_ending_returns_reaches_the_sinks_before_they_close(db_path):
    recorder = Recorder()
    run_conversation(CALL, extra_plugins=[Summariser(), recorder], plugins=["sqlite_log"], db_path=db_path)
    assert recorder.calls[-3:] == ["session_ending", "observed:call_summary", "session_ended"]
    db = voicecoach.open_log(db_path, create=False)
    [row] = db.query("select value from observations where kind = 'call_summary'")
    assert float(row["value"]) > 0


def test_hooks_fire_in_the_documented_order():
    recorder = Recorder()
    run_conversation(CALL, extra_plugins=[Coach(), recorder])
    calls = recorder.calls
    assert calls[0] == "session_started" and calls[-1] == "session_ended"
    first_prospect = calls.index("transcript:prospect")
    # timing arrives before the words: the prospect's speech spans precede their transcript
    assert calls.index("speech_activity:prospect:start") < calls.index("speech_activity:prospect:end") < first_prospect
    assert calls.index("observed:need") > first_prospect
    assert calls.index("prompt_delivered:demo.need") > first_prospect
    assert calls.count("transcript:seller") == 2


def test_a_crashing_plugin_is_switched_off_and_the_call_goes_on(db_path):
    warnings = []
    recorder = Recorder()
    summary = run_conversation(
        CALL + [("prospect", "We also need payroll.")],
        plugins=["sqlite_log"],
        extra_plugins=[Broken(), Coach(), recorder],
        db_path=db_path,
        warnings=warnings,
    )
    crash_warnings = [w for w in warnings if "crm is down" in w]
    assert len(crash_warnings) == 1  # reported once, not once per utterance
    assert "switched off" in crash_warnings[0] and "transcript" in crash_warnings[0]
    assert [p.kind for p in summary.prompts] == ["demo.need", "demo.need"]
    db = voicecoach.open_log(db_path)
    assert db["utterances"].count == 4
    assert db["prompts"].count == 2


def test_session_objects_are_unregistered_after_the_session():
    before = set(pm.list_name_plugin())
    run_conversation(CALL, plugins=["terminal"], extra_plugins=[Recorder()])
    assert set(pm.list_name_plugin()) == before


def test_plugins_registered_for_a_session_only_see_that_session():
    first, second = Recorder(), Recorder()
    run_conversation(CALL, extra_plugins=[first])
    run_conversation(CALL[:1], extra_plugins=[second])
    assert first.calls.count("session_started") == 1
    assert second.calls.count("transcript:seller") == 1


class Sluggish:
    """A coach that takes 300 ms on every utterance (a slow CRM lookup, say)."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def transcript(self, session, utterance):
        started = time.monotonic()
        time.sleep(0.3)
        self.calls.append((started, time.monotonic()))


def test_a_slow_plugin_is_reported_once_and_holds_back_no_other_prompt(db_path):
    sluggish, recorder = Sluggish(), voicecoach.testing.CallRecorder()
    warnings = []
    lines = [("prospect", "That is too expensive for us."), ("prospect", "I need to talk to my wife first."),
             ("prospect", "Let me think about it.")]
    summary = run_conversation(lines, plugins=["objections", "sqlite_log"], extra_plugins=[sluggish, recorder],
                               db_path=db_path, warnings=warnings)
    slow = [w for w in warnings if "is slow" in w]
    assert len(slow) == 1 and "transcript took" in slow[0] and "now runs after the other plugins" in slow[0]
    assert len(summary.prompts) == 3 and len(sluggish.calls) == 3
    # After the first utterance, each objection prompt went out before the slow plugin was even called.
    delivered = [at for at, prompt in recorder.prompts if prompt.kind.startswith("objection.")]
    for (slow_started, _), prompt_at in list(zip(sluggish.calls, delivered))[1:]:
        assert prompt_at < slow_started
    assert voicecoach.open_log(db_path)["prompts"].count == 3  # the log is intact
