"""What a generated answer asserts: the claims the answer guard checks against evidence.

A claim is a span of the answer that would hurt if it were invented: an amount, a period, a
percentage, an order or tracking number, a contact address, a policy term ("store credit"), a
promise ("I've cancelled your order") or a template placeholder left unfilled. Extraction is
pure regular-expression work so that the guard stays fast and deterministic; the same scanners
read the evidence, so an answer and a passage that say the same thing normalize the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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

# fmt: off
_NEGATORS = frozenset((
    "no", "not", "never", "cannot", "can't", "don't", "doesn't", "didn't", "won't", "isn't",
    "aren't", "wasn't", "weren't", "without", "nor", "neither", "unable",
))
# fmt: on


def _lower_pattern(pattern: str) -> re.Pattern[str]:
    """Compiles a pattern for lower-cased text, without the leading ``\\b`` of each branch.

    A pattern that starts with a literal lets the regex engine skip ahead to where that literal
    occurs, which makes the scan ten times faster; a leading ``\\b`` or IGNORECASE prevents
    it, so matches are searched in lower-cased text and checked with :func:`_word_matches`.
    """
    return re.compile(re.sub(r"(^|\|)\\b", r"\1", pattern))


# Each term with the lower-case words one of which must occur for a regex search to be worth it.
# fmt: off
_TERMS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (name, tuple(keys.split("|")), _lower_pattern(pattern))
    for name, keys, pattern in (
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

# Promises. Verbs in the past participle make "done" claims ("I've cancelled your order"),
# which only an action result in the evidence can back; base forms make "will" claims.
_PP = (
    r"(?:refunded|reimbursed|credited|issued|processed|approved|applied|waived|cancell?ed|"
    r"compensated|sent|given|added|upgraded|changed|updated|replaced|arranged|initiated|"
    r"submitted|scheduled|expedited)"
)
_BASE = (
    r"(?:refund|reimburse|credit|issue|process|approve|apply|waive|cancel|compensate|send|give|"
    r"add|upgrade|change|update|replace|arrange|initiate|expedite|offer|provide|honou?r|"
    r"make an exception|make sure you get|get you)"
)
_ADV = r"(?:\s+(?:just|already|now|also|successfully|personally|immediately|gone ahead and))*"
_WILL = (
    r"(?:'ll|’ll|\s+will|\s+shall|\s+can|'m going to|\s+am going to|'re going to|\s+are going to)"
)
_YOU_GET = rf"receive|get|be\s+(?:\w+\s+)?{_PP}"
_SOME = r"\s+(?:\w+\s+){0,2}?"  # up to two words between subject and verb: "we'll also gladly"
# Each promise form with the lower-case words one of which it needs, to skip hopeless scans.
# Present passives ("refunds are issued within …") describe policy; only the past tense or an
# explicit "now"/"already" reports an action.
# fmt: off
_PROMISES: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (mode, tuple(keys.split("|")), _lower_pattern(pattern))
    for mode, keys, pattern in (
        ("done", "i|we", rf"\b(?:i|we)(?:\s*(?:'ve|’ve|have|had))?{_ADV}\s+(?P<v>{_PP})\b"),
        ("done", "been", rf"\b(?:has|have|had)\s+(?:\w+\s+)?been{_ADV}\s+(?P<v>{_PP})\b"),
        ("done", "was|were", rf"\b(?:was|were){_ADV}\s+(?P<v>{_PP})\b"),
        ("done", "now|already", rf"\b(?:is|are)\s+(?:now|already)\s+(?P<v>{_PP})\b"),
        ("will", "ll|will|shall|can|going", rf"\b(?:i|we){_WILL}{_SOME}(?P<v>{_BASE})\b"),
        ("will", "let me", rf"\blet me\s+(?P<v>{_BASE})\b"),
        ("will", "ll|will|shall|can|going", rf"\byou{_WILL}{_SOME}(?P<v>{_YOU_GET})\b"),
        ("will", "will", rf"\bwill\s+(?:\w+\s+)?be\s+(?P<v>{_PP})\b"),
    )
)
# fmt: on
_GUARANTEE = _lower_pattern(r"\bguarantee[ds]?\b|\b(?:i|we) promise\b|\bpromise you\b")
_CONDITIONAL = re.compile(r"\b(?:if|once|when|after|until|unless|whether)\b", re.I)
# A done-statement in an action result, written as a label: "refund issued: $42.00".
_DONE_LABEL = _lower_pattern(
    r"\b(?:refunds?|orders?|returns?|exchanges?|credit|status|address|payment|items?|labels?|"
    r"replacements?)\b"
    rf"(?P<gap>[^.\n,;]{{0,30}}?)\s*[:\-–—]?\s*(?P<v>{_PP})\b"
)
# Action results that open with "Done" report everything in that sentence as done.
_DONE_OPENING = re.compile(r"(?:^|[.!?\n])\W*(?:done|success\w*|confirmed)\b")
_PP_WORD = _lower_pattern(rf"\b(?P<v>{_PP})\b")
_DONE_LABEL_KEYS = tuple(_PP.strip("(?:)").replace("cancell?ed", "cancel").split("|"))
_BENEFIT_KEYS = (
    "refund", "money back", "reimburs", "credit", "gift", "discount", "coupon", "voucher",
    "promo", "%", "percent", "off your", "compensat", "goodwill", "waive", "free", "replac",
    "cancel", "label", "upgrade", "exchang", "exception", "chang", "updat", "edit", "expedit",
)  # fmt: skip
_GAP_VERB = re.compile(r"\b(?:is|are|be|can|cannot|will|may|must|not|never|if|when|once)\b", re.I)

_VERB_CATEGORY = (
    ("refund", "refund"), ("reimburs", "refund"), ("credit", "credit"), ("waiv", "waive"),
    ("cancel", "cancel"), ("compensat", "compensation"), ("upgrad", "upgrade"),
    ("replac", "replacement"), ("chang", "change"), ("updat", "change"), ("expedit", "expedite"),
    ("exception", "exception"),
)  # fmt: skip
_OBJECTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, _lower_pattern(pattern))
    for name, pattern in (
        ("refund", r"\brefund|\bmoney back\b|\breimburse"),
        ("credit", r"\bstore credit\b|\bcredit\b|\bgift ?card"),
        ("discount", r"\bdiscount|\bcoupon|\bvoucher|\bpromo|\d\s?%|\bpercent\b|\boff your\b"),
        ("compensation", r"\bcompensat|\bgoodwill\b"),
        ("waive", r"\bwaive"),
        ("free", r"\bfree\b"),
        ("replacement", r"\breplace"),
        ("cancel", r"\bcancel"),
        ("label", r"\blabel"),
        ("upgrade", r"\bupgrade"),
        ("exchange", r"\bexchang"),
        ("exception", r"\bexception\b"),
    )
)
# Evidence states changes and speed-ups in words the promise objects leave out on purpose.
_EVIDENCE_OBJECTS = (
    *_OBJECTS,
    ("change", _lower_pattern(r"\bchang|\bupdat|\bedit")),
    ("expedite", _lower_pattern(r"\bexpedit")),
)
_CHANGE_OBJECT = re.compile(r"\b(?:address|order|size|colou?r|shipping)\b", re.I)
_COMMITMENT = _lower_pattern(
    r"\bwe(?:'ll| will)?\s+(?:\w+\s+){0,3}?(?:refund|issue|give|send|credit|offer|replace|repair|"
    r"waive|apply|reimburse|compensate|cancel|update|change|keep|ship)"
    r"|\byou(?:'ll| will)?\s+(?:\w+\s+){0,2}?(?:get|receive|are entitled|qualify)"
    r"|\b(?:is|are|gets?|will be)\s+(?:\w+\s+)?(?:refunded|issued|credited|waived|replaced|"
    r"repaired|sent|free|given|applied|offered|accepted)\b|\bentitled to\b|\bfree of charge\b"
)
# "Cash on delivery isn't accepted": a term denied by the words right after it.
_NEGATED_AFTER = re.compile(
    r"\s+(?:(?:is|are|was|were)\s+(?:not|never)\b|(?:isn't|aren't|wasn't|weren't|isn’t|aren’t)|"
    r"not\s+(?:accepted|available|offered|possible)\b)"
)
_SENTENCE_END = re.compile(r"(?<!\d)[.!?]+(?=\s|$)|\n")


def _sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence (or line) around ``text[start:end]``.

    At most 150 characters either side, so that a long run-on answer cannot make scans quadratic.
    """
    begin = max(0, start - 150)
    for m in _SENTENCE_END.finditer(text, begin, start):
        begin = m.end()
    stop = _SENTENCE_END.search(text, end, end + 150)
    return begin, (stop.start() if stop else min(len(text), end + 150))


def _is_negated(text: str, start: int) -> bool:
    """Whether one of the four words before ``start``, in the same clause, negates it."""
    window = text[max(0, start - 40) : start].lower().replace("’", "'")
    cut = max(max(window.rfind(c) for c in ".;:!?,\n"), window.rfind(" but "))
    words = [w.strip('"()*') for w in window[cut + 1 :].split()[-4:]]
    return any(word in _NEGATORS or word.endswith("n't") for word in words)


def _lowered(text: str) -> str:
    """``text.lower()`` with every character at its original index."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)  # e.g. "İ"


def _word_matches(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Matches of a :func:`_lower_pattern` pattern that start at the beginning of a word."""
    return [
        m for m in pattern.finditer(text) if m.start() == 0 or not text[m.start() - 1].isalnum()
    ]


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


def _promise_category(verb: str, sentence: str, after: int = 0) -> str | None:
    """What a promise is about ("refund", "discount", "cancel" …), or None if nothing that matters.

    Specific verbs name it ("refunded" -> refund); generic ones ("issued", "I'll give you")
    take it from the first benefit the sentence mentions after the verb (else before it), so
    "I'll send you an email" is no promise at all while "I've issued a store credit" is one.
    """
    verb = verb.lower()
    for stem, category in _VERB_CATEGORY:
        if stem in verb:
            if category == "change" and not _CHANGE_OBJECT.search(sentence):
                return None
            return category
    hits = [
        (m.start() < after, m.start(), name)
        for name, pattern in _OBJECTS
        for m in _word_matches(pattern, sentence.lower())[:1]
    ]
    return min(hits)[2] if hits else None


def _promises(text: str) -> list[Located]:
    found: list[Located] = []
    lower = _lowered(text)
    taken = bytearray(len(text))  # "you will be refunded" is one promise, not two
    for mode, keys, pattern in _PROMISES:
        if not any(key in lower for key in keys):
            continue
        for m in _word_matches(pattern, lower):
            begin, stop = _sentence_span(text, m.start(), m.end())
            if mode == "done" and _CONDITIONAL.search(text, begin, m.start()):
                continue  # "if the order was cancelled, …" describes policy, not an action
            category = _promise_category(m["v"], text[begin:stop], m.end() - begin)
            if category is None or _is_negated(text, m.start("v")):
                continue
            if taken.find(1, m.start(), m.end()) != -1:
                continue
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            claim = Claim("promise", text[m.start() : m.end()], f"{mode}:{category}")
            found.append(Located(claim, m.start(), m.end()))
    for m in _word_matches(_GUARANTEE, lower) if "guarante" in lower or "promise" in lower else ():
        if not _is_negated(text, m.start()):
            claim = Claim("promise", text[m.start() : m.end()], "guarantee")
            found.append(Located(claim, m.start(), m.end()))
    return found


def done_statements(text: str, located: Sequence[Located] | None = None) -> set[str]:
    """The categories of actions ``text`` reports as done, action-result labels included.

    Args:
        text: evidence, e.g. an action result such as "refund issued: $42.00".
        located: the claims of ``text`` if they were already located, to save scanning again.
    """
    claims = _promises(text) if located is None else located
    done = {c.claim.normalized[5:] for c in claims if c.claim.normalized.startswith("done:")}
    lower = _lowered(text)
    if not any(key in lower for key in _DONE_LABEL_KEYS):
        return done
    results = [m for m in _word_matches(_DONE_LABEL, lower) if _is_result(m["gap"])]
    for opening in _DONE_OPENING.finditer(lower):
        _, stop = _sentence_span(lower, opening.end(), opening.end())
        words = _word_matches(_PP_WORD, lower)
        results += [m for m in words if opening.end() <= m.start() < stop]
    for m in results:
        begin, stop = _sentence_span(text, m.start(), m.end())
        category = _promise_category(m["v"], text[begin:stop], m.end() - begin)
        if category:
            done.add(category)
    return done


def _is_result(gap: str) -> bool:
    # "orders are refunded" is policy; "order #W1 cancelled" and "order #W1 is cancelled" are
    # results: a verb between noun and participle is only allowed next to an order number.
    return not _GAP_VERB.search(gap) or any(c.isdigit() for c in gap)


def committed_categories(text: str) -> set[str]:
    """Benefit categories that some sentence of ``text`` commits to, without negation."""
    found: set[str] = set()
    begin = 0
    for stop_match in [*_SENTENCE_END.finditer(text), None]:
        stop = stop_match.start() if stop_match else len(text)
        lower = _lowered(text[begin:stop])
        if any(key in lower for key in _BENEFIT_KEYS) and _word_matches(_COMMITMENT, lower):
            for name, pattern in _EVIDENCE_OBJECTS:
                if name not in found and any(
                    not _is_negated(lower, m.start()) for m in _word_matches(pattern, lower)
                ):
                    found.add(name)
        begin = stop_match.end() if stop_match else stop
    return found


def locate_claims(text: str) -> list[Located]:
    """Every claim in ``text`` with its position, in reading order.

    Spans are taken in priority order (placeholders, contacts, money, periods, percentages,
    numbers) and a later kind never claims a span an earlier one took, so "$5.95" is one money
    claim rather than also the number 5.95. Terms and promises are phrases over the same text
    and are kept alongside. Each scan runs only when a cheap test says it can match.
    """
    taken = bytearray(len(text))  # 1 where an earlier claim already took the character
    found: list[Located] = []
    lower = _lowered(text)

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
            for m in _word_matches(pattern, lower):
                negated = (
                    bool(m.groupdict().get("neg"))
                    or _is_negated(text, m.start())
                    or bool(_NEGATED_AFTER.match(lower, m.end()))
                )
                claim = Claim("term", text[m.start() : m.end()], f"no {name}" if negated else name)
                found.append(Located(claim, m.start(), m.end(), negated=negated))
    found.extend(_promises(text))
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
