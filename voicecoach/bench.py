"""``voicecoach bench``: how soon after the words the coach answers, how well it hears, what it costs.

The benchmark writes its own calls: a fixed, seeded set of two-speaker sales calls
spoken by espeak-ng (:mod:`voicecoach.synth`), with short backchannels said over
the other speaker ("mm-hm", "right"), turns that start before the last one ended,
monologues of 20-40 s and pauses inside sentences. The synthesizer knows where
every line really ends, so each latency is measured from the true end of the words.

Each configuration runs the real pipeline (``coach_recording(..., realtime=True)``:
the file released at the pace of a live call; ``--live`` plays it through a private
PulseAudio server instead) with the objection, stage, talk-ratio, sentiment and log
plugins on, and reports:

* text latency: for each line, the time from the end of its words to the delivery
  to the plugins of the final transcript holding its last word (found by aligning
  the transcripts with the script, word by word);
* prompt latency: for each objection line, from the end of its words to the
  delivery of the objection's prompt (negative: prompted before the prospect finished);
* decode time per transcription, word error rate against the script, CPU of the
  whole machine, peak memory, and inner pauses where a sentence was cut in two.

Two baselines are simulated on the same audio with the same model object, the
way whisper_streaming's computation-aware simulation does it: audio "arrives" in
real time, each decode takes as long as it really took on this machine, and work
queues when decoding is slower than speech. Both baselines serve both channels
with one decoder, like the coach:

* ``5 s chunks``: each channel cut into fixed 5 s chunks, each transcribed once;
* ``LocalAgreement``: whisper_streaming's OnlineASRProcessor (re-decode the growing
  buffer once a second, commit the longest common prefix of two consecutive
  hypotheses, trim the buffer at committed sentence ends past 15 s).

It also measures the time from ``voicecoach run`` starting to listening, offline
throughput on a 10-minute call, and (``--long 60``) whether latency drifts over an
hour. Figures from the reference machine are in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import click
import numpy as np

from .audio import SAMPLE_RATE
from .events import PROSPECT, SELLER
from .hookspecs import hookimpl
from .profiles import Profile
from .report import percentile
from .transcription import (
    FAST_DECODING, MIN_ENCODER_WINDOW, WHISPER_WINDOW, EncoderWindowTranscriber, transcribe_in_context,
)

# -- the calls ------------------------------------------------------------------

# Quiet-room noise on both channels (-60 dBFS), so silence is not digital zero.
NOISE_RMS = 0.001
# Silence after the last line, so every system can hear the call end.
TAIL_SECONDS = 3.0
# How long espeak-ng takes per word (measured), for planning a call's length.
SECONDS_PER_WORD = 0.28

QUESTIONS = [
    "How do you handle your bookkeeping today?",
    "How many people work on the accounts with you?",
    "What is the hardest part of the month for you?",
    "How long does it take you to send out your invoices?",
    "Which bank does the business use?",
    "Who else helps you with the paperwork?",
    "What would you change about the way it works now?",
    "How do you keep track of your receipts at the moment?",
    "When do you usually sit down to do the books?",
    "What happens when a customer pays late?",
    "What made you take this call today?",
    "How do you pay your suppliers at the moment?",
]
ANSWERS = [
    "I do it myself in a spreadsheet, usually late at night.",
    "Just me and my brother, he helps out on the weekends.",
    "Sorting the receipts takes forever at the end of every month.",
    "It takes most of a Sunday, if I am honest with you.",
    "We bank with a small credit union here in town.",
    "My accountant looks at everything once a year.",
    "I would like to stop typing the same numbers twice.",
    "I keep them in a shoe box in the back office.",
    "Usually on Sunday evenings after dinner.",
    "We send a reminder, and then we give them a call.",
    "A friend told me your software saved her a lot of time.",
    "Mostly by bank transfer, and some of them by check.",
]
OBJECTIONS = [
    ("price", "Honestly, that sounds too expensive for a small shop like ours."),
    ("consult", "I have to check with my business partner first."),
    ("stall", "Let me think about it and get back to you next week."),
    ("timing", "This is a really busy time for us, call me back next month."),
    ("competitor", "We already use another program for our invoices."),
    ("price", "We really cannot afford another monthly bill this year."),
    ("stall", "Can you send me some information by email?"),
    ("doubt", "I am not sure it would work for a shop like ours."),
]
REPLIES = [
    "I understand. How much is your time worth to you each week?",
    "Of course. Would it help if we all met together on Friday?",
    "That makes sense. What would you need to see to feel sure?",
    "Fair enough. What do you like about the way you do it now?",
    "No problem at all. When would be a better time to talk again?",
    "I hear you. Can I show you what other shops saved in their first month?",
]
PITCH = [
    "Our software connects to your bank account and sorts every payment into the right category for you.",
    "When you take a photo of a receipt with your phone, it is read and filed in a few seconds.",
    "At the end of the month you get a simple report that shows where the money went and what is still owed.",
    "Invoices go out on their own, and the system sends a friendly reminder when a customer has not paid on time.",
    "Your accountant can log in with their own password, so you never have to send them a box of paper again.",
    "Most of our customers are small shops like yours, and they tell us they save about five hours every week.",
    "Setting it up takes about half an hour, and we do it together with you on a video call.",
    "If anything goes wrong, you can call our support team, and a real person answers the phone.",
    "There is no contract, so you can stop at any time if it is not working for you.",
    "We also keep a copy of everything in a safe place, so nothing is lost if your computer breaks.",
]
STORY = [
    "We opened the shop about six years ago, right after my daughter was born.",
    "At first it was just flowers, but now we also sell coffee and small gifts.",
    "Every morning I open at seven, and most days I do not sit down until the afternoon.",
    "The paperwork always waits until the evening, when I am already tired.",
    "Last spring we missed a tax deadline, and the fine was more than a week of sales.",
    "We had a bookkeeper for a while, but she moved away last summer.",
    "So right now it is me, a laptop, and a very full shoe box.",
    "My brother helps when he can, but he has his own job during the week.",
]
# A sentence said with a pause inside it: (first part, rest).
SPLIT = [
    (SELLER, "So what we usually do,", "is set everything up for you in the first week."),
    (PROSPECT, "The thing that worries me most,", "is losing the receipts before tax time."),
    (SELLER, "If you want,", "we can start with a free trial of thirty days."),
    (PROSPECT, "What I really need,", "is something my brother can use without any training."),
    (SELLER, "Before we go any further,", "can I ask how many invoices you send a month?"),
    (PROSPECT, "Last year,", "we spent almost two weeks on our taxes."),
]
BACKCHANNELS = ["Mm-hm.", "Right.", "Okay.", "Yeah.", "I see.", "Sure."]


@dataclass
class BenchLine:
    """One line of a benchmark call: a :class:`voicecoach.synth.ScriptLine` and what it is."""

    speaker: str
    text: str
    pause_before: float = 0.5
    overlap: float = 0.0
    kind: str = "turn"  # turn, backchannel, objection, monologue, split
    objection: Optional[str] = None  # the objection category the line raises
    continues: bool = False  # the sentence goes on after a pause: not the end of the words


@dataclass
class TrueLine:
    """A line where it really is in the synthesized audio."""

    speaker: str
    text: str
    start: float
    end: float
    kind: str = "turn"
    objection: Optional[str] = None
    continues: bool = False
    # The speaker stops here and the other one speaks next (backchannels aside):
    # the moment a coach must answer quickly.
    turn_end: bool = False


def mark_turn_ends(lines: list[TrueLine]) -> list[TrueLine]:
    turns = sorted((line for line in lines if line.kind != "backchannel"), key=lambda line: line.start)
    for line, following in zip(turns, turns[1:] + [None]):
        line.turn_end = following is None or following.speaker != line.speaker
    return lines


@dataclass
class BenchCall:
    name: str
    seed: int
    recipe: list[str]


class _Composer:
    """Builds a call from blocks; every choice comes from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.lines: list[BenchLine] = []
        self._decks: dict[int, list] = {}

    def draw(self, bank: list):
        """The next item of ``bank``: each is used once before any repeats."""
        deck = self._decks.setdefault(id(bank), [])
        if not deck:
            deck.extend(self.rng.sample(bank, len(bank)))
        return deck.pop()

    def add(self, *args, **kwargs) -> BenchLine:
        line = BenchLine(*args, **kwargs)
        self.lines.append(line)
        return line

    def backchannel(self, listener: str) -> None:
        """A short "mm-hm" said over the end of the line just added."""
        said = self.lines[-1]
        overlap = min(self.rng.uniform(0.6, 1.6), 0.5 * _estimate(said.text))
        self.add(listener, self.draw(BACKCHANNELS), overlap=round(overlap, 2), kind="backchannel")

    def pause(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 2)

    # The blocks a recipe is made of.

    def qa(self, backchannel=False, interrupt=False):
        question = self.add(SELLER, self.draw(QUESTIONS), pause_before=self.pause(0.5, 1.0))
        if interrupt:  # the prospect starts answering before the question is over
            overlap = min(self.rng.uniform(0.3, 0.8), 0.4 * _estimate(question.text))
            self.add(PROSPECT, self.draw(ANSWERS), overlap=round(overlap, 2))
        else:
            self.add(PROSPECT, self.draw(ANSWERS), pause_before=self.pause(0.5, 1.1))
        if backchannel:
            self.backchannel(SELLER)

    def objection(self):
        category, text = self.draw(OBJECTIONS)
        self.add(PROSPECT, text, pause_before=self.pause(0.6, 1.0), kind="objection", objection=category)
        self.add(SELLER, self.draw(REPLIES), pause_before=self.pause(0.5, 0.9))

    def monologue(self, speaker: str, bank: list, seconds: float, objection_at: Optional[int] = None):
        """Sentences by one speaker for about ``seconds``; some pauses between them are
        short enough to run sentences together into one long utterance."""
        listener = PROSPECT if speaker == SELLER else SELLER
        spoken, index = 0.0, 0
        while spoken < seconds:
            if index == objection_at:
                category, text = self.draw(OBJECTIONS)
                line = self.add(speaker, text, pause_before=self.pause(0.4, 0.6), kind="objection",
                                objection=category)
            else:
                short = self.rng.random() < 0.4
                line = self.add(speaker, self.draw(bank), kind="monologue",
                                pause_before=self.pause(0.15, 0.25) if short else self.pause(0.35, 0.6))
            spoken += _estimate(line.text) + line.pause_before
            index += 1
            if self.rng.random() < 0.35:
                self.backchannel(listener)

    def pitch(self):
        self.monologue(SELLER, PITCH, self.rng.uniform(25, 38))

    def story(self):
        self.monologue(PROSPECT, STORY, self.rng.uniform(20, 28), objection_at=self.rng.randint(2, 3))

    def split(self):
        speaker, first, rest = self.draw(SPLIT)
        self.add(speaker, first, pause_before=self.pause(0.5, 0.9), kind="split", continues=True)
        self.add(speaker, rest, pause_before=self.pause(0.35, 0.75), kind="split")


BLOCKS: dict[str, Callable[[_Composer], None]] = {
    "qa": lambda c: c.qa(),
    "qa+backchannel": lambda c: c.qa(backchannel=True),
    "interrupt": lambda c: c.qa(interrupt=True),
    "interrupt+backchannel": lambda c: c.qa(interrupt=True, backchannel=True),
    "objection": _Composer.objection,
    "pitch": _Composer.pitch,
    "story": _Composer.story,
    "split": _Composer.split,
}

# The fixed set: about 3 minutes in three calls.
CALL_SET = (
    BenchCall("discovery", 11, ["qa", "qa+backchannel", "interrupt", "split", "objection",
                                "interrupt+backchannel", "qa"]),
    BenchCall("objections", 12, ["objection", "qa+backchannel", "objection", "split", "objection",
                                 "interrupt", "objection"]),
    BenchCall("monologues", 13, ["qa", "pitch", "story", "split"]),
)
# About 15 s: a smoke test of the benchmark itself.
QUICK_CALL = BenchCall("quick", 7, ["objection", "split"])
# Blocks a long call is drawn from, and how often.
LONG_CALL_BLOCKS = {"qa": 3, "qa+backchannel": 3, "interrupt": 2, "interrupt+backchannel": 1, "objection": 3,
                    "split": 2, "pitch": 0.5, "story": 0.5}


def compose(call: BenchCall) -> list[BenchLine]:
    composer = _Composer(call.seed)
    for block in call.recipe:
        BLOCKS[block](composer)
    return composer.lines


def long_call(name: str, minutes: float, seed: int) -> BenchCall:
    """A call of about ``minutes``, of blocks drawn at random (seeded)."""
    rng = random.Random(seed)
    composer = _Composer(seed)
    recipe = []
    while _estimated_duration(composer.lines) < minutes * 60 - TAIL_SECONDS:
        block = rng.choices(list(LONG_CALL_BLOCKS), weights=list(LONG_CALL_BLOCKS.values()))[0]
        BLOCKS[block](composer)
        recipe.append(block)
    return BenchCall(name, seed, recipe)


def _estimated_duration(lines: list[BenchLine]) -> float:
    end = quiet = 0.0
    for line in lines:
        start = end - line.overlap if line.overlap > 0 else quiet + line.pause_before
        end = start + _estimate(line.text)
        quiet = max(quiet, end)
    return quiet


def _estimate(text: str) -> float:
    return SECONDS_PER_WORD * len(text.split())


@dataclass
class PreparedCall:
    """A synthesized call on disk and the truth about it."""

    name: str
    path: str  # stereo WAV, seller left, prospect right
    duration: float
    lines: list[TrueLine]
    seller_path: Optional[str] = None  # mono files, for --live
    prospect_path: Optional[str] = None

    def audio(self) -> dict[str, np.ndarray]:
        with wave.open(self.path, "rb") as f:
            pcm = np.frombuffer(f.readframes(f.getnframes()), "<i2").reshape(-1, f.getnchannels())
        samples = pcm.astype(np.float32) / 32768.0
        return {SELLER: samples[:, 0].copy(), PROSPECT: samples[:, 1].copy()}


def prepare(call: BenchCall, folder: str, mono: bool = False) -> PreparedCall:
    """Speak ``call`` with espeak-ng (clips are cached) and write it to ``folder``."""
    from .synth import ScriptLine, synthesize_call

    lines = compose(call)
    script = [ScriptLine(line.speaker, line.text, line.pause_before, line.overlap) for line in lines]
    synthesized = synthesize_call(script, seed=call.seed, tail=TAIL_SECONDS, noise=NOISE_RMS, title=call.name)
    path = os.path.join(folder, f"{call.name}.wav")
    synthesized.write_stereo(path)
    prepared = PreparedCall(
        name=call.name, path=path, duration=synthesized.duration,
        lines=mark_turn_ends([
            TrueLine(line.speaker, line.text, spoken.start, spoken.end, line.kind, line.objection, line.continues)
            for line, spoken in zip(lines, synthesized.lines)
        ]),
    )
    with open(os.path.join(folder, f"{call.name}.lines.json"), "w", encoding="utf-8") as f:
        json.dump({"name": call.name, "seed": call.seed, "duration": prepared.duration,
                   "lines": [asdict(line) for line in prepared.lines]}, f, indent=1)
        f.write("\n")
    if mono:
        prepared.seller_path = os.path.join(folder, f"{call.name}.seller.wav")
        prepared.prospect_path = os.path.join(folder, f"{call.name}.prospect.wav")
        synthesized.write_mono_pair(prepared.seller_path, prepared.prospect_path)
    return prepared


# -- words: normalising, aligning, scoring ---------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_CONTRACTIONS = {
    "i'm": "i am", "it's": "it is", "that's": "that is", "what's": "what is", "there's": "there is",
    "we're": "we are", "you're": "you are", "they're": "they are", "i've": "i have", "we've": "we have",
    "i'll": "i will", "we'll": "we will", "you'll": "you will", "i'd": "i would", "we'd": "we would",
    "can't": "can not", "cannot": "can not", "don't": "do not", "doesn't": "does not", "didn't": "did not",
    "isn't": "is not", "aren't": "are not", "won't": "will not", "wouldn't": "would not", "let's": "let us",
    "ok": "okay", "alright": "all right", "he's": "he is", "she's": "she is",
}
_BACKCHANNEL = re.compile(r"\b(?:m+-?h+m+|m+\s+h+m+|mhm+|hmm+|uh-?huh)\b")


def number_words(n: int) -> str:
    """0 to 999,999 in words, the way the script spells numbers."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    if n < 1_000_000:
        rest = n % 1000
        return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))
    return str(n)


def _number(match: re.Match) -> str:
    dollars, digits, percent = match.group(1), match.group(2).replace(",", ""), match.group(3)
    words = number_words(int(digits)) if digits.isdigit() else digits
    return f" {words}{' dollars' if dollars else ''}{' percent' if percent else ''} "


def words_of(text: str) -> list[str]:
    """Comparable words: lower case, no punctuation, numbers and contractions spelled out,
    every "mm-hm" alike."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\b[mh](?:-[mh])+\b", lambda match: match.group(0).replace("-", ""), text)  # "m-m-h-m"
    text = _BACKCHANNEL.sub(" mhm ", text)
    text = re.sub(r"(\$)?(\d[\d,]*)(%)?", _number, text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words = []
    for word in text.split():
        word = word.strip("'")
        if word:
            words.extend(_CONTRACTIONS.get(word, word).split())
    return words


@dataclass
class Heard:
    """Text a system delivered: for the coach a final transcript, for a baseline a
    committed word or chunk. ``start`` orders it in the audio; ``at`` is the session
    time it was delivered."""

    speaker: str
    start: float
    end: float
    text: str
    at: float


@dataclass
class Score:
    errors: int = 0
    reference_words: int = 0
    turns: list[float] = field(default_factory=list)  # turn ends -> text delivered
    turn_ends: int = 0
    missed: int = 0  # turn ends of which no word was heard
    objection_text: list[float] = field(default_factory=list)  # objection lines -> text delivered
    # Each delivered text holding a line's last word: from the end of the last such line.
    per_text: list[float] = field(default_factory=list)
    by_time: list[tuple[float, float]] = field(default_factory=list)  # (turn end, latency), for drift

    @property
    def wer(self) -> float:
        return self.errors / self.reference_words if self.reference_words else 0.0

    def add(self, other: "Score") -> None:
        for name in ("errors", "reference_words", "turn_ends", "missed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("turns", "objection_text", "per_text", "by_time"):
            getattr(self, name).extend(getattr(other, name))


# A heard word may stand for a script word only if their times are this close: text
# misheard later (a garbled backchannel) must not be taken for the end of an earlier turn.
ALIGN_TOLERANCE = 1.0


def align(reference: list[str], reference_spans: np.ndarray, hypothesis: list[str], hypothesis_spans: np.ndarray,
          tolerance: Optional[float] = ALIGN_TOLERANCE) -> tuple[list[Optional[int]], int]:
    """Minimum edit alignment of two word lists where a match or substitution needs the
    two words' time spans (rows of start, end) within ``tolerance`` seconds (None: any).
    Returns the hypothesis index each reference word is aligned to (or None) and the
    number of edits. One row at a time in numpy, so an hour's call aligns in seconds."""
    n, m = len(reference), len(hypothesis)
    vocabulary: dict[str, int] = {}
    ref_ids = np.array([vocabulary.setdefault(w, len(vocabulary)) for w in reference], dtype=np.int64)
    hyp_ids = np.array([vocabulary.setdefault(w, len(vocabulary)) for w in hypothesis], dtype=np.int64)
    steps = np.arange(m + 1, dtype=np.int64)
    previous = steps.copy()
    back = np.zeros((n + 1, m + 1), dtype=np.int8)  # 0 diagonal, 1 deletion, 2 insertion
    back[0, 1:] = 2
    forbidden = n + m + 1
    for i in range(1, n + 1):
        cost = (hyp_ids != ref_ids[i - 1]).astype(np.int64)
        if tolerance is not None and m:
            start, end = reference_spans[i - 1]
            near = (hypothesis_spans[:, 0] <= end + tolerance) & (hypothesis_spans[:, 1] >= start - tolerance)
            cost = np.where(near, cost, forbidden)
        diagonal = previous[:-1] + cost
        best = previous + 1
        back[i, 0] = 1
        take_diagonal = diagonal <= best[1:]
        best[1:] = np.where(take_diagonal, diagonal, best[1:])
        back[i, 1:] = np.where(take_diagonal, 0, 1)
        # An insertion continues a row: the cheapest over all earlier columns plus one per step.
        row = np.minimum.accumulate(best - steps) + steps
        back[i, row < best] = 2
        previous = row
    aligned: list[Optional[int]] = [None] * n
    i, j = n, m
    while i > 0 or j > 0:
        step = back[i, j]
        if step == 0:
            aligned[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif step == 1:
            i -= 1
        else:
            j -= 1
    return aligned, int(previous[m])


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions, deletions and insertions: jiwer's count when it is installed."""
    try:
        import jiwer
    except ImportError:
        return align(reference, np.zeros((len(reference), 2)), hypothesis, np.zeros((len(hypothesis), 2)),
                     tolerance=None)[1]
    if not hypothesis:
        return len(reference)
    output = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    return output.substitutions + output.deletions + output.insertions


def score(lines: list[TrueLine], heard: list[Heard]) -> Score:
    """Word error rate against the script, and when the text of each line's last word
    was delivered.

    The script and what was heard are aligned word by word per channel, matching
    only words close in time (:func:`align`). A line's end is delivered with the heard
    word aligned to the last of its words that was heard at all, so a dropped last
    word does not lose the line."""
    result = Score()
    for speaker in sorted({line.speaker for line in lines}):
        own = sorted((line for line in lines if line.speaker == speaker), key=lambda line: line.start)
        reference, line_of = [], []
        for index, line in enumerate(own):
            for word in words_of(line.text):
                reference.append(word)
                line_of.append(index)
        items = sorted((h for h in heard if h.speaker == speaker), key=lambda h: h.start)
        hypothesis, item_of = [], []
        for number, item in enumerate(items):
            for word in words_of(item.text):
                hypothesis.append(word)
                item_of.append(number)
        result.errors += word_errors(reference, hypothesis)
        result.reference_words += len(reference)
        aligned, _ = align(
            reference, np.array([(own[i].start, own[i].end) for i in line_of], dtype=float).reshape(-1, 2),
            hypothesis, np.array([(items[k].start, items[k].end) for k in item_of], dtype=float).reshape(-1, 2),
        )
        last_heard: dict[int, int] = {}  # line -> the item holding its last heard word
        for position, heard_at in enumerate(aligned):
            if heard_at is not None:
                last_heard[line_of[position]] = item_of[heard_at]
        ends: dict[int, float] = {}  # item -> the end of the last line it finished
        for index, line in enumerate(own):
            latency = None
            if index in last_heard:
                item = last_heard[index]
                ends[item] = max(ends.get(item, 0.0), line.end)
                latency = items[item].at - line.end
                if line.objection:
                    result.objection_text.append(latency)
            if line.turn_end:
                result.turn_ends += 1
                if latency is None:
                    result.missed += 1
                else:
                    result.turns.append(latency)
                    result.by_time.append((line.end, latency))
        result.per_text.extend(items[item].at - end for item, end in ends.items())
    return result


# -- measuring the coach --------------------------------------------------------


class TimedTranscriber:
    """The coach's speech engine, timing every decode it is asked for."""

    def __init__(self, engine):
        self.engine = engine
        self.description = getattr(engine, "description", "")
        self.decodes: list[tuple[float, float]] = []  # (audio seconds, decode seconds)
        self.concurrent_decodes = getattr(engine, "concurrent_decodes", 1)

    def warm_up(self) -> None:
        self.engine.warm_up()

    def transcribe(self, samples, context=()):
        started = time.monotonic()
        result = transcribe_in_context(self.engine, samples, context)
        self.decodes.append((len(samples) / SAMPLE_RATE, time.monotonic() - started))
        return result


class Watcher:
    """A session plugin noting the instant each transcript and prompt reached the plugins.

    ``on_start`` runs on its own thread ``start_delay`` seconds after the session
    starts (where a live run starts playing the call into the audio server)."""

    def __init__(self, on_start: Optional[Callable[[], object]] = None, start_delay: float = 0.0):
        self.on_start, self.start_delay = on_start, start_delay
        self.session_started_at: Optional[float] = None
        self.played_at: Optional[float] = None
        self.finals: list = []  # (monotonic instant, Utterance)
        self.partials: list = []
        self.prompts: list = []

    @hookimpl
    def session_started(self, session):
        self.session_started_at = time.monotonic()
        if self.on_start is not None:
            def start():
                time.sleep(self.start_delay)
                self.played_at = time.monotonic()
                self.on_start()

            threading.Thread(target=start, name="voicecoach-bench-play", daemon=True).start()

    @hookimpl
    def transcript(self, session, utterance):
        self.finals.append((time.monotonic(), utterance))

    @hookimpl
    def partial_transcript(self, session, utterance):
        self.partials.append((time.monotonic(), utterance))

    @hookimpl
    def prompt_delivered(self, session, prompt):
        self.prompts.append((time.monotonic(), prompt))

    def capture_zero(self) -> float:
        """The monotonic instant of session time 0.

        Audio ending at session time t reaches the pipeline at zero + t (a paced file
        releases it then; a device captures it then), and each utterance records when
        its last speech block arrived: the earliest such arrival, the one least
        delayed by a busy machine, fixes zero."""
        utterances = [u for _, u in self.finals + self.partials if u.timing.speech_ended_at]
        if not utterances:
            return self.session_started_at or 0.0
        return min(u.timing.speech_ended_at - u.end for u in utterances)

    def audio_zero(self) -> float:
        """The monotonic instant the call's own timeline starts: when it started
        playing into the audio server (live), or session time 0 (replay)."""
        return self.played_at if self.played_at is not None else self.capture_zero()


def current_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class RssSampler:
    """The process's resident memory, sampled while a run goes on; ``peak`` is the largest."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self.peak = 0.0
        self.samples: list[tuple[float, float]] = []  # (monotonic, MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voicecoach-bench-rss", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self):
        rss = current_rss_mb()
        self.peak = max(self.peak, rss)
        self.samples.append((time.monotonic(), rss))

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The plugins of a real call (the terminal sink aside), with prompts never held back,
# so a prompt's latency is the pipeline's and not the pacing's.
BENCH_PLUGINS = ("objections", "stages", "talk_ratio", "sentiment", "sqlite_log")
NO_PACING = {"min_interval": 0, "cooldown": 0, "max_age": 1e9}

# The coach's configurations: how much it decodes before the end of speech is confirmed.
CONFIGURATIONS = {
    "early + partials": {},
    "early decoding": {"partial_every": 0},
    "final only": {"early_silence": 0, "partial_every": 0},
}
DEFAULT_CONFIGURATION = "early + partials"
# The end-of-speech silence to try besides the default 0.3 s.
SWEEP_SILENCES = (0.2, 0.4, 0.5)


def bench_profile(endpointing: dict, name: str = "bench") -> Profile:
    return Profile(
        name=name, path=f"<{name} profile>", plugins={plugin: {} for plugin in BENCH_PLUGINS},
        arbitration=dict(NO_PACING), endpointing=dict(endpointing),
    )


@dataclass
class Configuration:
    endpointing: dict
    # Whisper's encoder window for utterances that fit (EncoderWindowTranscriber);
    # None: the coach's default.
    encoder_window: Optional[float] = None


@dataclass
class CallRun:
    """One call through the coach."""

    call: str
    duration: float
    wall: float
    cpu: float
    rss_peak: float
    score: Score
    prompt_latencies: list[float]  # objection lines -> their prompt
    objections: int  # objection lines
    false_prompts: int  # objection prompts no objection line explains
    inner_pauses: int
    inner_splits: int  # inner pauses where a final transcript ended
    decodes: list[tuple[float, float]]
    finals: int
    stats: dict
    realtime_factor: float
    heard: list[Heard] = field(default_factory=list)
    rss_samples: list[tuple[float, float]] = field(default_factory=list)


def run_coach(call: PreparedCall, engine, endpointing: dict, *, realtime: bool = True, server=None,
              warn=None) -> CallRun:
    """Coach ``call`` with the real pipeline and measure what it delivered when."""
    from .coach import coach_live, coach_recording

    timed = TimedTranscriber(engine)
    profile = bench_profile(endpointing)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as folder:
        db_path = os.path.join(folder, "log.db")
        players: list = []
        if server is None:
            watcher = Watcher()
        else:
            watcher = Watcher(
                on_start=lambda: players.extend([
                    server.play(call.seller_path, server.mic_sink), server.play(call.prospect_path, server.call_sink),
                ]),
                start_delay=1.0,
            )
        started_cpu, started = cpu_seconds(), time.monotonic()
        with RssSampler() as rss:
            if server is None:
                summary = coach_recording(profile, input=call.path, realtime=realtime, transcriber=timed,
                                          plugins=[watcher], db_path=db_path, warn=warnings.append)
            else:
                summary = coach_live(profile, seller_device=server.mic_monitor, prospect_device=server.call_monitor,
                                     duration=call.duration + 3.0, transcriber=timed, plugins=[watcher],
                                     db_path=db_path, warn=warnings.append)
                for player in players:
                    player.wait(timeout=30)
        wall, cpu = time.monotonic() - started, cpu_seconds() - started_cpu
    for message in warnings:
        if warn is not None:
            warn(message)
    zero = watcher.audio_zero()
    shift = watcher.capture_zero() - zero  # from session time to the call's timeline
    heard = [Heard(u.speaker, u.start + shift, u.end + shift, u.text, at - zero) for at, u in watcher.finals]
    prompt_latencies, explained = _objection_prompts(call.lines, watcher.prompts, zero, shift)
    objection_prompts = [p for _, p in watcher.prompts if p.kind.startswith("objection.")]
    pauses, splits = _inner_splits(call.lines, heard)
    return CallRun(
        call=call.name, duration=call.duration, wall=wall, cpu=cpu, rss_peak=rss.peak,
        score=score(call.lines, heard),  # without pacing only its word error rate means anything
        prompt_latencies=prompt_latencies,
        objections=sum(1 for line in call.lines if line.objection),
        false_prompts=len(objection_prompts) - explained,
        inner_pauses=pauses, inner_splits=splits, decodes=timed.decodes, finals=len(watcher.finals),
        stats=dict(summary.stats), realtime_factor=summary.realtime_factor, heard=heard, rss_samples=rss.samples,
    )


def _objection_prompts(lines: list[TrueLine], prompts: list, zero: float, shift: float) -> tuple[list[float], int]:
    """For each objection line, seconds from its end to the first prompt of its category
    triggered by words overlapping it; and how many objection prompts some line explains."""

    def said_in(trigger, line) -> bool:
        return (trigger is not None and trigger.speaker == line.speaker
                and trigger.start + shift < line.end + 0.3 and trigger.end + shift > line.start - 0.3)

    latencies = []
    for line in lines:
        if line.objection:
            for at, prompt in prompts:
                if prompt.kind == f"objection.{line.objection}" and said_in(prompt.trigger, line):
                    latencies.append(at - zero - line.end)
                    break
    explained = sum(
        1 for _, prompt in prompts
        if prompt.kind.startswith("objection.")
        and any(line.objection and said_in(prompt.trigger, line) for line in lines)
    )
    return latencies, explained


def _inner_splits(lines: list[TrueLine], heard: list[Heard]) -> tuple[int, int]:
    """Pauses inside sentences, and how many of them a final transcript ended in."""
    pauses = splits = 0
    for index, first in enumerate(lines):
        if not first.continues:
            continue
        second = next(line for line in lines[index + 1:] if line.speaker == first.speaker)
        pauses += 1
        if any(h.speaker == first.speaker and first.end - 0.3 <= h.end <= second.start for h in heard):
            splits += 1
    return pauses, splits


# -- the baselines: computation-aware simulations ---------------------------------

# The coach's own decoding settings, for the fixed-chunk baseline.
GREEDY = dict(language="en", beam_size=1, without_timestamps=True, condition_on_previous_text=False)
CHUNK_SECONDS = 5.0
# whisper_streaming's defaults: --min-chunk-size 1, beam 5, word timestamps, a 200-character
# prompt of committed text, its --vad option (faster-whisper's VAD filter), and
# sentence trimming once the buffer is longer than 15 s (segment trimming past 30 s).
MIN_CHUNK = 1.0
TRIM_SECONDS = 15.0
HARD_TRIM_SECONDS = 30.0
AGREEMENT_DECODE = dict(language="en", beam_size=5, word_timestamps=True, condition_on_previous_text=True,
                        vad_filter=True)


@dataclass
class BaselineRun:
    call: str
    duration: float
    heard: list[Heard]
    decodes: list[tuple[float, float]]  # (audio seconds, decode seconds)
    cpu: float
    score: Optional[Score] = None


class _Decoder:
    """The one model both channels share, timed."""

    def __init__(self, model):
        self.model = model
        self.decodes: list[tuple[float, float]] = []
        self.cpu = 0.0

    def __call__(self, samples: np.ndarray, **options) -> tuple[list, float]:
        started, started_cpu = time.monotonic(), cpu_seconds()
        segments, _ = self.model.transcribe(samples, **options)
        segments = list(segments)
        seconds = time.monotonic() - started
        self.cpu += cpu_seconds() - started_cpu
        self.decodes.append((len(samples) / SAMPLE_RATE, seconds))
        return segments, seconds


def simulate_chunks(call: PreparedCall, model, audio: dict[str, np.ndarray]) -> BaselineRun:
    """Fixed 5 s chunks per channel, each transcribed once, in the order they are complete
    (the prospect's first on a tie), one at a time."""
    decode = _Decoder(model)
    size = round(CHUNK_SECONDS * SAMPLE_RATE)
    jobs = []
    for order, speaker in enumerate((PROSPECT, SELLER)):
        samples = audio[speaker]
        for begin in range(0, len(samples), size):
            end = min(begin + size, len(samples))
            jobs.append((end / SAMPLE_RATE, order, speaker, begin, end))
    clock, heard = 0.0, []
    for available, _order, speaker, begin, end in sorted(jobs):
        segments, seconds = decode(audio[speaker][begin:end], vad_filter=True, **GREEDY)
        clock = max(clock, available) + seconds
        text = " ".join(segment.text.strip() for segment in segments)
        if text:
            heard.append(Heard(speaker, begin / SAMPLE_RATE, end / SAMPLE_RATE, text, clock))
    return BaselineRun(call.name, call.duration, heard, decode.decodes, decode.cpu)


class _AgreementChannel:
    """whisper_streaming's OnlineASRProcessor and HypothesisBuffer for one channel
    (LocalAgreement-2), fed by the simulation's clock instead of a live stream."""

    def __init__(self, speaker: str, samples: np.ndarray):
        self.speaker, self.samples = speaker, samples
        self.duration = len(samples) / SAMPLE_RATE
        self.offset = 0.0  # session time of the buffer's start
        self.received = 0.0  # session time up to which audio has arrived
        self.committed: list[tuple] = []  # (start, end, word), all of the call
        self.committed_in_buffer: list[tuple] = []
        self.previous: list[tuple] = []  # the last hypothesis, past what is committed
        self.last_committed_time = 0.0
        self.done = False

    def ready_at(self) -> float:
        return self.received + MIN_CHUNK

    def step(self, now: float, decode: _Decoder) -> tuple[list[tuple], float]:
        """Process the buffer with the audio arrived by ``now``; return the words committed
        and how long the decode took."""
        self.received = min(now, self.duration)
        buffer = self.samples[round(self.offset * SAMPLE_RATE): round(self.received * SAMPLE_RATE)]
        segments, seconds = decode(buffer, initial_prompt=self._prompt(), **AGREEMENT_DECODE)
        words = [(w.start + self.offset, w.end + self.offset, w.word) for s in segments for w in (s.words or [])]
        commit = self._insert_and_flush(words)
        self.committed.extend(commit)
        length = len(buffer) / SAMPLE_RATE
        if commit and length > TRIM_SECONDS:
            self._trim_at_sentence()
        if length > HARD_TRIM_SECONDS:
            self._trim_at_segment([s.end + self.offset for s in segments])
        if self.received >= self.duration:  # the stream ended: what is left is output as is
            commit = commit + self.previous
            self.previous = []
            self.done = True
        return commit, seconds

    def _prompt(self) -> str:
        k = max(0, len(self.committed) - 1)
        while k > 0 and self.committed[k - 1][1] > self.offset:
            k -= 1
        earlier = [word for _, _, word in self.committed[:k]]
        prompt, length = [], 0
        while earlier and length < 200:
            word = earlier.pop()
            length += len(word) + 1
            prompt.append(word)
        return "".join(reversed(prompt))

    def _insert_and_flush(self, words: list[tuple]) -> list[tuple]:
        new = [w for w in words if w[0] > self.last_committed_time - 0.1]
        if new and abs(new[0][0] - self.last_committed_time) < 1 and self.committed_in_buffer:
            # Words already committed, heard again at the start of the new hypothesis.
            for n in range(1, min(len(self.committed_in_buffer), len(new), 5) + 1):
                tail = " ".join(w[2] for w in self.committed_in_buffer[-n:])
                head = " ".join(w[2] for w in new[:n])
                if tail == head:
                    del new[:n]
                    break
        commit = []
        while new and self.previous and new[0][2] == self.previous[0][2]:
            commit.append(new[0])
            self.last_committed_time = new[0][1]
            new.pop(0)
            self.previous.pop(0)
        self.previous = new
        self.committed_in_buffer.extend(commit)
        return commit

    def _trim_at_sentence(self):
        sentences, start = [], None
        for word_start, word_end, word in self.committed:
            start = word_start if start is None else start
            if word.strip().endswith((".", "?", "!")):
                sentences.append((start, word_end))
                start = None
        if start is not None:
            sentences.append((start, self.committed[-1][1]))
        if len(sentences) >= 2:
            self._chunk_at(sentences[-2][1])

    def _trim_at_segment(self, ends: list[float]):
        if not self.committed or len(ends) < 2:
            return
        last = self.committed[-1][1]
        while len(ends) > 2 and ends[-2] > last:
            ends.pop()
        if ends[-2] <= last:
            self._chunk_at(ends[-2])

    def _chunk_at(self, at: float):
        while self.committed_in_buffer and self.committed_in_buffer[0][1] <= at:
            self.committed_in_buffer.pop(0)
        self.offset = max(self.offset, at)


def simulate_agreement(call: PreparedCall, model, audio: dict[str, np.ndarray],
                       speakers: tuple[str, ...] = (PROSPECT, SELLER)) -> BaselineRun:
    """LocalAgreement on ``speakers``' channels with one decoder: whichever channel has
    had a second of new audio longest goes next (the first listed on a tie)."""
    decode = _Decoder(model)
    channels = [_AgreementChannel(speaker, audio[speaker]) for speaker in speakers]
    clock, heard = 0.0, []
    while True:
        waiting = [(max(ch.ready_at(), clock), order, ch) for order, ch in enumerate(channels) if not ch.done]
        if not waiting:
            break
        start, _, channel = min(waiting, key=lambda item: item[:2])
        commit, seconds = channel.step(start, decode)
        clock = start + seconds
        heard.extend(Heard(channel.speaker, a, b, word, clock) for a, b, word in commit)
    return BaselineRun(call.name, call.duration, heard, decode.decodes, decode.cpu)


@dataclass
class Baseline:
    simulate: Callable[..., BaselineRun]
    speakers: tuple[str, ...] = (PROSPECT, SELLER)


BASELINES = {
    "5 s chunks": Baseline(simulate_chunks),
    "LocalAgreement (whisper_streaming)": Baseline(simulate_agreement),
    # whisper_streaming serves one stream: on the prospect's alone it is not starved by
    # the seller's channel (the setting of the reference figures in ENVIRONMENT.md).
    "LocalAgreement, prospect only": Baseline(
        lambda call, model, audio: simulate_agreement(call, model, audio, speakers=(PROSPECT,)), (PROSPECT,)),
}


def whole_file_wer(calls: list[PreparedCall], model) -> tuple[Score, float, float]:
    """Each channel transcribed at once, the way offline tools do (faster-whisper's
    defaults: beam 5, conditioned on previous text, its VAD filter): the accuracy a
    streaming coach is held to. Returns the score, audio seconds and seconds taken."""
    total, audio_seconds, seconds = Score(), 0.0, 0.0
    for call in calls:
        heard = []
        for speaker, samples in call.audio().items():
            started = time.monotonic()
            segments, _ = model.transcribe(samples, language="en", vad_filter=True)
            heard += [Heard(speaker, s.start, s.end, s.text, s.end) for s in segments]
            seconds += time.monotonic() - started
            audio_seconds += len(samples) / SAMPLE_RATE
        total.add(score(call.lines, heard))
    return total, audio_seconds, seconds


# -- start-up: the real command, in a child process ------------------------------------


def measure_startup(call: PreparedCall, folder: str, runs: int = 3) -> dict:
    """Seconds from starting ``voicecoach run --input CALL`` to its session starting
    (model loaded and warmed up, plugins started; the capture thread starts next),
    read from its ``--jsonl -`` output; and that process's peak memory over the call."""
    profile_path = os.path.join(folder, "bench-profile.yaml")
    import yaml

    with open(profile_path, "w", encoding="utf-8") as f:
        yaml.safe_dump({"description": "voicecoach bench", "arbitration": NO_PACING,
                        "plugins": {plugin: {} for plugin in BENCH_PLUGINS}}, f)
    command = _voicecoach_command() + ["run", "--input", call.path, "--profile", profile_path, "--jsonl", "-",
                                       "--db", os.path.join(folder, "startup.db")]
    environment = dict(os.environ, HF_HUB_OFFLINE="1")
    times, peaks = [], []
    for _ in range(runs):
        started = time.monotonic()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                 env=environment)
        listening, peak = None, 0.0
        for line in child.stdout:
            if listening is None and '"session_started"' in line:
                listening = time.monotonic() - started
            # The high-water mark of the running command (the child's rusage would also
            # count the copy of this process it was forked from).
            peak = max(peak, _high_water_mb(child.pid))
        if child.wait() != 0 or listening is None:
            raise click.ClickException(f"`{' '.join(command)}` failed (exit status {child.returncode})")
        times.append(listening)
        peaks.append(peak)
    return {"command": " ".join(["voicecoach"] + command[len(_voicecoach_command()):]),
            "listening_s": sorted(times), "peak_rss_mb": max(peaks) or None}


def _high_water_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _voicecoach_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "voicecoach")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "voicecoach"]


# -- the machine ------------------------------------------------------------------------


def machine() -> dict:
    model = platform.processor() or platform.machine()
    memory = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        model = names[0] if names else model
        with open("/proc/meminfo", encoding="ascii") as f:
            memory = int(next(line for line in f if line.startswith("MemTotal:")).split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count() or 1, "cpu": model, "memory_gb": round(memory, 1) if memory else None,
            "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}"}


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


# -- the benchmark ----------------------------------------------------------------------


@dataclass
class ConfigResult:
    name: str
    endpointing: dict
    runs: list[CallRun]

    def total(self) -> Score:
        total = Score()
        for run in self.runs:
            total.add(run.score)
        return total

    def summary(self, cores: int) -> dict:
        total = self.total()
        prompts = [latency for run in self.runs for latency in run.prompt_latencies]
        decodes = [seconds for run in self.runs for _, seconds in run.decodes]
        wall = sum(run.wall for run in self.runs)
        audio = sum(run.duration for run in self.runs)
        return {
            "configuration": self.name, "endpointing": self.endpointing,
            "turn_ends": total.turn_ends, "missed": total.missed,
            "turn_p50": percentile(total.turns, 0.5), "turn_p95": percentile(total.turns, 0.95),
            "turn_max": max(total.turns, default=None),
            "transcripts_measured": len(total.per_text),
            "transcript_p50": percentile(total.per_text, 0.5), "transcript_p95": percentile(total.per_text, 0.95),
            "transcript_max": max(total.per_text, default=None),
            "objections": sum(run.objections for run in self.runs), "prompted": len(prompts),
            "false_prompts": sum(run.false_prompts for run in self.runs),
            "prompt_p50": percentile(prompts, 0.5), "prompt_p95": percentile(prompts, 0.95),
            "prompt_max": max(prompts, default=None),
            "decodes": len(decodes), "finals": sum(run.finals for run in self.runs),
            "decode_p50": percentile(decodes, 0.5), "decode_p95": percentile(decodes, 0.95),
            "wer": total.wer,
            "cpu_machine": sum(run.cpu for run in self.runs) / wall / cores if wall else None,
            "cpu_per_audio_s": sum(run.cpu for run in self.runs) / audio if audio else None,
            "rss_peak_mb": max(run.rss_peak for run in self.runs),
            "inner_pauses": sum(run.inner_pauses for run in self.runs),
            "inner_splits": sum(run.inner_splits for run in self.runs),
            "capture_to_vad_p95": max((run.stats.get("capture_to_vad_p95") or 0) for run in self.runs),
            "partials": sum(run.stats.get("partials", 0) for run in self.runs),
            "early_decodes_used": sum(run.stats.get("early_decodes_used", 0) for run in self.runs),
        }


def _fmt(value, digits=2, scale=1.0, width=6) -> str:
    return f"{'-':>{width}}" if value is None else f"{value * scale:{width}.{digits}f}"


class Bench:
    """Runs the benchmark and prints as it goes; ``results`` is what ``--json`` saves."""

    def __init__(self, echo=click.echo, warn=None, model: Optional[str] = None):
        self.echo = echo
        self.warn = warn or (lambda message: None)
        self.model_name = model
        self.cores = os.cpu_count() or 1
        self.results: dict = {"machine": machine(), "load_before": load_average(), "argv": sys.argv[1:]}
        self.engine = None  # the coach's engine: faster-whisper with the default encoder window

    def load_model(self):
        from .default_plugins.faster_whisper_transcriber import faster_whisper

        started = time.monotonic()
        self.engine = faster_whisper(model=self.model_name)
        loaded = time.monotonic()
        self.engine.warm_up()
        self.results["model"] = {"description": self.engine.description, "load_s": loaded - started,
                                 "warm_up_s": time.monotonic() - loaded}

    def engine_with_window(self, seconds: Optional[float]):
        """The coach's engine with Whisper's encoder fed ``seconds`` (None: the default)."""
        if seconds is None or seconds == self.engine.encoder_window:
            return self.engine
        engine = EncoderWindowTranscriber(self.engine.engine, seconds)
        engine.warm_up()
        return engine

    @property
    def whisper(self):
        """The faster-whisper model object the coach uses: the baselines decode with it too."""
        return self.engine.engine._model

    def header(self, calls: list[PreparedCall], live: bool):
        m = self.results["machine"]
        audio = sum(call.duration for call in calls)
        lines = sum(len(call.lines) for call in calls)
        self.echo(f"machine: {m['cores']} cores, {m['cpu']}, {m['memory_gb']} GB RAM; Python {m['python']}; "
                  f"load average {self.results['load_before']}")
        self.echo(f"model: {self.results['model']['description']} (loaded in {self.results['model']['load_s']:.2f} s, "
                  f"warm-up {self.results['model']['warm_up_s']:.2f} s)")
        self.echo(f"calls: {', '.join(f'{c.name} {c.duration:.0f} s' for c in calls)} = {audio:.0f} s, {lines} lines "
                  f"(espeak-ng, seeded); {'live through a private PulseAudio server' if live else 'paced replay'}")

    def run_configurations(self, calls: list[PreparedCall], configurations: dict[str, Configuration],
                           server=None) -> list[ConfigResult]:
        results = []
        self.echo("")
        self.echo("The coach, real pipeline at real-time pace. Seconds from the end of the words to the text")
        self.echo("reaching the plugins: at each turn end, and for each final transcript (from the end of the last")
        self.echo("line it holds); and from the end of each objection to its prompt (negative: before the end).")
        self.echo(f"{'configuration':<26} {'turn end p50':>12} {'p95':>5} {'max':>5} {'missed':>6} | "
                  f"{'transcript p50':>14} {'p95':>5} {'max':>5} | {'objection p50':>13} {'p95':>5} {'max':>5} "
                  f"{'found':>5} {'false':>5} | load average")
        for name, configuration in configurations.items():
            engine = self.engine_with_window(configuration.encoder_window)
            runs = [run_coach(call, engine, configuration.endpointing, server=server, warn=self.warn)
                    for call in calls]
            result = ConfigResult(name, configuration.endpointing, runs)
            results.append(result)
            s = result.summary(self.cores)
            self.echo(
                f"{name:<26} {_fmt(s['turn_p50'], width=12)} {_fmt(s['turn_p95'], width=5)} "
                f"{_fmt(s['turn_max'], width=5)} {s['missed']:>2}/{s['turn_ends']:<3} | "
                f"{_fmt(s['transcript_p50'], width=14)} {_fmt(s['transcript_p95'], width=5)} "
                f"{_fmt(s['transcript_max'], width=5)} | {_fmt(s['prompt_p50'], width=13)} "
                f"{_fmt(s['prompt_p95'], width=5)} {_fmt(s['prompt_max'], width=5)} "
                f"{s['prompted']:>2}/{s['objections']:<2} {s['false_prompts']:>5} | {load_average()}"
            )
        self.echo("")
        self.echo(f"{'configuration':<26} {'decode p50 ms':>13} {'p95':>5} {'decodes':>8} {'WER %':>6} "
                  f"{'CPU % machine':>13} {'CPU s/audio s':>13} {'peak RSS MB':>11} {'inner pauses cut':>16}")
        for result in results:
            s = result.summary(self.cores)
            self.echo(
                f"{result.name:<26} {_fmt(s['decode_p50'], 0, 1000, 13)} {_fmt(s['decode_p95'], 0, 1000, 5)} "
                f"{s['decodes']:>8} {_fmt(s['wer'], 1, 100)} {_fmt(s['cpu_machine'], 1, 100, 13)} "
                f"{_fmt(s['cpu_per_audio_s'], 3, 1, 13)} {s['rss_peak_mb']:11.0f} "
                f"{s['inner_splits']:>10}/{s['inner_pauses']:<5}"
            )
        self.results.setdefault("configurations", []).extend(r.summary(self.cores) for r in results)
        return results

    def run_baselines(self, calls: list[PreparedCall], ours: ConfigResult, reference: Score) -> None:
        self.echo("")
        self.echo("Baselines, computation-aware simulation on the same audio with the same model object: audio")
        self.echo("arrives in real time, each decode takes the time it really took here, and decodes queue when")
        self.echo("they are slower than speech; one decoder serves the channels, as in the coach. Seconds from")
        self.echo("each turn end to its text (for a baseline: its last word committed); ratios are to the coach")
        self.echo("on the same turns.")

        def coach_on(speakers) -> Score:
            total = Score()
            for call, run in zip(calls, ours.runs):
                total.add(score([line for line in call.lines if line.speaker in speakers],
                                [h for h in run.heard if h.speaker in speakers]))
            return total

        audio = {call.name: call.audio() for call in calls}
        rows = [(f"coach: {ours.name}", ours.total(), None, None, None)]
        for name, baseline in BASELINES.items():
            total, decodes, cpu = Score(), [], 0.0
            for call in calls:
                run = baseline.simulate(call, self.whisper, audio[call.name])
                total.add(score([line for line in call.lines if line.speaker in baseline.speakers], run.heard))
                decodes += run.decodes
                cpu += run.cpu
            rows.append((name, total, decodes, cpu, coach_on(baseline.speakers)))
        rows.append(("whole file at once (offline)", reference, None, None, None))
        duration = sum(call.duration for call in calls)
        self.echo(f"{'system':<36} {'turn end p50':>12} {'p95':>6} {'max':>6} {'x ours p50':>10} {'x ours p95':>10} "
                  f"{'objection text p50':>18} {'WER %':>6} {'decoder busy %':>14} {'CPU s/audio s':>13}")
        saved = []
        for name, total, decodes, cpu, coach in rows:
            streaming = name != "whole file at once (offline)"
            p50, p95 = percentile(total.turns, 0.5), percentile(total.turns, 0.95)
            ratio50 = ratio95 = None
            if coach is not None and p50 is not None and coach.turns:
                ratio50 = p50 / percentile(coach.turns, 0.5)
                ratio95 = p95 / percentile(coach.turns, 0.95)
            busy = sum(seconds for _, seconds in decodes) / duration if decodes else None
            row = {
                "system": name, "turn_p50": p50 if streaming else None, "turn_p95": p95 if streaming else None,
                "turn_max": max(total.turns, default=None) if streaming else None,
                "ratio_p50": ratio50, "ratio_p95": ratio95,
                "objection_text_p50": percentile(total.objection_text, 0.5) if streaming else None,
                "wer": total.wer, "missed": total.missed, "turn_ends": total.turn_ends,
                "decoder_busy": busy, "cpu_per_audio_s": cpu / duration if decodes else None,
            }
            saved.append(row)
            self.echo(
                f"{name:<36} {_fmt(row['turn_p50'], width=12)} {_fmt(row['turn_p95'])} {_fmt(row['turn_max'])} "
                f"{_fmt(ratio50, 1, 1, 10)} {_fmt(ratio95, 1, 1, 10)} {_fmt(row['objection_text_p50'], width=18)} "
                f"{_fmt(total.wer, 1, 100)} {_fmt(busy, 0, 100, 14)} {_fmt(row['cpu_per_audio_s'], 3, 1, 13)}"
            )
        prospect = coach_on((PROSPECT,))
        self.echo(f"Prospect only: turns, WER and CPU of the prospect's channel alone (the coach there: turn end "
                  f"p50 {_fmt(percentile(prospect.turns, 0.5), width=0)} s, p95 "
                  f"{_fmt(percentile(prospect.turns, 0.95), width=0)} s, WER {100 * prospect.wer:.1f} %). "
                  f"Load average {load_average()}.")
        self.results["baselines"] = saved
        self.results["load_after_baselines"] = load_average()

    def run_offline(self, call: PreparedCall) -> None:
        """`run --input` as it is, and with `--fast` (greedy, no context)."""
        fast = EncoderWindowTranscriber(self.engine.engine, self.engine.encoder_window, **FAST_DECODING)
        self.echo("")
        for name, engine in (("run --input", self.engine), ("run --input --fast", fast)):
            run = run_coach(call, engine, {}, realtime=False, warn=self.warn)
            self.results.setdefault("offline", {})[name] = {
                "call_s": call.duration, "processing_s": run.wall,
                "realtime_factor": call.duration / run.wall if run.wall else None,
                "wer": run.score.wer, "load": load_average()}
            self.echo(f"Offline (`{name}`, no pacing): a {call.duration / 60:.1f}-minute call in {run.wall:.1f} s = "
                      f"{call.duration / run.wall:.1f}x real time, WER {100 * run.score.wer:.1f} % "
                      f"(load {load_average()})")

    def run_startup(self, call: PreparedCall, folder: str, runs: int) -> None:
        startup = measure_startup(call, folder, runs)
        self.results["startup"] = startup
        times = startup["listening_s"]
        self.echo("")
        self.echo(f"Start to listening: {' / '.join(f'{t:.2f}' for t in times)} s over {runs} runs "
                  f"(median {times[len(times) // 2]:.2f} s): from starting `{startup['command']}` to its "
                  f"session_started event (model loaded and warmed up, capture starting); that process's peak "
                  f"RSS {_fmt(startup['peak_rss_mb'], 0, 1, 0)} MB")

    def run_drift(self, call: PreparedCall, window_minutes: float = 10.0) -> None:
        result = ConfigResult(DEFAULT_CONFIGURATION, {}, [run_coach(call, self.engine, {}, warn=self.warn)])
        run = result.runs[0]
        window = window_minutes * 60
        first = [latency for end, latency in run.score.by_time if end <= window]
        last = [latency for end, latency in run.score.by_time if end >= call.duration - window]
        p95_first, p95_last = percentile(first, 0.95), percentile(last, 0.95)
        rss = run.rss_samples
        drift = {
            "call_s": call.duration, "first_p95": p95_first, "last_p95": p95_last,
            "change": (p95_last / p95_first - 1) if p95_first and p95_last is not None else None,
            "first_p50": percentile(first, 0.5), "last_p50": percentile(last, 0.5),
            "rss_start_mb": rss[0][1] if rss else None, "rss_end_mb": rss[-1][1] if rss else None,
            "summary": result.summary(self.cores), "load": load_average(),
        }
        self.results["drift"] = drift
        self.echo("")
        self.echo(f"Drift over a {call.duration / 60:.0f}-minute call ({DEFAULT_CONFIGURATION}): turn end p95 "
                  f"{_fmt(p95_first, width=0)} s in the first {window_minutes:.0f} minutes, {_fmt(p95_last, width=0)} s "
                  f"in the last {window_minutes:.0f} ({_fmt(drift['change'], 0, 100, 0)} %); p50 "
                  f"{_fmt(drift['first_p50'], width=0)} -> {_fmt(drift['last_p50'], width=0)} s; RSS "
                  f"{_fmt(drift['rss_start_mb'], 0, 1, 0)} -> {_fmt(drift['rss_end_mb'], 0, 1, 0)} MB; "
                  f"CPU {_fmt(drift['summary']['cpu_machine'], 1, 100, 0)} % of the machine (load {load_average()})")


def _start_audio_server():
    """The test suite's private PulseAudio server (a checkout's tests/audio_server.py)."""
    tests = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
    if not os.path.exists(os.path.join(tests, "audio_server.py")):
        raise click.ClickException("--live needs a checkout of the repository (tests/audio_server.py)")
    sys.path.insert(0, tests)
    from audio_server import PulseServer

    try:
        return PulseServer().start()
    except RuntimeError as error:
        raise click.ClickException(f"--live: {error}")


@click.command(name="bench")
@click.option("--quick", is_flag=True, help="One 15-second call and the default configuration: checks the "
              "benchmark works; its figures mean little.")
@click.option("--config", "config_names", multiple=True, type=click.Choice(list(CONFIGURATIONS) + ["all"]),
              help=f"Coach configurations to run (repeatable; default: {DEFAULT_CONFIGURATION!r}; all: the three).")
@click.option("--sweep", is_flag=True, help="Also run the default configuration with the end-of-speech silence "
              f"(min_silence) at {', '.join(f'{s:g}' for s in SWEEP_SILENCES)} s instead of 0.3 s (3 more passes).")
@click.option("--live", is_flag=True, help="Play the calls through a private PulseAudio server and capture them "
              "like a live call (needs pulseaudio and a checkout's tests/audio_server.py).")
@click.option("--long", "long_minutes", type=float, default=0, show_default=True,
              help="Also coach one call of this many minutes in real time and compare the latency of its first "
              "and last 10 minutes (60 for the drift target; 0: off).")
@click.option("--offline-minutes", type=float, default=10, show_default=True,
              help="Length of the call for offline throughput (0: skip).")
@click.option("--encoder-window", "--audio-ctx", "encoder_window", type=float,
              help="Also run the default configuration with Whisper's encoder fed this many seconds (10 to 30) "
              "for utterances that fit, instead of the coach's default 10 (30: every clip padded to 30 s, as "
              "faster-whisper does).")
@click.option("--no-baselines", is_flag=True, help="Skip the simulated baselines.")
@click.option("--startup-runs", type=int, default=3, show_default=True, help="How many times to time start-up.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also save every figure as JSON.")
@click.option("--keep", type=click.Path(file_okay=False), help="Keep the synthesized calls here (stereo WAV, "
              "and each line's text and true start and end as JSON).")
@click.option("--model", help="faster-whisper model folder or installed name (default: embedded tiny.en).")
def bench_command(quick, config_names, sweep, live, long_minutes, offline_minutes, encoder_window, no_baselines,
                  startup_runs, json_path, keep, model):
    """Measure latency, accuracy and cost on synthesized calls, against the usual approaches.

    Speaks a fixed, seeded set of two-speaker calls with espeak-ng, coaches them with
    the real pipeline at the pace of a live call, and simulates fixed 5 s chunks and
    whisper_streaming's LocalAgreement on the same audio with the same model. The
    default run takes about 10 minutes; figures are noisy on a busy machine (the load
    average is printed with each table).
    """
    started = time.monotonic()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if "all" in config_names:
        names = list(CONFIGURATIONS)
    elif config_names:
        names = list(dict.fromkeys(config_names))
    else:
        names = [DEFAULT_CONFIGURATION]
    configurations = {name: Configuration(CONFIGURATIONS[name]) for name in names}
    if sweep:
        for silence in SWEEP_SILENCES:
            configurations[f"min_silence {silence:g} s"] = Configuration({"min_silence": silence})
    if encoder_window:
        if not MIN_ENCODER_WINDOW <= encoder_window <= WHISPER_WINDOW:
            raise click.BadParameter(f"must be {MIN_ENCODER_WINDOW:g} to {WHISPER_WINDOW:g} seconds",
                                     param_hint="--encoder-window")
        configurations[f"encoder window {encoder_window:g} s"] = Configuration({}, encoder_window)
    bench = Bench(warn=lambda message: click.echo(f"voicecoach bench: warning: {message}", err=True), model=model)
    folder = keep or tempfile.mkdtemp(prefix="voicecoach-bench-")
    os.makedirs(folder, exist_ok=True)
    try:
        _run_bench(bench, folder, quick, configurations, live, long_minutes, offline_minutes, no_baselines,
                   startup_runs)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    bench.results["seconds"] = time.monotonic() - started
    bench.results["load_after"] = load_average()
    click.echo("")
    click.echo(f"Benchmark took {bench.results['seconds'] / 60:.1f} minutes; load average now {load_average()}.")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(bench.results, f, indent=1, default=str)
            f.write("\n")


def _run_bench(bench: Bench, folder: str, quick: bool, configurations: dict, live: bool, long_minutes: float,
               offline_minutes: float, no_baselines: bool, startup_runs: int) -> None:
    from .synth import SynthesisError
    from .transcription import ModelError

    server = None
    try:
        specs = [QUICK_CALL] if quick else list(CALL_SET)
        calls = [prepare(spec, folder, mono=live) for spec in specs]
        bench.load_model()
        bench.header(calls, live)
        if live:
            server = _start_audio_server()
        results = bench.run_configurations(calls, configurations, server)
        ours = next((r for r in results if r.name == DEFAULT_CONFIGURATION), results[0])
        if not no_baselines:
            reference, _, _ = whole_file_wer(calls, bench.whisper)
            bench.results["whole_file_wer"] = reference.wer
            bench.run_baselines(calls, ours, reference)
        if offline_minutes > 0:
            offline = calls[0] if quick else prepare(long_call("offline", offline_minutes, seed=10), folder)
            bench.run_offline(offline)
        if startup_runs > 0:
            short = calls[0] if quick else prepare(QUICK_CALL, folder)
            bench.run_startup(short, folder, 1 if quick else startup_runs)
        if long_minutes > 0:
            bench.run_drift(prepare(long_call("long", long_minutes, seed=60), folder))
    except (SynthesisError, ModelError) as error:
        raise click.ClickException(str(error).splitlines()[0])
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    bench_command()
