"""What a generated answer asserts: the claims the answer guard checks against evidence.

A claim is a span of the answer that would hurt if it were invented: an amount, a period, a
percentage, an order or tracking number, a contact address, a policy term ("store credit"), a
promise ("I've cancelled your order") or a template placeholder left unfilled. Extraction is
pure regular-expression work so that the guard stays fast and deterministic; the same scanners
read the evidence, so an answer and a passage that say the same thing normalize the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from bot.generation.numbers import (
    NUMBER,
    NUMBER_WORD,
    normalize_token,
    number_value,
    numeric_spans,
    plain,
)
from bot.generation.promises import locate_promises
from bot.generation.scanning import is_negated, keyed_patterns, lowered, word_matches

ClaimKind = Literal[
    "money", "period", "percent", "number", "contact", "term", "promise", "placeholder"
]
PeriodFamily = Literal["minute", "day", "month"]


@dataclass(frozen=True, slots=True)
class Claim:
    """One checkable statement of an answer.

    Attributes:
        kind: what sort of fact it is.
        text: the span as written in the answer.
        normalized: the canonical form it is matched in, e.g. ``"30 day"``, ``"$5.95"``,
            ``"15%"``, ``"W4821937"``, ``"no price match"``, ``"done:cancel"``.
    """

    kind: ClaimKind
    text: str
    normalized: str


@dataclass(frozen=True, slots=True)
class Period:
    """A duration or a range of durations, counted in the base unit of its family.

    Weeks are counted in days and years in months, so "two weeks" equals "14 days"; hours and
    days are different families on purpose ("24 hours" is a promise about the clock, "1 day"
    usually about the calendar), as are days and months.
    """

    family: PeriodFamily
    lo: Decimal
    hi: Decimal
    unit: str
    business: bool
    bounded: bool  # "within 10 days", "up to a week": only the upper end is asserted


@dataclass(frozen=True, slots=True)
class Located:
    """A claim together with where it was found and what the matcher needs to know about it."""

    claim: Claim
    start: int
    end: int
    period: Period | None = None
    negated: bool = False


_PLACEHOLDER = re.compile(r"\{\{[^{}\n]*\}{0,2}|\{[^{}\n]{1,60}\}|\}\}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\"']+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|shop|store|us|uk|de|ca|info|example)"
    r"\b(?:/[^\s<>()\"']*)?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b")
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
# Amounts written after their currency are found by a plain scan; amounts written before it
# ("5 dollars"), percentages and periods are found backwards from their unit word, because
# trying every position of a text for a number word costs more than the rest of the guard.
_MONEY_SYMBOL = re.compile(rf"(?P<sym>[$€£])\s?(?P<a1>{_AMOUNT})")
_MONEY_CODE = re.compile(rf"\b(?P<code>USD|EUR|GBP)\s?(?P<a2>{_AMOUNT})", re.IGNORECASE)
# The patterns below run on lower-cased text: case-sensitive literals match much faster.
_MONEY_AFTER = re.compile(
    rf"(?<![\w.,])(?P<a3>{_AMOUNT}|{NUMBER_WORD})\s?(?P<word>usd|eur|gbp|dollars?|bucks|euros?|cents?)\Z"
)
_MONEY_WORD = re.compile(r"(?:usd|eur|gbp|dollars?|bucks|euros?|cents?)\b")
_CURRENCY = {"usd": "$", "dollar": "$", "dollars": "$", "bucks": "$"}
_CURRENCY |= {"eur": "€", "euro": "€", "euros": "€", "gbp": "£"}
_PERCENT = re.compile(rf"(?<![\w.,])(?P<num>{NUMBER})\s?(?:%|percent|per\s?cent)\Z")
_PERCENT_SIGN = re.compile(r"%|per\s?cent\b")
_PERIOD = re.compile(
    r"(?<![\w.,])"
    r"(?P<bound>\b(?:within|up to|no more than|at most|less than|under|no later than)\s+)?"
    rf"(?:\bbetween\s+(?P<blo>{NUMBER})\s+and\s+(?P<bhi>{NUMBER})"
    rf"|(?<!\bon )(?<!\bper )(?P<lo>{NUMBER}|\bhalf\s+an?\b|\ban?\b)"
    rf"(?:\s*(?:-|–|—|to|or)\s*(?P<hi>{NUMBER}))?)"
    r"[\s-]*(?:(?P<biz>business|working)[\s-]+|calendar[\s-]+)?"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?)\Z"
)
_UNIT_WORD = re.compile(r"(?:minute|min|hour|hr|day|week|month|year|yr)s?\b")
_URL_HINT = re.compile(r"://|www\.|\.(?:com|net|org|io|co|shop|store|us|uk|de|ca|info|example)\b")
_PHONE_HINT = re.compile(r"\d{3}[\s.-]\d{4}")
_UNITS: dict[str, tuple[PeriodFamily, int, str]] = {
    "min": ("minute", 1, "minute"), "minute": ("minute", 1, "minute"),
    "hr": ("minute", 60, "hour"), "hour": ("minute", 60, "hour"),
    "day": ("day", 1, "day"), "week": ("day", 7, "week"),
    "month": ("month", 1, "month"), "yr": ("month", 12, "year"), "year": ("month", 12, "year"),
}  # fmt: skip
_LIST_NUMBER = re.compile(r"^\s*\d{1,2}[.)]\s", re.MULTILINE)

# Each term with the lower-case words one of which must occur for a regex search to be worth it.
# fmt: off
_TERMS = keyed_patterns(
    (
        ("store credit", "credit", r"\bstore[\s-]credit\b"),
        ("full refund", "refund",
         r"\bfull refunds?\b|\brefund(?:ed)? in full\b|\bfully refunded\b"),
        ("partial refund", "partial", r"\bpartial refunds?\b|\bpartially refunded\b"),
        ("free shipping", "free|ship", r"\bfree (?:\w+ )?(?:shipping|delivery)\b|\bships? (?:for )?"
         r"free\b|\bshipping (?:is|are) (?P<neg>not |never )?free\b"),
        ("free return", "free", r"\bfree returns?\b|\bfree return (?:shipping|label)\b"
         r"|\breturn label is free\b|\breturns? (?:is|are) (?P<neg>not )?free\b"),
        ("restocking fee", "restocking", r"\brestocking fees?\b"),
        ("cancellation fee", "fee", r"\bcancell?ation fees?\b|\bfees? for cancell?ing\b"),
        ("price match", "match",
         r"\bprice[\s-]?match(?:ing|es|ed)?\b|\bmatch (?:the|a|their|any) price"),
        ("lifetime warranty", "lifetime", r"\blifetime (?:warranty|guarantee)\b"),
        ("money-back guarantee", "guarantee", r"\bmoney[\s-]back guarantee\b"),
        ("gift card", "gift", r"\b(?:e-)?gift[\s-]?cards?\b"),
        ("gift wrap", "wrap", r"\bgift[\s-]?wrap(?:ping|ped)?\b"),
        ("exchange", "exchang", r"\bexchang(?:e|es|ed|ing)\b"),
        ("cash on delivery", "cash|cod", r"\bcash on delivery\b|\bcod\b"),
        ("international shipping", "international|worldwide|abroad|overseas",
         r"\binternational (?:shipping|delivery|orders?)\b"
         r"|\bship(?:s|ping)? (?:internationally|worldwide|abroad|overseas)\b"),
        ("prepaid return label", "prepaid", r"\bprepaid (?:return )?labels?\b"),
        ("student discount", "student", r"\bstudent discounts?\b|\bdiscounts? for students\b"),
        ("loyalty points", "loyalty|reward", r"\b(?:loyalty|rewards?) (?:points|program(?:me)?)\b"),
        ("price adjustment", "price", r"\bprice (?:adjustments?|protection)\b"),
        ("free replacement", "replacement", r"\bfree replacements?\b"),
        ("backorder", "order", r"\bback[\s-]?orders?\b"),
        ("pay later", "later|instal", r"\bpay later\b|\binstal?lments?\b"),
        ("layaway", "layaway", r"\blayaway\b"),
        ("no questions asked", "question", r"\bno[\s-]questions[\s-]asked\b"),
    )
)
# fmt: on

_NEGATED_AFTER = re.compile(
    r"\s+(?:(?:is|are|was|were)\s+(?:not|never)\b|(?:isn't|aren't|wasn't|weren't|isn’t|aren’t)|"
    r"not\s+(?:accepted|available|offered|possible)\b)"
)


def _ending_at(
    pattern: re.Pattern[str], anchors: re.Pattern[str], lower: str, reach: int
) -> list[re.Match[str]]:
    """Matches of ``pattern`` (which ends in ``\\Z``) that end where an anchor word ends.

    The anchors (unit words, currency words, "%") are few and found fast in the lower-cased
    text; the pattern then only runs over the few words before each of them.
    """
    found = []
    for anchor in anchors.finditer(lower):
        if anchor.group() != "%" and anchor.start() and lower[anchor.start() - 1].isalpha():
            continue  # "someday", "accent": not a unit word
        m = pattern.search(lower, max(0, anchor.start() - reach), anchor.end())
        if m:
            found.append(m)
    return found


def _money(m: re.Match[str]) -> str | None:
    groups = m.groupdict()
    amount = number_value(groups.get("a1") or groups.get("a2") or groups.get("a3") or "")
    if amount is None:
        return None
    unit = (groups.get("sym") or groups.get("code") or groups.get("word") or "$").lower()
    if unit.startswith("cent"):
        unit, amount = "$", amount / 100
    symbol = _CURRENCY.get(unit, unit)
    if amount == amount.to_integral_value():
        return f"{symbol}{plain(amount)}"
    return f"{symbol}{amount:.2f}"


def _period(m: re.Match[str]) -> Period | None:
    family, factor, unit = _UNITS[m["unit"].lower().rstrip("s")]
    lo_text = m["blo"] or m["lo"]
    if lo_text in ("a", "an"):
        if unit == "minute":  # "wait a minute" is not a promise about time
            return None
        lo: Decimal | None = Decimal(1)
    elif lo_text.startswith("half"):
        lo = Decimal("0.5")
    else:
        lo = number_value(lo_text)
    hi_text = m["bhi"] or m["hi"]
    hi = number_value(hi_text) if hi_text else lo
    if lo is None or hi is None:
        return None
    return Period(family, lo * factor, hi * factor, unit, bool(m["biz"]), bool(m["bound"]))


def _period_text(period: Period) -> str:
    factor = _UNITS[period.unit][1]
    lo, hi = plain(period.lo / factor), plain(period.hi / factor)
    span = lo if lo == hi else f"{lo}-{hi}"
    return f"{span} {'business ' if period.business else ''}{period.unit}"


def locate_claims(text: str) -> list[Located]:
    """Every claim in ``text`` with its position, in reading order.

    Spans are taken in priority order (placeholders, contacts, money, periods, percentages,
    numbers) and a later kind never claims a span an earlier one took, so "$5.95" is one money
    claim rather than also the number 5.95. Terms and promises are phrases over the same text
    and are kept alongside. Each scan runs only when a cheap test says it can match.
    """
    taken = bytearray(len(text))  # 1 where an earlier claim already took the character
    found: list[Located] = []
    lower = lowered(text)

    def add(claim: Claim, start: int, end: int, period: Period | None = None) -> None:
        if taken.find(1, start, end) == -1:
            taken[start:end] = b"\x01" * (end - start)
            found.append(Located(claim, start, end, period=period))

    if "{" in text or "}}" in text:
        for m in _PLACEHOLDER.finditer(text):
            add(Claim("placeholder", m.group(), m.group()), m.start(), m.end())
    contacts = [_EMAIL] if "@" in text else []
    contacts += [_URL] if _URL_HINT.search(lower) else []
    contacts += [_PHONE] if _PHONE_HINT.search(text) else []
    for pattern in contacts:
        for m in pattern.finditer(text):
            raw = m.group().rstrip(".,;:!?)'\"")
            add(Claim("contact", raw, _contact(raw)), m.start(), m.start() + len(raw))
    money = [*_MONEY_SYMBOL.finditer(text), *_ending_at(_MONEY_AFTER, _MONEY_WORD, lower, 40)]
    if "usd" in lower or "eur" in lower or "gbp" in lower:
        money += _MONEY_CODE.finditer(text)
    for m in sorted(money, key=lambda m: m.start()):
        if normalized := _money(m):
            add(Claim("money", text[m.start() : m.end()], normalized), m.start(), m.end())
    for m in _ending_at(_PERIOD, _UNIT_WORD, lower, 45):
        if period := _period(m):
            start = m.end("bound") if m["bound"] else m.start()
            add(
                Claim("period", text[start : m.end()], _period_text(period)), start, m.end(), period
            )
    for m in _ending_at(_PERCENT, _PERCENT_SIGN, lower, 30):
        if (value := number_value(m["num"])) is not None:
            claim = Claim("percent", text[m.start() : m.end()], f"{plain(value)}%")
            add(claim, m.start(), m.end())
    listed = {m.end() - len(m.group().lstrip()) for m in _LIST_NUMBER.finditer(text)}
    for start, end, hashed in numeric_spans(text):
        token = text[start:end]
        normalized = normalize_token(token)
        if hashed or any(c.isalpha() for c in normalized):
            if sum(c.isdigit() for c in token) < 3 or len(normalized) < 4:
                continue  # "2nd", "10am", "mp3": not identifiers
        elif sum(c.isdigit() for c in normalized) < 2 or start in listed:
            continue  # single digits are list numbers, steps and counts far more often than facts
        start -= hashed
        add(Claim("number", text[start:end], normalized), start, end)
    for name, keys, pattern in _TERMS:
        if any(key in lower for key in keys):
            for m in word_matches(pattern, lower):
                negated = (
                    bool(m.groupdict().get("neg"))
                    or is_negated(text, m.start())
                    or bool(_NEGATED_AFTER.match(lower, m.end()))
                )
                claim = Claim("term", text[m.start() : m.end()], f"no {name}" if negated else name)
                found.append(Located(claim, m.start(), m.end(), negated=negated))
    for p in locate_promises(text):
        found.append(Located(Claim("promise", p.text, p.normalized), p.start, p.end))
    found.sort(key=lambda located: (located.start, located.end))
    return found


def _contact(raw: str) -> str:
    if "@" in raw:
        return raw.lower()
    if _PHONE.fullmatch(raw):
        digits = re.sub(r"\D", "", raw)
        return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", raw.lower()).rstrip("/")


def extract_claims(text: str) -> tuple[Claim, ...]:
    """The claims of ``text`` in reading order; see :func:`locate_claims`."""
    return tuple(located.claim for located in locate_claims(text))
