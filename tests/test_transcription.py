"""What the speech engine invents on silence and noise never becomes a transcript line."""

import numpy as np
import pytest

from voicecoach.synth import ScriptLine, synthesize_call
from voicecoach.transcription import Transcription, is_hallucination


@pytest.mark.parametrize("text", [
    "Thank you for watching!",
    "Thanks for watching. Please subscribe.",
    "www.example.com",
    "Subtitles by the Amara.org community",
    "...",
    "",
    "I'm going to go. I'm going to go. I'm going to go. I'm going to go. I'm going to go.",
])
def test_stock_phrases_and_loops_are_dropped(text):
    assert is_hallucination(Transcription(text), duration=2.0)


@pytest.mark.parametrize("text", [
    "You can see our prices on acme.com, and the trial is free.",
    "Thanks for watching the demo with me, what did you think of it?",
    "That sounds too expensive for us right now.",
])
def test_real_talk_that_mentions_them_is_kept(text):
    assert not is_hallucination(Transcription(text), duration=4.0)


def test_too_many_words_for_a_blip_is_invented():
    assert is_hallucination(Transcription("one two three four five six seven eight nine ten eleven"), duration=0.5)


@pytest.mark.slow
def test_the_embedded_model_on_noise_and_silence_yields_no_lines(transcriber):
    rng = np.random.default_rng(7)
    for samples in (
        np.zeros(16000 * 3, np.float32),
        (rng.standard_normal(16000 * 3) * 0.05).astype(np.float32),  # hiss
        (0.3 * np.sin(2 * np.pi * 50 * np.arange(16000 * 3) / 16000)).astype(np.float32),  # mains hum
    ):
        result = transcriber.transcribe(samples)
        assert not result.text.strip() or is_hallucination(result, 3.0), result.text
    speech = synthesize_call([ScriptLine("seller", "Thanks for joining me today, how is the team?")]).seller
    heard = transcriber.transcribe(speech)
    assert "joining" in heard.text.lower() and not is_hallucination(heard, len(speech) / 16000)
