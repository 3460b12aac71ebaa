"""Trigger phrases compiled to patterns, and found in speech despite extra words.

A trigger is a phrase with optional alternatives, so one line covers many
paraphrases::

    (need|have|got) to (talk|speak|check) (to|with|) my {person}

``(a|b c|)`` is a choice of words (an empty choice makes it optional) and
``{person}`` any entry of the playbook's ``words: person:`` list. People add
words ("I really need to talk it over with my wife"), so up to ``max_gap``
extra words may sit between a trigger's words; a negation never may, which is
what keeps "money is not a problem" from matching "money is a problem". Extra
words never reach into the next clause either: "you know what, let me think it
over" is not "know what ... think".
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import Optional

from .normalise import NEGATORS, Tokens, normalise, stem

# "it's not really too expensive": a "not" up to this many words before a
# phrase negates it...
NEGATION_REACH = 4
# ...unless it negates the next word instead: "not sure, it's too expensive",
# "not only is it too expensive"; or opens a question: "isn't this an MLM?",
# "don't you think it's too expensive?" ("that" is left out: "not that expensive").
NOT_NEGATING_NEXT = frozenset(
    stem(word) for word in ("sure", "only", "just", "it", "this", "there", "you", "they", "he", "she", "we")
)
# The only words that may sit between a negation and the word it negates:
# "not really interested", "not quite ready", "don't even need it".
SOFTENERS = frozenset(
    stem(word)
    for word in ("really", "quite", "very", "that", "so", "even", "actually", "exactly", "entirely",
                 "totally", "necessarily", "all", "at", "too", "particularly", "currently", "yet")
)

# A negation does not reach into a clause these words open: in "I don't know if
# I can trust them", "don't" negates "know", not "trust"; in "I don't see what
# problem this solves", "see", not "problem".
SUBORDINATORS = frozenset(
    stem(word)
    for word in ("if", "whether", "because", "cause", "since", "unless", "until", "though", "although", "when",
                 "what", "which", "why", "how", "who", "where")
)


class PatternError(ValueError):
    """A trigger that cannot be compiled; the message says what is wrong with it."""


@dataclass(frozen=True)
class Pattern:
    source: str
    # Each slot is a choice of alternatives; each alternative a run of tokens.
    slots: tuple[tuple[tuple[str, ...], ...], ...]
    # The phrase itself negates ("do not have the money"), so a negation just
    # before it is part of the objection, not a denial of it.
    negated: bool
    # For every slot that must match, the tokens its alternatives start with:
    # a cheap test that skips most patterns without searching.
    required: tuple[frozenset, ...]


@dataclass(frozen=True)
class Match:
    pattern: Pattern
    start: int
    end: int
    heard: str


def compile_pattern(source: str, words: dict[str, list[str]]) -> Pattern:
    """Compile trigger ``source``; ``words`` are the named lists ``{name}`` refers to."""
    if not isinstance(source, str) or not source.strip():
        raise PatternError("a trigger must be a non-empty phrase")
    slots = _Parser(source, words).parse()
    if not any(alternative for slot in slots for alternative in slot):
        raise PatternError(f"trigger {source!r} has no words")
    negated = any(token in NEGATORS for slot in slots for alternative in slot for token in alternative)
    required = tuple(
        frozenset(alternative[0] for alternative in slot) for slot in slots if all(slot)
    )
    return Pattern(source, tuple(slots), negated, required)


class _Parser:
    """Reads ``need (to|) (talk|check (in|)) with my {person}`` into slots.

    A nested choice is spelled out into its parent's alternatives
    (``check (in|)`` -> ``check in`` and ``check``), so matching stays flat.
    """

    PLAIN = re.compile(r"[^(){}|]+")

    def __init__(self, source: str, words: dict[str, list[str]]):
        self.source = source
        self.words = words
        self.position = 0

    def parse(self) -> list:
        return self._sequence(depth=0)

    def _fail(self, problem: str):
        raise PatternError(f"trigger {self.source!r} {problem}")

    def _sequence(self, depth: int) -> list:
        slots = []
        while self.position < len(self.source):
            char = self.source[self.position]
            if char == "(":
                self.position += 1
                slots.append(self._choice(depth + 1))
            elif char in ")|":
                if depth == 0:
                    self._fail(f"has a stray {char!r}")
                return slots
            elif char == "{":
                end = self.source.find("}", self.position)
                if end < 0:
                    self._fail("has an unclosed '{'")
                name = self.source[self.position + 1 : end].strip()
                if name not in self.words:
                    known = ", ".join(sorted(self.words)) or "none"
                    self._fail(f"uses {{{name}}}, which is not a word list (known: {known})")
                slots.append(_alternatives(self.words[name]))
                self.position = end + 1
            elif char == "}":
                self._fail("has a stray '}'")
            else:
                plain = self.PLAIN.match(self.source, self.position)
                slots.extend(((token,),) for token in _phrase_words(plain.group()))
                self.position = plain.end()
        if depth > 0:
            self._fail("has an unclosed '('")
        return slots

    def _choice(self, depth: int) -> tuple:
        alternatives = []
        while True:
            slots = self._sequence(depth)
            alternatives.extend(sum(parts, ()) for parts in itertools.product(*slots))
            char = self.source[self.position]
            self.position += 1
            if char == ")":
                return tuple(dict.fromkeys(alternatives))


def _alternatives(phrases) -> tuple[tuple[str, ...], ...]:
    return tuple(dict.fromkeys(_phrase_words(phrase) for phrase in phrases))


@functools.lru_cache(maxsize=8192)
def _phrase_words(phrase: str) -> tuple[str, ...]:
    # Playbooks repeat the same words and lists in many triggers.
    return tuple(normalise(phrase).words)


def find(patterns: list[Pattern], tokens: Tokens, max_gap: int = 2) -> Optional[Match]:
    """The first of ``patterns`` said, not negated, in ``tokens``; None if none is."""
    for pattern, start, end, negated in _occurrences(patterns, tokens, max_gap):
        if not negated:
            return Match(pattern, start, end, tokens.heard(start, end))
    return None


def denied(patterns: list[Pattern], tokens: Tokens, max_gap: int = 2) -> bool:
    """Whether one of ``patterns`` is said negated: "I don't think it's too expensive"."""
    return any(negated for *_, negated in _occurrences(patterns, tokens, max_gap))


def _occurrences(patterns: list[Pattern], tokens: Tokens, max_gap: int):
    """Yield ``(pattern, start, end, negated)`` for each place a pattern is said, in order."""
    present = set(tokens.words)
    for pattern in patterns:
        if not all(starts & present for starts in pattern.required):
            continue
        for start in range(len(tokens)):
            end = _match_slots(pattern.slots, 0, tokens, start, max_gap, None)
            if end is not None:
                yield pattern, start, end, _negated_before(pattern, tokens, start)


def _match_slots(slots, index, tokens, position, max_gap, previous) -> Optional[int]:
    """Where a match of ``slots[index:]`` from ``position`` ends; None if there is none.

    ``previous`` is the last word matched so far (None: nothing yet, so the
    next word must sit exactly at ``position``).
    """
    if index == len(slots):
        return position
    for alternative in slots[index]:
        for after, last in _match_tokens(alternative, 0, tokens, position, max_gap, previous):
            end = _match_slots(slots, index + 1, tokens, after, max_gap, last)
            if end is not None:
                return end
    return None


def _match_tokens(alternative, index, tokens, position, max_gap, previous):
    """Yield ``(end, last word)`` for each match of ``alternative[index:]`` from ``position``."""
    words = tokens.words
    if index == len(alternative):
        yield position, previous
        return
    gap_limit = 0 if previous is None else max_gap
    for skipped in range(gap_limit + 1):
        at = position + skipped
        if at >= len(words):
            return
        if skipped:
            gap_word = words[at - 1]
            if tokens.clauses[at] != tokens.clauses[position - 1]:
                return
            if gap_word in NEGATORS:
                return
            # A negation reaches the word after it: "not right now" must not
            # match "can't afford it right now". Only softeners may come between.
            if previous in NEGATORS and gap_word not in SOFTENERS:
                return
        if words[at] == alternative[index]:
            yield from _match_tokens(alternative, index + 1, tokens, at + 1, max_gap, words[at])


def _negated_before(pattern: Pattern, tokens: Tokens, start: int) -> bool:
    if pattern.negated:
        return False
    clause = tokens.clauses[start]
    for index in range(max(0, start - NEGATION_REACH), start):
        word = tokens.words[index]
        if word not in NEGATORS or tokens.clauses[index] != clause:
            continue
        # A lone "no" further back answers something else: "no, it's too expensive".
        if word == "no" and index != start - 1:
            continue
        if any(between in SUBORDINATORS for between in tokens.words[index + 1 : start + 1]):
            continue
        if tokens.words[index + 1] not in NOT_NEGATING_NEXT:
            return True
    return False
