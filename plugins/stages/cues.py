"""Cue phrases: the words that show which stage a call is in.

Speech recognition text is normalised first (case, punctuation, contractions,
"too"/"to"), so a cue written "can't afford" matches "cannot afford" and "cant
afford". ``(a|b|)`` in a cue is a choice of words; an empty choice is optional.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

NEGATORS = frozenset({"not", "no", "never"})
CONTRACTIONS = {
    "can't": "can not", "cant": "can not", "cannot": "can not", "won't": "will not", "wont": "will not",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not", "arent": "are not",
    "wasnt": "was not", "werent": "were not", "havent": "have not", "hasnt": "has not",
    "wouldnt": "would not", "couldnt": "could not", "shouldnt": "should not",
    "im": "i am", "ive": "i have", "youre": "you are", "youll": "you will", "theyre": "they are",
    "it's": "it is", "its": "it is", "that's": "that is", "thats": "that is",
    "what's": "what is", "whats": "what is", "here's": "here is", "heres": "here is",
    "there's": "there is", "theres": "there is", "how's": "how is", "hows": "how is",
    "who's": "who is", "where's": "where is", "he's": "he is", "she's": "she is",
    "name's": "name is", "let's": "let us", "gonna": "going to", "wanna": "want to", "gotta": "got to",
    "ok": "okay", "o'clock": "o clock", "oclock": "o clock",
}
SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"), ("'m", " am"))
HOMOPHONES = {"too": "to", "two": "to"}
FILLERS = frozenset({"um", "umm", "uh", "uhm", "erm", "er", "ah", "hmm", "hm", "mm", "mhm"})
# Hedges and intensifiers sit inside phrases without changing which stage they
# point to ("that's kind of steep", "we also offer", "I just don't really need it"),
# so they are dropped from both the cues and the speech.
HEDGES = frozenset({
    "really", "actually", "honestly", "basically", "literally", "totally", "definitely",
    "truly", "also", "even", "pretty", "kinda", "sorta", "typically", "usually", "normally", "generally",
})
HEDGE_PAIRS = frozenset({("kind", "of"), ("sort", "of")})
WORD = re.compile(r"[a-z0-9']+")
JOINERS = re.compile(r"[-/]")
THOUSANDS = re.compile(r"(?<=\d),(?=\d)")
NUMBER = re.compile(r"\d+")


def words_of(text: str) -> list[str]:
    """Lowercase words of ``text`` with contractions expanded and plurals trimmed."""
    text = JOINERS.sub(" ", text.lower().replace("\u2019", "'"))
    if any(character.isdigit() or character in "%$" for character in text):
        # The recogniser writes "30%", "$49" and "9am" where a script says "thirty percent",
        # "49 dollars" and "nine a m": numbers become words, so cues need only one spelling.
        text = text.replace("%", " percent ").replace("$", " dollars ")
        text = NUMBER.sub(lambda match: f" {_spoken_number(match.group())} ", THOUSANDS.sub("", text))
    words = []
    for spoken in WORD.findall(text):
        spoken = spoken.strip("'")
        if not spoken or spoken in FILLERS or spoken in HEDGES:
            continue
        for word in _expand(spoken).split():
            words.append(_trim_plural(HOMOPHONES.get(word, word)))
    return _drop_hedge_pairs(words)


def _drop_hedge_pairs(words: list[str]) -> list[str]:
    kept = []
    for word in words:
        if kept and (kept[-1], word) in HEDGE_PAIRS and (len(kept) < 2 or kept[-2] != "what"):
            kept.pop()
            continue
        kept.append(word)
    return kept


UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _spoken_number(digits: str) -> str:
    """ "45" -> "forty five", "800" -> "eight hundred"; longer numbers stay digits."""
    number = int(digits)
    if number < 20:
        return UNITS[number]
    if number < 100:
        return TENS[number // 10] + ("" if number % 10 == 0 else " " + UNITS[number % 10])
    if number < 1000 and number % 100 == 0:
        return UNITS[number // 100] + " hundred"
    if number < 100000 and number % 1000 == 0:
        return _spoken_number(str(number // 1000)) + " thousand"
    return digits


def _expand(word: str) -> str:
    if word in CONTRACTIONS:
        return CONTRACTIONS[word]
    for ending, replacement in SUFFIXES:
        if word.endswith(ending):
            return word[: -len(ending)] + replacement
    return word[:-2] if word.endswith("'s") else word.replace("'", "")


def _trim_plural(word: str) -> str:
    # "features"/"feature", "steps"/"step": one form is enough for cues.
    if len(word) >= 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Cue:
    source: str
    # The phrase as a run of slots, each a choice of word sequences; () makes a slot optional.
    slots: tuple[tuple[tuple[str, ...], ...], ...]
    negated: bool

    def first_words(self) -> set[str]:
        """Every word a spelling of this cue can start with."""
        first = set()
        for slot in self.slots:
            first.update(option[0] for option in slot if option)
            if () not in slot:
                break
        return first

    def said_at(self, words: list[str], start: int) -> bool:
        """Whether some spelling of the cue is ``words[start:...]``."""
        return self._said_from(0, words, start)

    def _said_from(self, slot: int, words: list[str], position: int) -> bool:
        if slot == len(self.slots):
            return True
        for option in self.slots[slot]:
            end = position + len(option)
            if tuple(words[position:end]) == option and self._said_from(slot + 1, words, end):
                return True
        return False


def compile_cue(source: str) -> Cue:
    """``"get (started|going)"`` -> a cue matching "get started" and "get going"."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError("a cue must be a non-empty phrase")
    if re.search(r"\([^()]*\(", source):
        raise ValueError(f"cue {source!r}: choices cannot be nested")
    parts = re.split(r"(\([^()]*\))", source)
    if any(char in part for part in parts if not part.startswith("(") for char in "()"):
        raise ValueError(f"cue {source!r} has an unmatched bracket")
    slots = []
    for part in parts:
        options = part[1:-1].split("|") if part.startswith("(") else [part]
        for option in options:
            dropped = [word for word in WORD.findall(option.lower()) if word in HEDGES]
            if dropped:
                raise ValueError(f"cue {source!r}: {dropped[0]!r} is dropped from speech before matching; leave it out")
        slot = tuple(dict.fromkeys(tuple(words_of(option)) for option in options))
        if slot != ((),):  # text between choices that is only spaces
            slots.append(slot)
    if all(() in slot for slot in slots):
        raise ValueError(f"cue {source!r} has no words")
    negated = any(word in NEGATORS for slot in slots for option in slot for word in option)
    return Cue(source, tuple(slots), negated)


class CueList:
    """Cues compiled for fast search: each indexed by the words it can start with."""

    def __init__(self, cues: Iterable[Cue] = ()):
        self.cues = list(cues)
        self._by_first: dict[str, list] = {}
        for order, cue in enumerate(self.cues):
            for word in cue.first_words():
                self._by_first.setdefault(word, []).append((order, cue))

    def __len__(self) -> int:
        return len(self.cues)

    def __add__(self, other) -> "CueList":
        return CueList([*self.cues, *(other.cues if isinstance(other, CueList) else other)])

    def find(self, words: list[str], allowed: Optional[Callable[[int], bool]] = None):
        """The first-listed cue said (and not negated) in ``words``, or None.

        ``allowed(start)``, when given, can refuse a cue found starting at word ``start``.
        """
        found = None
        for start, word in enumerate(words):
            for order, cue in self._by_first.get(word, ()):
                if found is not None and order >= found[0]:
                    continue
                if not cue.negated and NEGATORS & set(words[max(0, start - 2) : start]):
                    continue
                if allowed is not None and not allowed(start):
                    continue
                if cue.said_at(words, start):
                    found = (order, cue)
        return None if found is None else found[1]


def find_cue(cues, words: list[str]):
    """The first cue said (and not negated: "not too expensive") in ``words``, or None.

    ``cues`` is a list of cues or a :class:`CueList`.
    """
    return (cues if isinstance(cues, CueList) else CueList(cues)).find(words)
