"""The answer guard: every generated answer is checked against its evidence before it is sent.

:func:`check_answer` finds the claims of an answer (amounts, periods, percentages, numbers,
contacts, policy terms, promises, leftover placeholders; see :mod:`bot.generation.claims`) and
says which of them the evidence (retrieved passages and action results) does not back. It is
pure, deterministic and fast enough to run on every answer.

The shopper's message itself is screened before anything is generated, in
:mod:`bot.nlu.screening`.

Matching choices:
    * Numbers are compared by value: "thirty days" == "30 days" == "30-day", "$5" == "$5.00"
      == "5 dollars" == "USD 5", "2 weeks" == "14 days" (weeks count as 7 days). Hours and
      days, and days and months, are never converted ("24 hours" is not "1 day", "a month" is
      not "30 days").
    * An answer may drop "business" from "3-5 business days" if it keeps the numbers and still
      counts days; it may not add "business", change a number, or turn days into weeks.
    * "within/up to N" is backed by a range that ends at N ("within 10 business days" by
      "5-10 business days"); a bare N is not.
    * A term ("store credit", "price match" …) must appear in the evidence. Said positively it
      needs a positive mention ("we don't price match" does not back "we price match"); said
      negatively any mention backs it.
    * A promise that an action is done ("I've cancelled your order", "your refund has been
      issued") needs an action result reporting the same kind of action ("refund issued:
      $42.00"). A promise of a benefit ("you'll get store credit") needs an evidence sentence
      that commits to that benefit. "guaranteed" needs a guarantee in the evidence.
    * Money needs money in the evidence, so action results should print amounts with their
      currency. A bare number (two digits or more, or an id such as "#W4821937" or a tracking
      number) is backed by the same value anywhere in the evidence; single digits are skipped,
      they are list numbers and counts far more often than facts.
    * Pass the shopper's own message as evidence if the answer may repeat numbers from it, and
      fill ``{{placeholders}}`` before checking: a leftover one always fails.

The facts of each evidence passage are cached (they are a pure function of its text), because
knowledge-base passages come back on every question about the same topic.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.generation.claims import Claim, Located, Period, extract_claims, locate_claims
from bot.generation.numbers import numeric_tokens
from bot.generation.promises import committed_categories, done_statements

__all__ = [
    "Claim",
    "GuardVerdict",
    "check_answer",
    "extract_claims",
]


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """What the guard thinks of one answer.

    Attributes:
        ok: True when the answer may be sent: no unsupported claim and no other reason.
        claims: every checked claim found in the answer, in reading order.
        unsupported: the claims the evidence does not back, each (kind, normalized) once.
        reasons: human-readable, e.g. "unsupported period '45 days'", "promises a refund".
    """

    ok: bool
    claims: tuple[Claim, ...]
    unsupported: tuple[Claim, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Facts:
    """What one evidence passage asserts, in the forms answer claims are looked up in.

    Attributes:
        keys: e.g. "money:$5.95", "number:42", "term+:store credit" (a positive mention),
            "term:store credit" (any mention), "done:refund", "commit:credit", "guarantee".
        periods: kept whole, because periods match by value ("2 weeks" backs "14 days").
    """

    keys: frozenset[str]
    periods: tuple[Period, ...]


_PROMISED = {
    "refund": "a refund", "credit": "credit", "discount": "a discount",
    "compensation": "compensation", "waive": "to waive a fee", "free": "something for free",
    "replacement": "a replacement", "cancel": "a cancellation", "label": "a return label",
    "upgrade": "an upgrade", "exchange": "an exchange", "exception": "an exception",
    "change": "a change to the order", "expedite": "faster shipping",
}  # fmt: skip


# Knowledge-base passages come back again and again, so their facts are worth keeping; the
# function is pure, so the cache cannot change a verdict.
@functools.lru_cache(maxsize=1024)
def _facts(passage: str) -> _Facts:
    claims = locate_claims(passage)
    keys = {f"{c.claim.kind}:{c.claim.normalized}" for c in claims if c.claim.kind != "term"}
    for located in claims:
        if located.claim.kind == "term":
            name = located.claim.normalized.removeprefix("no ")
            keys.add(f"term:{name}")
            if not located.negated:
                keys.add(f"term+:{name}")
    keys |= {f"number:{token}" for token in numeric_tokens(passage)}
    promised = (c.claim.normalized for c in claims if c.claim.kind == "promise")
    keys |= {f"done:{category}" for category in done_statements(passage, promised)}
    keys |= {f"commit:{category}" for category in committed_categories(passage)}
    # A promise quoted in the evidence ("I'll refund the $42.00", from a plan the shopper
    # confirmed) backs the same promise in the answer.
    keys |= {f"commit:{k[len('promise:will:') :]}" for k in keys if k.startswith("promise:will:")}
    if re.search(r"guarante|promise", passage, re.IGNORECASE):
        keys.add("guarantee")
    periods = tuple(c.period for c in claims if c.period is not None)
    return _Facts(frozenset(keys), periods)


def _period_backed(claim: Period, evidence: Period) -> bool:
    if claim.family != evidence.family or (claim.business and not evidence.business):
        return False
    if evidence.business and not claim.business and claim.unit != "day":
        return False  # "10 business days" is two working weeks, not "2 weeks"
    if (claim.lo, claim.hi) == (evidence.lo, evidence.hi):
        return True
    return claim.bounded and claim.lo == claim.hi == evidence.hi


def _supported(located: Located, facts: Sequence[_Facts]) -> bool:
    claim = located.claim
    if claim.kind == "placeholder":
        return False
    if located.period is not None:
        period = located.period
        return any(_period_backed(period, e) for fact in facts for e in fact.periods)
    if claim.kind == "term":
        name = claim.normalized.removeprefix("no ")
        wanted = [f"term:{name}" if located.negated else f"term+:{name}"]
    elif claim.kind == "promise":
        mode, _, category = claim.normalized.partition(":")
        wanted = {
            "guarantee": ["guarantee"],
            "done": [f"done:{category}"],
        }.get(mode, [f"commit:{category}", f"done:{category}"])
    else:
        wanted = [f"{claim.kind}:{claim.normalized}"]
    return any(key in fact.keys for fact in facts for key in wanted)


def _reason(claim: Claim) -> str:
    if claim.kind == "placeholder":
        return f"leftover placeholder '{claim.text}'"
    if claim.kind != "promise":
        return f"unsupported {claim.kind} '{claim.text}'"
    mode, _, category = claim.normalized.partition(":")
    if mode == "guarantee":
        return f"gives a guarantee the evidence does not: '{claim.text}'"
    if mode == "done":
        return f"claims an action the evidence does not report: '{claim.text}'"
    return f"promises {_PROMISED.get(category, category)}"


def check_answer(answer: str, evidence: Sequence[str]) -> GuardVerdict:
    """Checks that every claim of a generated answer is backed by the evidence.

    Args:
        answer: the generated text, after placeholders were filled.
        evidence: the retrieved passages and the action results the answer was grounded in
            (and the shopper's message, if the answer may repeat numbers from it).

    Returns:
        The verdict; ``ok`` is False when a claim is unsupported or the answer is empty.
    """
    if not answer.strip():
        return GuardVerdict(False, (), (), ("empty answer",))
    located = locate_claims(answer)
    facts = [_facts(passage) for passage in evidence]
    unsupported: dict[tuple[str, str], Claim] = {}
    for item in located:
        key = (item.claim.kind, item.claim.normalized)
        if key not in unsupported and not _supported(item, facts):
            unsupported[key] = item.claim
    reasons = tuple(dict.fromkeys(_reason(claim) for claim in unsupported.values()))
    claims = tuple(item.claim for item in located)
    return GuardVerdict(not unsupported, claims, tuple(unsupported.values()), reasons)
