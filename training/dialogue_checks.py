"""What the bot did in one turn, read from the events it stored, and the checks of a case.

The behaviours of ``data/eval/DIALOGUES.md`` are derived from the turn's tracker events (the
actions run, the slots asked for, the session mode, the bot messages and their metadata) and
from whether the shop's data changed, never from the wording of the replies, so the same
case checks every language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.nlu.language import LanguageDetector
from training.dialogue_cases import Expect

ASKED_SLOTS = {
    "email": "ask_identity",
    "customer_name": "ask_identity",
    "zip_code": "ask_identity",
    "order_id": "ask_order",
    "item_ids": "ask_items",
    "new_item_ids": "ask_new_items",
    "payment_method_id": "ask_payment",
    "new_address": "ask_address",
    "cancel_reason": "ask_reason",
    "confirmed": "confirm",
}
ACTIONS = {
    "utter_greet": "greet",
    "utter_goodbye": "goodbye",
    "utter_thanks": "thanks",
    "action_order_status": "order_status",
    "action_list_orders": "list_orders",
    "action_product_info": "product_info",
    "action_recommend_products": "recommend",
    "action_answer_from_knowledge": "answer",
    "action_answer_generated": "answer",
    "action_handoff": "handoff",
    "utter_offer_handoff": "offer_person",
    "utter_form_stopped": "stopped",
}
HANDOFF_PAYLOAD = "/contact_human_agent"


@dataclass(frozen=True, slots=True)
class Reply:
    """One bot message of the turn."""

    text: str
    buttons: tuple[tuple[str, str], ...]
    metadata: Mapping[str, Any]


@dataclass(slots=True)
class Observed:
    """What the bot did in reply to one shopper turn."""

    behaviours: set[str] = field(default_factory=set)
    replies: list[Reply] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies if r.text)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return [b for r in self.replies for b in r.buttons]


def observe(
    events: Sequence[Mapping[str, Any]],
    *,
    loop_before: str | None,
    loop_after: str | None,
    mode_after: str,
    shop_changed: bool,
    headings: Mapping[str, str],
) -> Observed:
    """The behaviours a turn's new ``events`` show (see the module docstring).

    Args:
        events: the tracker events the turn appended, in order.
        loop_before: the active form before the turn.
        loop_after: the active form after it.
        mode_after: the session mode after the turn ("bot" or "human").
        shop_changed: whether the shop's data changed during the turn.
        headings: passage id -> its section heading, for the ``section`` check.
    """
    seen = Observed()
    ran: list[str] = []
    for event in events:
        kind = event.get("event")
        if kind == "action":
            name = str(event.get("name") or "")
            ran.append(name)
            if name in ACTIONS:
                seen.behaviours.add(ACTIONS[name])
            for prefix in ("utter_ask_", "action_ask_"):
                if name.startswith(prefix) and name[len(prefix) :] in ASKED_SLOTS:
                    seen.behaviours.add(ASKED_SLOTS[name[len(prefix) :]])
        elif kind == "bot":
            seen.replies.append(_reply(event))
    for reply in seen.replies:
        meta = reply.metadata
        if meta.get("fallback"):
            seen.behaviours.add("clarify")
        if meta.get("deflected"):
            seen.behaviours.add("refuse")
        if meta.get("empathy"):
            seen.behaviours.add("empathy")
        if meta.get("handoff_offer") or any(
            p.startswith(HANDOFF_PAYLOAD) for _, p in reply.buttons
        ):
            seen.behaviours.add("offer_person")
        sources = meta.get("sources") or ()
        if sources and isinstance(sources[0], Mapping):
            # The first source is the passage that answered; the others were candidates.
            heading = headings.get(str(sources[0].get("id")))
            if heading:
                seen.sections.append(heading)
    if mode_after == "human" and "action_handoff" in ran:
        seen.behaviours.add("handoff")
    if shop_changed:
        seen.behaviours.add("done")
    elif loop_before and loop_after != loop_before and not _finished_read(ran):
        # The form that was running is gone and nothing was written or looked up.
        seen.behaviours.add("stopped")
    return seen


def _finished_read(ran: Sequence[str]) -> bool:
    return any(
        name in ("action_order_status", "action_list_orders", "action_product_info") for name in ran
    )


def _reply(event: Mapping[str, Any]) -> Reply:
    data = event.get("data") or {}
    buttons = tuple(
        (str(b.get("title", "")), str(b.get("payload", ""))) for b in data.get("buttons") or ()
    )
    text = str(event.get("text") or "")
    custom = data.get("custom")
    if isinstance(custom, Mapping):
        # Product cards and order lists carry names and prices a shopper sees on screen.
        text = "\n".join([text, *_custom_texts(custom)]).strip()
    return Reply(text, buttons, event.get("metadata") or {})


def _custom_texts(custom: Mapping[str, Any]) -> list[str]:
    texts: list[str] = []
    for card in custom.get("product_cards") or ():
        if isinstance(card, Mapping):
            texts.extend(str(card.get(k)) for k in ("name", "title", "price") if card.get(k))
    return texts


def check(
    expect: Expect,
    seen: Observed,
    detector: LanguageDetector,
    *,
    neutral: Sequence[str] = (),
) -> list[str]:
    """Why the turn is wrong (empty when every check holds).

    Args:
        expect: the case's checks for this turn.
        seen: what the bot did.
        detector: decides the reply's language.
        neutral: names that are the same in every language (products), ignored when the
            reply's language is decided.
    """
    problems = []
    for behaviour in expect.does:
        if behaviour not in seen.behaviours:
            problems.append(f"did not {behaviour}")
    for behaviour in expect.does_not:
        if behaviour in seen.behaviours:
            problems.append(f"did {behaviour}")
    text = _folded(seen.text)
    if expect.says_any and not any(_folded(t) in text for t in expect.says_any):
        problems.append(f"says none of {list(expect.says_any)}")
    missing = [t for t in expect.says_all if _folded(t) not in text]
    if missing:
        problems.append(f"does not say {missing}")
    said = [t for t in expect.says_none if _folded(t) in text]
    if said:
        problems.append(f"says {said}")
    if expect.section and not any(_folded(expect.section) == _folded(s) for s in seen.sections):
        problems.append(f"answered from {seen.sections or 'no section'}, not {expect.section!r}")
    if expect.reply_language:
        language = reply_language(seen, detector, neutral)
        if language is not None and language != expect.reply_language:
            problems.append(f"replied in {language}, not {expect.reply_language}")
    return problems


def reply_language(
    seen: Observed, detector: LanguageDetector, neutral: Sequence[str] = ()
) -> str | None:
    """The language most of the reply's own words are in (None: too little text to tell).

    A passage quoted from the shop's pages in another language (the bot marks it
    ``shop_text``) is not the bot's own wording and does not count.
    """
    votes: dict[str, int] = {}
    for reply in seen.replies:
        if not reply.text or reply.metadata.get("shop_text"):
            continue
        guess = detector.guess(reply.text, ignore=neutral)
        if guess.language is not None and guess.confidence >= 0.5:
            votes[guess.language] = votes.get(guess.language, 0) + len(reply.text)
    return max(votes, key=lambda k: votes[k]) if votes else None


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())
