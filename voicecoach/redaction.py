"""Redaction: card, account and phone numbers and email addresses never reach the log.

On calls people read out numbers; a transcript is kept for months and may be
synced to a team database. Redaction runs on every utterance before any plugin
or sink sees it (on by default; a profile may set ``redact: false``).

Speech recognition writes numbers as digits ("4111 1111 1111 1111") or as words
("four one one one ..."), spaced and dashed in every way, so both are found:

* an email address, written ("jane.doe@example.com") or spoken ("jane dot doe at
  example dot com") -> ``[email]``;
* a run of 13-19 digits that passes the Luhn check -> ``[card number]``;
* an IBAN, or any other run of 8 or more digits -> ``[account number]``;
* a run of 7-15 digits written as a phone number (or a ``+`` country code) ->
  ``[phone number]``.

Short numbers (prices, years, times: "$40 a month", "2026", "10:30") are kept:
coaching needs them and they identify no one.
"""

from __future__ import annotations

import re

EMAIL = "[email]"
CARD = "[card number]"
ACCOUNT = "[account number]"
PHONE = "[phone number]"

_WRITTEN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# The address ends in a top-level domain, so that in "email me at john dot smith
# at gmail dot com" the address found is john's, not "me at john dot smith".
_TOP_LEVEL = r"(?:com|org|net|edu|gov|mil|int|info|biz|name|pro|io|ai|app|dev|tech|online|site|[a-z]{2})"
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9]+(?:\s+(?:dot|underscore|dash)\s+[a-z0-9]+)*\s+at\s+[a-z0-9-]+"
    rf"(?:\s+dot\s+[a-z0-9-]+){{0,2}}\s+dot\s+{_TOP_LEVEL}\b",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b")

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_SPOKEN_DIGIT = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
# Digits as words, seven or more in a row: a spoken number. Speech recognition puts
# commas and full stops between digits read out slowly ("Four, one, one, one. One,
# one, ..."), writes some of them as digits ("4-one-one-one-one-1-1"), and people
# say "double five" and "nine hundred" in phone numbers.
_DIGIT_OR_WORD = rf"(?:{_SPOKEN_DIGIT}|\d+)"
_SPOKEN_NUMBER = re.compile(
    rf"\b(?:(?:double|triple)\s+)?{_DIGIT_OR_WORD}"
    rf"(?:[\s,.-]+(?:(?:double|triple)\s+)?(?:{_DIGIT_OR_WORD}|hundred)){{6,}}\b",
    re.IGNORECASE,
)
# Digits joined by spaces, dots, commas, dashes and brackets: one number as people
# say it or speech recognition writes it ("5, 5, 5, 8, 6, 7", "4,111,111,111"); a
# spoken "oh" between digits read one by one comes out as "oh", "o" or "or" ("5, 3, or 9").
_DIGIT_RUN = re.compile(
    r"(?<![\w.])\+?\(?\d(?:[\s().,-]{0,3}\d|(?<!\d\d)[\s,]+(?:oh|o|or)[\s,]+\d(?!\d))+(?![\w])"
)
# "1,500,000" after "$" or before "dollars": an amount, not an account.
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_CURRENCY = "$£€¥"
# Amounts written in thousands go up to billions; longer runs are not amounts.
MAX_AMOUNT_DIGITS = 10


def redact(text: str) -> str:
    """``text`` with emails and card, account and phone numbers replaced by labels."""
    if not text:
        return text
    text = _WRITTEN_EMAIL.sub(EMAIL, text)
    text = _SPOKEN_EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(ACCOUNT, text)
    text = _SPOKEN_NUMBER.sub(_spoken_number_label, text)
    return _DIGIT_RUN.sub(lambda match: _number_label(match, text) or match.group(0), text)


def _number_label(match: re.Match, text: str):
    number = match.group(0).strip(" ,.")
    digits = re.sub(r"\D", "", number)
    after_currency = text[: match.start()].rstrip().endswith(tuple(_CURRENCY))
    if len(digits) <= MAX_AMOUNT_DIGITS and (after_currency or _THOUSANDS.fullmatch(number)):
        return None
    return _label(number)


def _spoken_number_label(match: re.Match) -> str:
    words = match.group(0)
    if not re.search(_SPOKEN_DIGIT, words, re.IGNORECASE):
        return words  # digits alone: amounts and runs are told apart below
    return _label(_spoken_digits(words), spoken=True) or words


def _spoken_digits(words: str) -> str:
    digits, repeat = [], 1
    for word in re.split(r"[\s,.-]+", words.lower()):
        if word == "hundred":
            digits.append("00")
        elif word == "double":
            repeat = 2
        elif word == "triple":
            repeat = 3
        elif word in _DIGIT_WORDS:
            digits.append(_DIGIT_WORDS[word] * repeat)
            repeat = 1
        elif word.isdigit():
            digits.append(word * repeat)
            repeat = 1
    return "".join(digits)


def _label(number: str, spoken: bool = False):
    digits = re.sub(r"\D", "", number)
    if len(digits) < 7:
        return None
    if 13 <= len(digits) <= 19 and _luhn_valid(digits):
        return CARD
    international = number.lstrip().startswith("+")
    looks_like_phone = spoken or international or number.lstrip().startswith("(") or re.search(r"\d[\s.,-]+\d", number)
    if looks_like_phone and (len(digits) <= 11 or (international and len(digits) <= 15)):
        return PHONE
    if len(digits) >= 8:
        return ACCOUNT
    return PHONE if looks_like_phone else None


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0
