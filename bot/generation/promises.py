"""Promises in an answer: "I've cancelled your order", "we'll refund you", "guaranteed".

A promise is a claim about an action or a benefit rather than a figure. A "done" promise (a
past participle: "refunded", "has been cancelled") needs an action result in the evidence that
reports the same action; a "will" promise needs a passage that commits the shop to that benefit.
This module finds both in answers, and the done-statements and commitments in evidence that
can back them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.generation.scanning import (
    SENTENCE_END,
    is_negated,
    keyed_patterns,
    lower_pattern,
    lowered,
    sentence_span,
    word_matches,
)


@dataclass(frozen=True, slots=True)
class Promise:
    """One promise found in a text.

    Attributes:
        normalized: ``"done:<category>"``, ``"will:<category>"`` or ``"guarantee"``.
        text: the span as written.
        start: where the span starts.
        end: where it ends.
    """

    normalized: str
    text: str
    start: int
    end: int


# Verbs in the past participle make "done" claims ("I've cancelled your order"),
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
_PROMISES = keyed_patterns(
    (
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
_GUARANTEE = lower_pattern(r"\bguarantee[ds]?\b|\b(?:i|we) promise\b|\bpromise you\b")
_CONDITIONAL = re.compile(r"\b(?:if|once|when|after|until|unless|whether)\b", re.I)
# A done-statement in an action result, written as a label: "refund issued: $42.00".
_DONE_LABEL = lower_pattern(
    r"\b(?:refunds?|orders?|returns?|exchanges?|credit|status|address|payment|items?|labels?|"
    r"replacements?)\b"
    rf"(?P<gap>[^.\n,;]{{0,30}}?)\s*[:\-–—]?\s*(?P<v>{_PP})\b"
)
# Action results that open with "Done" report everything in that sentence as done.
_DONE_OPENING = re.compile(r"(?:^|[.!?\n])\W*(?:done|success\w*|confirmed)\b")
_PP_WORD = lower_pattern(rf"\b(?P<v>{_PP})\b")
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
    (name, lower_pattern(pattern))
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
    ("change", lower_pattern(r"\bchang|\bupdat|\bedit")),
    ("expedite", lower_pattern(r"\bexpedit")),
)
_CHANGE_OBJECT = re.compile(r"\b(?:address|order|size|colou?r|shipping)\b", re.I)
_COMMITMENT = lower_pattern(
    r"\bwe(?:'ll| will)?\s+(?:\w+\s+){0,3}?(?:refund|issue|give|send|credit|offer|replace|repair|"
    r"waive|apply|reimburse|compensate|cancel|update|change|keep|ship)"
    r"|\byou(?:'ll| will)?\s+(?:\w+\s+){0,2}?(?:get|receive|are entitled|qualify)"
    r"|\b(?:is|are|gets?|will be)\s+(?:\w+\s+)?(?:refunded|issued|credited|waived|replaced|"
    r"repaired|sent|free|given|applied|offered|accepted)\b|\bentitled to\b|\bfree of charge\b"
)
# "Cash on delivery isn't accepted": a term denied by the words right after it.


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
        for m in word_matches(pattern, sentence.lower())[:1]
    ]
    return min(hits)[2] if hits else None


def locate_promises(text: str) -> list[Promise]:
    """Every promise ``text`` makes, in scan order, one per span."""
    found: list[Promise] = []
    lower = lowered(text)
    taken = bytearray(len(text))  # "you will be refunded" is one promise, not two
    for mode, keys, pattern in _PROMISES:
        if not any(key in lower for key in keys):
            continue
        for m in word_matches(pattern, lower):
            begin, stop = sentence_span(text, m.start(), m.end())
            if mode == "done" and _CONDITIONAL.search(text, begin, m.start()):
                continue  # "if the order was cancelled, …" describes policy, not an action
            category = _promise_category(m["v"], text[begin:stop], m.end() - begin)
            if category is None or is_negated(text, m.start("v")):
                continue
            if taken.find(1, m.start(), m.end()) != -1:
                continue
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            found.append(
                Promise(f"{mode}:{category}", text[m.start() : m.end()], m.start(), m.end())
            )
    for m in word_matches(_GUARANTEE, lower) if "guarante" in lower or "promise" in lower else ():
        if not is_negated(text, m.start()):
            found.append(Promise("guarantee", text[m.start() : m.end()], m.start(), m.end()))
    return found


def done_statements(text: str, promised: Iterable[str] | None = None) -> set[str]:
    """The categories of actions ``text`` reports as done, action-result labels included.

    Args:
        text: evidence, e.g. an action result such as "refund issued: $42.00".
        promised: the ``normalized`` forms of the promises of ``text`` if they were already
            located (as claims), to save a scan.
    """
    if promised is None:
        promised = (p.normalized for p in locate_promises(text))
    done = {key[5:] for key in promised if key.startswith("done:")}
    lower = lowered(text)
    if not any(key in lower for key in _DONE_LABEL_KEYS):
        return done
    results = [m for m in word_matches(_DONE_LABEL, lower) if _is_result(m["gap"])]
    for opening in _DONE_OPENING.finditer(lower):
        _, stop = sentence_span(lower, opening.end(), opening.end())
        words = word_matches(_PP_WORD, lower)
        results += [m for m in words if opening.end() <= m.start() < stop]
    for m in results:
        begin, stop = sentence_span(text, m.start(), m.end())
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
    for stop_match in [*SENTENCE_END.finditer(text), None]:
        stop = stop_match.start() if stop_match else len(text)
        lower = lowered(text[begin:stop])
        if any(key in lower for key in _BENEFIT_KEYS) and word_matches(_COMMITMENT, lower):
            for name, pattern in _EVIDENCE_OBJECTS:
                if name not in found and any(
                    not is_negated(lower, m.start()) for m in word_matches(pattern, lower)
                ):
                    found.add(name)
        begin = stop_match.end() if stop_match else stop
    return found
