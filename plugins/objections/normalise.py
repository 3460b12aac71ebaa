"""Speech-recognition text turned into comparable tokens.

Whisper tiny.en writes what it hears, not what was meant: lowercase or not,
punctuation or not, "to expensive" for "too expensive", "cant" for "can't".
Triggers and utterances go through this same function, so a trigger written
"can't afford" matches "cannot afford", "cant afford" and "can not afford".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Words that flip a phrase's meaning. Never stemmed ("nothing" must stay
# "nothing") and never skipped over as a gap by the matcher.
NEGATORS = frozenset({"not", "no", "never", "nothing", "none", "neither", "nor", "without", "hardly"})

# Whole-word contractions, including the apostrophe-less forms speech
# recognition produces. Possessive "'s" is dropped by the general rule below,
# so only the pronouns where "'s" means "is" are listed.
CONTRACTIONS = {
    "can't": "can not", "cant": "can not", "cannot": "can not",
    "won't": "will not", "wont": "will not", "shan't": "shall not",
    "ain't": "is not", "aint": "is not",
    "dont": "do not", "doesnt": "does not", "didnt": "did not",
    "isnt": "is not", "arent": "are not", "wasnt": "was not", "werent": "were not",
    "havent": "have not", "hasnt": "has not", "hadnt": "had not",
    "wouldnt": "would not", "shouldnt": "should not", "couldnt": "could not",
    "i'm": "i am", "im": "i am", "ive": "i have", "ill": "i will",
    "youre": "you are", "theyre": "they are", "youve": "you have", "weve": "we have",
    "theyve": "they have", "youll": "you will", "theyll": "they will",
    "it's": "it is", "its": "it is", "that's": "that is", "thats": "that is",
    "what's": "what is", "whats": "what is", "there's": "there is", "theres": "there is",
    "here's": "here is", "he's": "he is", "she's": "she is", "who's": "who is",
    "where's": "where is", "how's": "how is", "let's": "let us",
    "gonna": "going to", "gotta": "got to", "wanna": "want to", "kinda": "kind of",
    "sorta": "sort of", "dunno": "do not know", "ok": "okay",
}
SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"), ("'m", " am"))

# Words the recogniser confuses with each other; each group becomes one token.
HOMOPHONES = {"too": "to", "two": "to", "their": "there"}

# Hesitations carry no meaning and would otherwise use up the matcher's gap.
FILLERS = frozenset({"um", "umm", "uh", "uhh", "uhm", "erm", "er", "ah", "hmm", "hm", "mm", "mhm"})

# Clause breaks limit how far a negation reaches: in "No, it's too expensive"
# the "no" does not negate "too expensive". "but" starts a new claim too.
CLAUSE_BREAK = re.compile(r"[.,;:!?\u2014]+|\s-\s|\bbut\b")
WORD = re.compile(r"[a-z0-9']+")


@dataclass
class Tokens:
    """Normalised words, the clause each sits in, and the spoken word each came from."""

    words: list[str]
    clauses: list[int]
    surface: list[str]

    def __len__(self) -> int:
        return len(self.words)

    def heard(self, start: int, end: int) -> str:
        """The original words behind tokens ``start:end``, for showing what matched."""
        spoken = []
        for word in self.surface[start:end]:
            if not spoken or spoken[-1] != word:
                spoken.append(word)
        return " ".join(spoken)


def normalise(text: str) -> Tokens:
    """Lowercase, unpunctuated, contraction-expanded, lightly stemmed tokens of ``text``."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[-/]", " ", text.replace(" - ", " \u2014 "))
    words, clauses, surface = [], [], []
    for clause, part in enumerate(CLAUSE_BREAK.split(text)):
        for spoken in WORD.findall(part):
            spoken = spoken.strip("'")
            if not spoken or spoken in FILLERS:
                continue
            for word in _tokens_of(spoken):
                words.append(word)
                clauses.append(clause)
                surface.append(spoken)
    return Tokens(words, clauses, surface)


@functools.lru_cache(maxsize=16384)
def _tokens_of(spoken: str) -> tuple[str, ...]:
    # Speech repeats the same few thousand words: expand and stem each once.
    return tuple(stem(HOMOPHONES.get(word, word)) for word in expand(spoken).split())


def expand(word: str) -> str:
    """``"doesn't"`` -> ``"does not"``; possessive ``"wife's"`` -> ``"wife"``."""
    if word in CONTRACTIONS:
        return CONTRACTIONS[word]
    for ending, replacement in SUFFIXES:
        if word.endswith(ending):
            return word[: -len(ending)] + replacement
    if word.endswith("'s"):
        return word[:-2]
    return word.replace("'", "")


def stem(word: str) -> str:
    """A light stemmer: enough that "prices", "pricing" and "price" meet.

    Past tenses are kept on purpose: "I talked to my wife" reports, while
    "I need to talk to my wife" objects.
    """
    if word in NEGATORS or len(word) < 4 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    elif word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
        if len(word) >= 3 and word[-1] == word[-2] and word[-1] not in "lsfz":
            word = word[:-1]  # "getting" -> "get", "selling" stays "sell"
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]  # "price"/"pricing", "make"/"making" meet at "pric", "mak"
    return word
