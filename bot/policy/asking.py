"""Asking about an action, or asking for it: "can I cancel an order?" is not "cancel my order".

The NLU names the topic of a message (``cancel_order``), not whether the shopper wants the bot
to act or wants to know the shop's rules. A question about a business topic ("how long do I
have to cancel?", "is a return free if I used my own box?") deserves the policy's answer
from the knowledge base; starting the cancellation form would ask for an email address
instead. :func:`reads_as_question` tells the two apart from the wording, in English,
with rules simple enough to predict. A message is read clause by clause (split at sentence
ends, commas, semicolons and dashes), because shoppers put the context first and the ask
last ("the boots pinch at the toes, could you send a half size up?").

- a request: a clause opens with a wish ("I want", "I'd like", "please", "can you", "any chance
  you could", "I was wondering if you could"), the message opens with an instruction ("cancel
  …") or asks the bot to act "for me"; it names an order (an order number, "this morning's
  order", "my last order"); it asks leave to act on the shopper's own order ("can I change the
  payment on my order?", but not "can I cancel my order after it ships?"); or it asks after the
  state of the shopper's own things ("where is my order?", "has the stove I ordered shipped?",
  "I sent the jacket back last week, has it arrived?") without only supposing ("what if my
  parcel is lost?", "say my parcel has left…"). A polite wrapper around a question ("can you
  tell me", "I'd like to know", "I was wondering how …") is not a wish, and "my order" alone
  does not make one: "would swapping the colour on my order change the delivery date?" asks
  about the rules. Nor is asking what the shop does in a case: "can you return swimwear if the
  seal is intact?" (a condition, nothing of the shopper's), or "are you able to …" unless it
  names the shopper's own things or "me" and supposes nothing ("are you able to cancel the bag
  I ordered?" is a wish; "… to refund to another card, say if mine was closed?" is not);
- a question: otherwise, when it ends with a question mark or a clause opens with a question
  word or an inverted verb ("how", "what", "is there", "can I", "do you", "what if").

The rules were written against ``data/eval/asking-dev.yml`` and ``asking-dev-2.yml`` and are
scored on ``data/eval/asking.yml`` and ``asking-2.yml`` (``benchmarks/asking.py``). The policy
answers a question about a business topic when the knowledge base has a relevant section and
starts the flow when it has none (``Answer.otherwise``), so a shopper who really meant to act
is never left with "I didn't get that".
"""

from __future__ import annotations

import re
from typing import Literal

from bot.nlu.wording import opens_with, words

Reading = Literal["request", "question"]

# Where a message is cut into clauses; each clause's opening is read on its own.
_CLAUSE_BREAK = re.compile(r"[.!?;,:]+(?:\s|$)|\s[-\u2013\u2014]+\s|\n")

# An order named outright: "#4821937", "order 4821937", or a bare order-sized number.
_ORDER_NUMBER = re.compile(
    r"#\s?\w*\d{4,}|\border\s+(?:number\s+|no\.?\s*)?\d{4,}|(?<![\w$£€.,/-])\d{6,10}(?![\w.,/-])",
    re.IGNORECASE,
)
# A particular order named by when it was placed ("my last order", "yesterday's order").
_THAT_ORDER = re.compile(
    r"\b(?:(?:this\s+morning|yesterday|today|last\s+night|tonight)'s|my\s+(?:last|latest|"
    r"most\s+recent|previous))\s+order\b",
    re.IGNORECASE,
)
# The shopper's own things, or things they did ("my parcel", "the tent I ordered").
_OWN = re.compile(
    r"\bmy\b|\bmine\b|\bour\s+order\b|\bi\s+(?:just\s+)?(?:ordered|returned|bought|sent|"
    r"placed|paid|mailed|posted|shipped|dropped)\b|\bi've\s+(?:ordered|returned|sent|paid)\b",
    re.IGNORECASE,
)
# How things the shopper is waiting for stand: asking after it is a lookup of their order.
_STATE = re.compile(
    r"\b(?:arrived|shipped|dispatched|lost|missing|stuck|late|delayed|gone\s+through|"
    r"went\s+through|come\s+through|showed\s+up|shown\s+up|turned\s+up|processed|"
    r"(?:hasn't|has\s+not|haven't|have\s+not|didn't|did\s+not|never)\s+(?:arrived|come|moved|"
    r"updated|changed|shown|turned|been|got|received|heard|shipped))\b|\bwhere(?:'s|\s+is|"
    r"\s+are)?\s+(?:my|mine|it|they)\b|\bstatus\s+of\s+my\b",
    re.IGNORECASE,
)

# Said before the message proper; skipped when reading how it opens.
_LEAD_INS = frozenset(
    {"hi", "hello", "hey", "ok", "okay", "so", "um", "uh", "hmm", "and", "also", "btw", "oh",
     "well", "yes", "yeah", "no", "thanks", "quick", "question", "but", "sorry"}
)  # fmt: skip
# "I was wondering" wraps a question unless a wish follows ("… if you could check my order").
_WONDERING_WISHES = tuple(
    ("i", "was", "wondering", "if", "you", m) for m in ("could", "can", "would")
)
# A wish to be told ("any chance you could tell me …") is a question.
_TELLING = frozenset({"tell", "explain", "telling", "explaining"})
_FILLERS = frozenset({"to", "could", "can", "would", "please", "just", "quickly"})
# Asking whether the bot can do something, which may ask what the shop does in general.
_ABILITY = (("can", "you"), ("can", "u"), ("could", "you"))
_ABLE = (("are", "you", "able"),)
_REQUEST_OPENINGS = (
    ("i", "want"),
    ("i", "wanna"),
    ("i'd", "like"),
    ("i", "would", "like"),
    ("i", "need", "to"),
    ("i", "need", "you"),
    ("please",),
    ("pls",),
    *_ABILITY,
    ("any", "chance", "you"),
    *_WONDERING_WISHES,
    # "would you" and "will you" alone ask about the rules as often ("will you get more?")
    ("would", "you", "be", "able"),
    ("would", "you", "mind"),
    ("will", "you", "please"),
    ("help", "me"),
    ("let", "me"),
    ("go", "ahead"),
)
# Polite wrappers around a question, which would otherwise read as requests.
# ("can you tell me …" and other wishes to be told: _wraps_a_question.)
_ASKING_OPENINGS = (
    ("i", "want", "to", "know"),
    ("i", "want", "to", "understand"),
    ("i'd", "like", "to", "know"),
    ("i'd", "like", "to", "understand"),
    ("i", "would", "like", "to", "know"),
    ("i", "would", "like", "to", "understand"),
    ("i", "was", "wondering"),
    ("i", "wonder"),
    ("just", "wondering"),
)
# Openings that only suppose: what follows is not the shopper's case but a "what if".
_SUPPOSING = (
    ("if",),
    ("what", "if"),
    ("what", "happens"),
    ("say",),
    ("suppose",),
    ("supposing",),
    ("let's", "say"),
    ("once",),
    ("in", "case"),
)
_IMPERATIVES = frozenset(
    {"cancel", "return", "refund", "exchange", "swap", "change", "update", "track", "send",
     "ship", "start", "process", "add", "remove", "set", "use", "show", "find", "check", "give"}
)  # fmt: skip
_ASKING_LEAVE = (("can", "i"), ("could", "i"), ("may", "i"))
_FOR_ME = frozenset({"me", "us"})
_FINDING_OUT = frozenset({"see", "check", "find", "out", "know", "tell", "ask", "confirm", "look"})
# Words that make "my order … shipped" a time in the rules, not the state of the order.
_TIME_CONDITIONS = frozenset({"after", "once", "when", "before", "unless", "until"})
# ... and, with these, "can I cancel my order …" a question about when and whether it is
# allowed. ("if" and "whether" are not time conditions: they also open indirect questions,
# "tell me whether it has shipped".)
_CONDITIONS = _TIME_CONDITIONS | frozenset({"if", "without", "while", "even", "or", "whether"})
# ... of which these, after "can you", make it a question about a case ("or" and "even" join
# two things to do as often: "can you swap it or refund it?").
_ABILITY_CONDITIONS = _CONDITIONS - {"or", "even"}
_QUESTION_OPENINGS = frozenset(
    {"how", "what", "what's", "whats", "when", "where", "why", "which", "who", "whose", "is",
     "are", "was", "were", "do", "does", "did", "can", "could", "may", "might", "will",
     "would", "should", "shall", "am", "if", "any", "isn't", "aren't", "don't", "doesn't"}
)  # fmt: skip


def _opening(clause: str) -> list[str]:
    """The words of ``clause`` from where it starts proper (lead-ins skipped)."""
    said = words(clause)
    start = 0
    while start < len(said) - 1 and said[start] in _LEAD_INS:
        start += 1
    return said[start:]


def _openings(text: str) -> list[list[str]]:
    """The opening words of each clause of ``text`` that has any, in order."""
    return [o for o in (_opening(c) for c in _CLAUSE_BREAK.split(text)) if o]


def _wishes(opening: list[str], supposing: bool = False) -> bool:
    """Whether a clause opens with a wish; ``supposing``: another clause supposes a case."""
    # A lone "please" after a question ("how long do refunds take, please?") asks nothing.
    if len(opening) < 2 or _wraps_a_question(opening):
        return False
    conditional = _conditional(opening)
    if opens_with(opening, _ABLE):
        # Asks what the shop can do, unless it is about the shopper's own things and no case
        # is supposed: "are you able to cancel the bag I ordered?", "… send me a label?".
        return _for_the_shopper(opening) and not (conditional or supposing)
    if opens_with(opening, _ABILITY) and conditional and not _for_the_shopper(opening):
        # What the shop does in a case: "can you return swimwear if the seal is intact?"
        return False
    return opens_with(opening, _REQUEST_OPENINGS)


def _wraps_a_question(opening: list[str]) -> bool:
    """A polite wrapper around a question: "can you tell me …", "are you able to explain …",
    "I was wondering how …", but not "I was wondering if you could check my order"."""
    for wish in (*_REQUEST_OPENINGS, *_ABLE):
        if tuple(opening[: len(wish)]) == wish:
            rest = opening[len(wish) :]
            while rest and rest[0] in _FILLERS:
                rest = rest[1:]
            if rest and rest[0] in _TELLING:
                return True
    return opens_with(opening, _ASKING_OPENINGS) and not opens_with(opening, _WONDERING_WISHES)


def _conditional(opening: list[str]) -> bool:
    """Whether a clause supposes a case; "if" after "see" or "check" asks, it does not suppose
    ("can you check if my refund went out?")."""
    return any(
        word in _ABILITY_CONDITIONS
        and not (word in ("if", "whether") and i > 0 and opening[i - 1] in _FINDING_OUT)
        for i, word in enumerate(opening)
    )


def _for_the_shopper(opening: list[str]) -> bool:
    """Whether a clause names the shopper's own things or asks something for them ("me")."""
    return bool(_OWN.search(" ".join(opening))) or not _FOR_ME.isdisjoint(opening)


def _asks_after_own_order(text: str, supposing: bool) -> bool:
    """Whether the message asks how the shopper's own order, parcel or refund stands;
    ``supposing``: a clause opens with a supposition."""
    # "What if my parcel is lost?" supposes a case; it does not report one.
    if supposing or not _OWN.search(text):
        return False
    return any(_reported(text, state.start()) for state in _STATE.finditer(text))


def _reported(text: str, position: int) -> bool:
    """Whether the state at ``position`` is told as fact, not supposed ("once it has shipped")."""
    clause = _CLAUSE_BREAK.split(text[:position])[-1]
    return _TIME_CONDITIONS.isdisjoint(words(clause))


def _asks_to_act_on_own(opening: list[str]) -> bool:
    """Whether a clause asks leave to act on the shopper's own things ("can I change the
    payment on my order?") with no condition that makes it a question about the rules
    ("can I cancel my order after it ships?")."""
    if not (opens_with(opening, _ASKING_LEAVE) and len(opening) > 2):
        return False
    verb = opening[3] if opening[2] in ("still", "just") and len(opening) > 3 else opening[2]
    return verb in _IMPERATIVES and "my" in opening and _CONDITIONS.isdisjoint(opening)


def reading(text: str) -> Reading | None:
    """How ``text`` reads (see the module doc): a request to act, a question about the shop's
    rules, or neither (a bare detail such as "the blue one"); a button payload is a request."""
    if text.lstrip().startswith("/"):
        return "request"
    openings = _openings(text)
    if not openings:
        return None
    if _requests(text, openings):
        return "request"
    if text.rstrip().endswith("?") or any(
        o[0] in _QUESTION_OPENINGS or opens_with(o, _ASKING_OPENINGS) for o in openings
    ):
        return "question"
    return None


def _requests(text: str, openings: list[list[str]]) -> bool:
    supposing = any(opens_with(o, _SUPPOSING) for o in openings)
    if any(_wishes(o, supposing) or _asks_to_act_on_own(o) for o in openings):
        return True
    if openings[0][0] in _IMPERATIVES:
        return True
    if "for me" in " ".join(words(text)) or _ORDER_NUMBER.search(text) or _THAT_ORDER.search(text):
        return True
    return _asks_after_own_order(text, supposing)


def reads_as_request(text: str) -> bool:
    """Whether ``text`` asks the bot to act (:func:`reading`)."""
    return reading(text) == "request"


def reads_as_question(text: str) -> bool:
    """Whether ``text`` asks about the shop's rules rather than for an action (:func:`reading`)."""
    return reading(text) == "question"
