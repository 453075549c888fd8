"""Asking about an action, or asking for it: "can I cancel an order?" is not "cancel my order".

The NLU names the topic of a message (``cancel_order``), not whether the shopper wants the bot
to act or wants to know the shop's rules. A question about a business topic ("how long do I
have to cancel?", "where do I take the box once I've printed the return label?") deserves the
policy's answer from the knowledge base; starting the cancellation form would ask for an email
address instead. :func:`reads_as_question` tells the two apart from the wording, in English,
with rules simple enough to predict:

- a request: the message opens with a wish or an instruction ("I want", "I'd like", "please",
  "can you", "cancel …"), asks the bot to act "for me", names an order number or speaks of
  the shopper's own order, parcel, refund or payment ("where is my order?", unless it only
  supposes: "if my order…", "what happens if…"); a polite
  wrapper around a question ("can you tell me", "I'd like to know") is not one;
- a question: otherwise, when it ends with a question mark or opens with a question word or
  an inverted verb ("how", "what", "is there", "can I", "do you", "what if").

The policy answers a question about a business topic when the knowledge base has a relevant
section, and starts the flow when it has none (``Answer.otherwise``), so a shopper who really
meant to act is never left with "I didn't get that".
"""

from __future__ import annotations

import re

from bot.nlu.wording import opens_with, words

# The shopper's own order is something to act on ("where is my order?"); questions about the
# rules speak of orders in general ("can an order be cancelled after it ships?").
_MINE = re.compile(
    r"\bmy\s+(?:last\s+|recent\s+|latest\s+)?(?:order|orders|package|parcel|shipment|delivery|"
    r"refund|return|payment|money|purchase)\b",
    re.IGNORECASE,
)
_ORDER_NUMBER = re.compile(r"#\s?\w*\d{4,}|\border\s+(?:number\s+|no\.?\s*)?\d{4,}", re.IGNORECASE)

# Said before the message proper; skipped when reading how it opens.
_LEAD_INS = frozenset(
    {"hi", "hello", "hey", "ok", "okay", "so", "um", "uh", "hmm", "and", "also", "btw", "oh",
     "well", "yes", "yeah", "no", "thanks", "quick", "question"}
)  # fmt: skip
_REQUEST_OPENINGS = (
    ("i", "want"),
    ("i", "wanna"),
    ("i'd", "like"),
    ("i", "would", "like"),
    ("i", "need", "to"),
    ("i", "need", "you"),
    ("please",),
    ("pls",),
    ("can", "you"),
    ("can", "u"),
    ("could", "you"),
    ("would", "you"),
    ("will", "you"),
    ("help", "me"),
    ("let", "me"),
    ("go", "ahead"),
)
# Polite wrappers around a question, which would otherwise read as requests.
_ASKING_OPENINGS = (
    ("can", "you", "tell"),
    ("could", "you", "tell"),
    ("can", "you", "explain"),
    ("could", "you", "explain"),
    ("i", "want", "to", "know"),
    ("i'd", "like", "to", "know"),
    ("i", "would", "like", "to", "know"),
    ("i", "was", "wondering"),
    ("i", "wonder"),
    ("just", "wondering"),
)
_IMPERATIVES = frozenset(
    {"cancel", "return", "refund", "exchange", "swap", "change", "update", "track", "send",
     "ship", "start", "process", "add", "remove", "set", "use", "show", "find", "check", "give"}
)  # fmt: skip
_QUESTION_OPENINGS = frozenset(
    {"how", "what", "what's", "whats", "when", "where", "why", "which", "who", "whose", "is",
     "are", "was", "were", "do", "does", "did", "can", "could", "may", "might", "will",
     "would", "should", "shall", "am", "if", "any", "isn't", "aren't", "don't", "doesn't"}
)  # fmt: skip


def _opening(text: str) -> list[str]:
    """The words of ``text`` from where the message proper starts (lead-ins skipped)."""
    said = words(text)
    start = 0
    while start < len(said) - 1 and said[start] in _LEAD_INS:
        start += 1
    return said[start:]


def reads_as_request(text: str) -> bool:
    """Whether ``text`` asks the bot to act (see the module doc); a button payload does."""
    if text.lstrip().startswith("/"):
        return True
    opening = _opening(text)
    if not opening or opens_with(opening, _ASKING_OPENINGS):
        return False
    if opens_with(opening, _REQUEST_OPENINGS) or opening[0] in _IMPERATIVES:
        return True
    if "for me" in " ".join(opening) or _ORDER_NUMBER.search(text):
        return True
    # "If my order costs less than my gift card…" supposes; it does not ask for an action.
    supposes = opening[0] == "if" or opens_with(opening, (("what", "if"), ("what", "happens")))
    return not supposes and bool(_MINE.search(text))


def reads_as_question(text: str) -> bool:
    """Whether ``text`` asks about the shop's rules rather than for an action."""
    if reads_as_request(text):
        return False
    opening = _opening(text)
    if not opening:
        return False
    return (
        text.rstrip().endswith("?")
        or opening[0] in _QUESTION_OPENINGS
        or opens_with(opening, _ASKING_OPENINGS)
    )
