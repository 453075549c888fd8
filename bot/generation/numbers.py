"""Numbers as answers and passages write them: digits, number words, ids, and one spelling each.

The answer guard compares numbers by value, so "thirty days", "30 days" and "30-day" agree and
"$5" matches "$5.00". This module reads the values (:func:`number_value`), gives each one
spelling (:func:`plain`), finds the tokens that carry a digit (amounts, order and tracking ids:
:func:`numeric_spans`) and lists every number a text mentions (:func:`numeric_tokens`).
:data:`NUMBER` is the regular-expression fragment for a number written either way.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# fmt: off
_SMALL = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]
# fmt: on
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
_TENS |= {"eighty": 80, "ninety": 90}
_WORD_VALUES = {word: index for index, word in enumerate(_SMALL)} | _TENS
# Longest words first so that "fourteen" is never read as "four".
_WORDS_ALT = "|".join(sorted(_WORD_VALUES, key=len, reverse=True))
NUMBER_WORD = rf"(?:(?:{'|'.join(_TENS)})[\s-](?:{'|'.join(_SMALL[1:10])})|{_WORDS_ALT})\b"
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
NUMBER = rf"(?:{_DIGITS}|\b{NUMBER_WORD})"

_WORD = re.compile(r"[a-z]+", re.IGNORECASE)
# Anything with a digit: amounts, order ids (#W4821937), tracking numbers (1Z…), years.
_DIGIT_RUN = re.compile(r"\d+")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)", re.IGNORECASE)


def number_value(text: str) -> Decimal | None:
    """The value of ``"1,250.5"``, ``"thirty"`` or ``"forty-five"``; None for anything else."""
    text = text.strip().lower()
    if text and text[0].isdigit():
        return Decimal(text.replace(",", ""))
    parts = re.split(r"[\s-]+", text)
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _WORD_VALUES:
        return Decimal(_TENS[parts[0]] + _WORD_VALUES[parts[1]])
    value = _WORD_VALUES.get(text)
    return None if value is None else Decimal(value)


def plain(value: Decimal) -> str:
    """One spelling per value: ``Decimal("42.00")`` -> ``"42"``, ``Decimal("5.5")`` -> ``"5.5"``."""
    if value == value.to_integral_value():
        return format(value.to_integral_value(), "f")
    return format(value.normalize(), "f")


def numeric_tokens(text: str) -> set[str]:
    """Every number and id in ``text``, normalized as bare-number claims are, words included."""
    found = {normalize_token(text[start:end]) for start, end, _ in numeric_spans(text)}
    words = [word.lower() for word in _WORD.findall(text)]
    for index, word in enumerate(words):
        value = _WORD_VALUES.get(word)
        if value is None:
            continue
        if (
            word in _TENS
            and index + 1 < len(words)
            and 0 < _WORD_VALUES.get(words[index + 1], 0) < 10
        ):
            found.add(str(value + _WORD_VALUES[words[index + 1]]))  # "forty five"
        found.add(str(value))
    return found


def numeric_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, has_hash) of each token with a digit: "1,234.50", "#W4821937", "1Z99…".

    Scanning from the digit runs is several times faster than a regex that has to try every
    letter of the text as the start of an id.
    """
    found: list[tuple[int, int, bool]] = []
    end = 0
    for m in _DIGIT_RUN.finditer(text):
        if m.start() < end:
            continue  # inside the previous token
        start, end = m.start(), m.end()
        while start and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and (
            text[end].isalnum() or (text[end] in ".," and text[end + 1 : end + 2].isdigit())
        ):
            end += 1
        if start and text[start - 1] in ".," and text[start - 2 : start - 1].isalnum():
            continue  # the tail of something like "v1.2"
        found.append((start, end, text[start - 1 : start] == "#"))
    return found


def normalize_token(token: str) -> str:
    ordinal = _ORDINAL.fullmatch(token)
    if ordinal:
        return ordinal.group(1)
    if token.isdigit():
        return token.lstrip("0") or "0"
    if any(c.isalpha() for c in token):
        return token.upper()
    try:
        return plain(Decimal(token.replace(",", "")))
    except InvalidOperation:  # "1.2.3" and other dotted tokens are kept as written
        return token
