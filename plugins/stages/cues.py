"""Cue phrases: the words that show which stage a call is in.

Speech recognition text is normalised first (case, punctuation, contractions,
"too"/"to"), so a cue written "can't afford" matches "cannot afford" and "cant
afford". ``(a|b|)`` in a cue is a choice of words; an empty choice is optional.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

NEGATORS = frozenset({"not", "no", "never"})
CONTRACTIONS = {
    "can't": "can not", "cant": "can not", "cannot": "can not", "won't": "will not", "wont": "will not",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not", "arent": "are not",
    "im": "i am", "it's": "it is", "its": "it is", "that's": "that is", "thats": "that is",
    "what's": "what is", "whats": "what is", "here's": "here is", "there's": "there is",
    "let's": "let us", "gonna": "going to", "wanna": "want to", "gotta": "got to", "ok": "okay",
}
SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"), ("'m", " am"))
HOMOPHONES = {"too": "to", "two": "to"}
FILLERS = frozenset({"um", "umm", "uh", "uhm", "erm", "er", "ah", "hmm", "hm", "mm", "mhm"})
WORD = re.compile(r"[a-z0-9']+")


def words_of(text: str) -> list[str]:
    """Lowercase words of ``text`` with contractions expanded and plurals trimmed."""
    text = re.sub(r"[-/]", " ", text.lower().replace("\u2019", "'"))
    words = []
    for spoken in WORD.findall(text):
        spoken = spoken.strip("'")
        if not spoken or spoken in FILLERS:
            continue
        for word in _expand(spoken).split():
            words.append(_trim_plural(HOMOPHONES.get(word, word)))
    return words


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
    # Every spelling of the phrase, choices spelled out.
    forms: tuple[tuple[str, ...], ...]
    negated: bool


def compile_cue(source: str) -> Cue:
    """``"get (started|going)"`` -> a cue matching "get started" and "get going"."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError("a cue must be a non-empty phrase")
    if re.search(r"\([^()]*\(", source):
        raise ValueError(f"cue {source!r}: choices cannot be nested")
    parts = re.split(r"(\([^()]*\))", source)
    if any(char in part for part in parts if not part.startswith("(") for char in "()"):
        raise ValueError(f"cue {source!r} has an unmatched bracket")
    choices = []
    for part in parts:
        if part.startswith("("):
            choices.append([words_of(option) for option in part[1:-1].split("|")])
        else:
            choices.append([words_of(part)])
    forms = tuple(
        dict.fromkeys(tuple(word for option in combination for word in option) for combination in itertools.product(*choices))
    )
    forms = tuple(form for form in forms if form)
    if not forms:
        raise ValueError(f"cue {source!r} has no words")
    return Cue(source, forms, any(word in NEGATORS for form in forms for word in form))


def find_cue(cues: list[Cue], words: list[str]):
    """The first cue said (and not negated: "not too expensive") in ``words``, or None."""
    for cue in cues:
        for form in cue.forms:
            for start in range(len(words) - len(form) + 1):
                if tuple(words[start : start + len(form)]) != form:
                    continue
                if not cue.negated and NEGATORS & set(words[max(0, start - 2) : start]):
                    continue
                return cue
    return None
