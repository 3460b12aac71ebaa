"""The example third-party package in examples/battle-cards, installed from its folder as CI does.

It must be found through its entry point, be enabled by a profile like any
bundled plugin, and prompt in a replayed call.
"""

import json
import subprocess
import sys

import pytest

from voicecoach import PROSPECT, SELLER
from voicecoach.coach import coach_recording
from voicecoach.synth import ScriptLine, synthesize_call
from voicecoach.testing import CallRecorder


def test_it_is_discovered_through_its_entry_point():
    output = subprocess.run(
        [sys.executable, "-m", "voicecoach", "plugins", "--json"], capture_output=True, text=True, check=True
    ).stdout
    plugins = {plugin["name"]: plugin for plugin in json.loads(output)}
    assert "battle_cards" in plugins, "pip install -e examples/battle-cards (make test does)"
    assert plugins["battle_cards"]["version"] == "0.1.0"  # the example package's own metadata


@pytest.mark.slow
def test_a_profile_enables_it_and_it_prompts_in_a_replayed_call(user_profiles, tmp_path, transcriber):
    (user_profiles / "cards.yaml").write_text(
        "description: Calls against the usual competitors\nplugins:\n  battle_cards: {}\n  objections: {}\n"
    )
    call = synthesize_call([
        ScriptLine(SELLER, "What do you use for your accounts today?", pause_before=0.3),
        ScriptLine(PROSPECT, "We already use QuickBooks for everything.", pause_before=0.6),
        ScriptLine(SELLER, "And how is that working out for you?", pause_before=0.6),
    ], tail=0.5)
    path = str(tmp_path / "call.wav")
    call.write_stereo(path)
    recorder = CallRecorder()
    summary = coach_recording("cards", input=path, transcriber=transcriber, plugins=[recorder])
    [card] = [prompt for prompt in summary.prompts if prompt.kind == "battle_card.quickbooks"]
    assert card.plugin == "battle_cards" and card.trigger.speaker == PROSPECT
    assert any(o.kind == "competitor_mentioned" for o in recorder.observations)
