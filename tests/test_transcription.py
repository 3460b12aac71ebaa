"""What the speech engine invents on silence and noise never becomes a transcript line."""

import numpy as np
import pytest

from voicecoach.synth import ScriptLine, synthesize_call
from voicecoach import PROSPECT, SELLER
from voicecoach.coach import coach_recording
from voicecoach.testing import CallRecorder, make_profile
from voicecoach.transcription import (
    EncoderWindowTranscriber, Said, Transcription, ends_in_a_loop, is_hallucination, takes_context,
)


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


def speech(*texts: str, speaker: str = "prospect", pause: float = 0.5) -> np.ndarray:
    """One speaker saying ``texts`` one after the other, as the endpointer cuts it (a little
    quiet-room noise, 0.2 s of it before and after the words)."""
    call = synthesize_call(
        [ScriptLine(speaker, text, pause_before=0.2 if i == 0 else pause) for i, text in enumerate(texts)],
        tail=0.2, noise=0.001,
    )
    return call.prospect if speaker == "prospect" else call.seller


def words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() or c.isspace() else " " for c in text.lower()).split())


@pytest.fixture
def calls_to_the_engine(engine, monkeypatch):
    """How many clips the short window handed to the engine's own 30 s decoding."""
    handed = []
    decode = engine.transcribe
    monkeypatch.setattr(engine, "transcribe", lambda samples: handed.append(len(samples)) or decode(samples))
    return handed


@pytest.mark.slow
def test_a_short_utterance_is_heard_through_the_10_s_window(engine, calls_to_the_engine):
    windowed = EncoderWindowTranscriber(engine, 10)
    samples = speech("That sounds too expensive for us right now, to be honest.")
    assert windowed.fits(samples)
    heard = windowed.transcribe(samples)
    assert {"expensive", "right", "now", "honest"} <= words(heard.text), heard.text
    assert not is_hallucination(heard, len(samples) / 16000)
    assert heard.confidence is not None and heard.confidence > -1.0
    assert calls_to_the_engine == []


@pytest.mark.slow
def test_an_utterance_longer_than_the_window_is_decoded_whole_by_the_engine(engine, calls_to_the_engine):
    windowed = EncoderWindowTranscriber(engine, 10)
    samples = speech(
        "We have been running the shop with spreadsheets for about six years now.",
        "My brother keeps the books and he does not like change at all.",
        "What I really need is something simple that he can use on his phone.",
        pause=0.4,
    )
    assert 11 < len(samples) / 16000 < 14
    heard = windowed.transcribe(samples)
    assert calls_to_the_engine == [len(samples)]
    # Words from the first and the last sentence: nothing past 10 s was cut off.
    assert {"shop", "years", "brother", "phone"} <= words(heard.text), heard.text
    assert not is_hallucination(heard, len(samples) / 16000)


@pytest.mark.slow
def test_short_clips_do_not_loop_and_silence_stays_silent(engine):
    windowed = EncoderWindowTranscriber(engine, 10)
    rng = np.random.default_rng(3)
    for samples in (
        speech("Mm-hm."),
        speech("Right.", speaker="seller"),
        speech("Okay, so how much is it per month for a team of five?"),
        speech("I see.", "Go on.", pause=0.3),
    ):
        heard = windowed.transcribe(samples)
        assert heard.text.strip() and not is_hallucination(heard, len(samples) / 16000), heard.text
        assert len(heard.text.split()) <= 15, heard.text  # no phrase repeated to the end of the window
    for samples in (np.zeros(16000, np.float32), (rng.standard_normal(16000 * 2) * 0.01).astype(np.float32)):
        heard = windowed.transcribe(samples)
        assert not heard.text.strip() or is_hallucination(heard, len(samples) / 16000), heard.text


@pytest.mark.slow
def test_a_30_s_window_is_the_engine_unchanged(engine, calls_to_the_engine):
    windowed = EncoderWindowTranscriber(engine, 30)
    samples = speech("Thanks for joining me today, how is the team?", speaker="seller")
    assert not windowed.fits(samples)
    assert windowed.transcribe(samples).text == engine.transcribe(samples).text
    assert windowed.description == engine.description


@pytest.mark.slow
def test_an_utterance_heard_in_context_comes_back_with_its_own_words_only(transcriber, calls_to_the_engine):
    before = speech("Who else helps you with the paperwork?", speaker="seller")
    earlier = Said(before, transcriber.transcribe(before).text)
    assert "paperwork" in words(earlier.text), earlier.text
    samples = speech("How do you handle your bookkeeping today?", speaker="seller")
    heard = transcriber.transcribe(samples, context=[earlier])
    assert {"how", "handle", "today"} <= words(heard.text), heard.text
    assert not words(heard.text) & {"else", "helps", "paperwork"}, heard.text
    assert not is_hallucination(heard, len(samples) / 16000)
    # Quiet after speech: the earlier words explain the audio, nothing new is invented.
    quiet = (np.random.default_rng(5).standard_normal(16000) * 0.01).astype(np.float32)
    heard = transcriber.transcribe(quiet, context=[earlier])
    assert not heard.text.strip() or is_hallucination(heard, 1.0), heard.text
    assert calls_to_the_engine == []


@pytest.mark.slow
def test_context_too_long_for_the_window_is_left_out(engine):
    windowed = EncoderWindowTranscriber(engine, 10, context_seconds=6)
    second, silence = 16000, np.zeros
    older, newer = Said(silence(3 * second, np.float32), "older"), Said(silence(2 * second, np.float32), "newer")
    fits = windowed._context_that_fits
    assert fits(silence(second, np.float32), [older, newer]) == [older, newer]  # 5.3 s of 6
    assert fits(silence(5 * second, np.float32), [older, newer]) == [newer]  # the window holds 9.5 s
    assert fits(silence(second, np.float32), [Said(silence(7 * second, np.float32), "long"), newer]) == [newer]
    assert fits(silence(second, np.float32), [newer, Said(silence(second, np.float32), "")]) == []  # not heard
    assert EncoderWindowTranscriber(engine, 10, context_seconds=0)._context_that_fits(
        silence(second, np.float32), [newer]) == []


class ContextSpy:
    """The coach's engine, noting the context the pipeline hands it with each utterance."""

    def __init__(self, engine):
        self.engine, self.description, self.seen = engine, engine.description, []

    def warm_up(self):
        self.engine.warm_up()

    def transcribe(self, samples, context=()):
        result = self.engine.transcribe(samples, context=context)
        self.seen.append(([said.text for said in context], result.text))
        return result


@pytest.mark.slow
def test_the_pipeline_hands_each_speaker_its_own_earlier_words(transcriber, tmp_path):
    path = str(tmp_path / "call.wav")
    synthesize_call([
        ScriptLine(SELLER, "How many invoices do you send a month?", pause_before=0.3),
        ScriptLine(PROSPECT, "About forty, mostly by bank transfer.", pause_before=0.6),
        ScriptLine(SELLER, "And who does the books today?", pause_before=0.6),
        ScriptLine(PROSPECT, "My brother, on the weekends.", pause_before=0.6),
    ], tail=0.5).write_stereo(path)
    spy, recorder = ContextSpy(transcriber), CallRecorder()
    coach_recording(make_profile(["objections"]), input=path, transcriber=spy, plugins=[recorder])
    finals = {speaker: [u.text for u in recorder.utterances if u.speaker == speaker] for speaker in (SELLER, PROSPECT)}
    assert [len(texts) for texts in finals.values()] == [2, 2], finals
    for speaker, (first, second) in finals.items():
        # The second utterance was decoded with the first, and nothing of the other side.
        assert ([first], second) in spy.seen, (speaker, spy.seen)
    assert "weekends" in words(finals[PROSPECT][1]), finals


def test_engines_that_take_no_context_are_called_as_before(transcriber):
    class Plain:
        def transcribe(self, samples):
            return Transcription("")

    assert takes_context(transcriber) and not takes_context(Plain())


@pytest.mark.slow
@pytest.mark.parametrize("fast", [False, True])
def test_a_profiles_decoding_settings_and_fast_reach_the_engine(tmp_path, monkeypatch, fast):
    from click.testing import CliRunner

    from voicecoach import transcription
    from voicecoach.cli import build_cli

    made = []

    class Noted(transcription.EncoderWindowTranscriber):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr("voicecoach.default_plugins.faster_whisper_transcriber.EncoderWindowTranscriber", Noted)
    profile = tmp_path / "careful.yaml"
    profile.write_text("decoding:\n  beam_size: 3\n  context_seconds: 4\n  encoder_window: 15\n"
                       "plugins:\n  objections: {}\n")
    path = str(tmp_path / "call.wav")
    synthesize_call([ScriptLine(PROSPECT, "Honestly, that sounds too expensive for us right now.")],
                    tail=0.5).write_stereo(path)
    result = CliRunner().invoke(build_cli(), ["run", "--profile", str(profile), "--input", path,
                                              "--db", str(tmp_path / "log.db")] + (["--fast"] if fast else []))
    assert result.exit_code == 0, result.output
    [engine] = made
    assert (engine.encoder_window, engine.beam_size, engine.context_seconds) == ((15, 1, 0) if fast else (15, 3, 4))
    assert "1 utterances, 1 prompts" in result.output, result.output  # the price objection, heard


@pytest.mark.parametrize("seconds", [5, 9.9, 31])
def test_windows_whisper_breaks_on_are_refused(seconds):
    stub = type("Engine", (), {"description": "stub"})()
    with pytest.raises(ValueError, match="10 to 30 seconds"):
        EncoderWindowTranscriber(stub, seconds)


def test_a_unit_said_over_and_over_at_the_end_is_a_loop():
    assert ends_in_a_loop([32, 12, 40, 12, 40, 12, 40, 12, 40])  # "A-I-I-I-I"
    assert ends_in_a_loop([7] * 6)
    assert not ends_in_a_loop([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert not ends_in_a_loop([5, 5, 5])  # "no, no, no" is speech
