"""The typed dialogue state: what the conversation has established, beside Rasa's slots.

One frozen value, written once per turn as the ``dialogue_state`` slot (so it is stored with
the events, replayed with them, and travels to the action server), read by the understanding
(the bot's last message is the context of the next one; its buttons are the options a reply
may pick) and by the policy (an open offer, a pending confirmation, the last product and
order that "it" may mean, how many upset or misunderstood messages in a row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from bot.domain import REQUESTED_SLOT, Event, TrackerView
from bot.knowledge.followup import TOPIC_MESSAGES

STATE_SLOT = "dialogue_state"
LANGUAGE_SLOT = "language"
PROMPT_CHARS = 600
"""The bot's last message is kept this long; the act head needs its gist, not all of it."""

OfferKind = Literal["action", "handoff"]
TopicKind = Literal["knowledge", "product", "order"]


@dataclass(frozen=True, slots=True)
class Option:
    """A button the bot offered: what it says and what pressing it sends."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Offer:
    """What the bot's last message offered: to start a flow (``intent``) or a person."""

    kind: OfferKind
    intent: str | None = None


@dataclass(frozen=True, slots=True)
class DialogueState:
    """See the module docstring.

    Attributes:
        language: the conversation's language (ISO 639-1), None before the first message.
        topic: the shopper messages behind the last answer (knowledge or product), oldest
            first; empty when the last turn answered nothing.
        topic_kind: what the topic was answered from.
        offer: an offer the bot's last message made, if any.
        options: the buttons of the bot's last turn.
        last_product: the product last asked about or shown.
        last_order: the order last looked up or chosen.
        last_prompt: the bot's last message (context for reading the next one).
        pending: the form waiting for a yes or no to its summary, if any.
        upset_in_a_row: frustrated or angry messages in a row, this one included.
        misunderstood_in_a_row: turns in a row the bot did not understand.
    """

    language: str | None = None
    topic: tuple[str, ...] = ()
    topic_kind: TopicKind | None = None
    offer: Offer | None = None
    options: tuple[Option, ...] = ()
    last_product: str | None = None
    last_order: str | None = None
    last_prompt: str = ""
    pending: str | None = None
    upset_in_a_row: int = 0
    misunderstood_in_a_row: int = 0
    handoff_reason: str | None = field(default=None)

    def to_slot(self) -> dict[str, Any]:
        """A JSON-safe dict for the ``dialogue_state`` slot."""
        return asdict(self)

    @classmethod
    def from_slot(cls, value: Any) -> DialogueState:
        """The state a slot value holds; an empty state for a missing or foreign value."""
        if not isinstance(value, Mapping):
            return cls()
        offer = value.get("offer")
        options = value.get("options") or ()
        kind = value.get("topic_kind")
        return cls(
            language=_text(value.get("language")),
            topic=tuple(str(m) for m in value.get("topic") or () if isinstance(m, str)),
            topic_kind=kind if kind in ("knowledge", "product", "order") else None,
            offer=(
                Offer(offer.get("kind", "action"), _text(offer.get("intent")))
                if isinstance(offer, Mapping)
                else None
            ),
            options=tuple(
                Option(str(o.get("title", "")), str(o.get("payload", "")))
                for o in options
                if isinstance(o, Mapping)
            ),
            last_product=_text(value.get("last_product")),
            last_order=_text(value.get("last_order")),
            last_prompt=str(value.get("last_prompt") or ""),
            pending=_text(value.get("pending")),
            upset_in_a_row=int(value.get("upset_in_a_row") or 0),
            misunderstood_in_a_row=int(value.get("misunderstood_in_a_row") or 0),
            handoff_reason=_text(value.get("handoff_reason")),
        )

    @classmethod
    def of(cls, tracker: TrackerView) -> DialogueState:
        """The state stored in ``tracker`` (a session start clears it, as it clears slots)."""
        return cls.from_slot(tracker.slots.get(STATE_SLOT))


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """What one turn did, as the pipeline saw it, for :func:`advance`."""

    language: str
    shopper_text: str
    upset: bool
    misunderstood: bool
    answered_topic: tuple[str, ...] | None = None
    """The topic of this turn's answer (knowledge or product), None when it answered nothing."""
    topic_kind: TopicKind | None = None
    product: str | None = None
    handoff_reason: str | None = None


def advance(state: DialogueState, outcome: TurnOutcome, turn_events: Sequence[Event],
            tracker: TrackerView) -> DialogueState:  # fmt: skip
    """The state after a turn: from the previous one, what the turn did and its events."""
    bots = [e for e in turn_events if e.get("event") == "bot"]
    offer: Offer | None = None
    options: list[Option] = []
    prompt = state.last_prompt
    for event in bots:
        metadata = event.get("metadata") or {}
        # Only the last message's offer is open: a question asked after it supersedes it.
        offer = None
        if metadata.get("action_offer"):
            offer = Offer("action", str(metadata["action_offer"]))
        elif metadata.get("handoff_offer"):
            offer = Offer("handoff")
        for button in (event.get("data") or {}).get("buttons") or ():
            options.append(Option(str(button.get("title", "")), str(button.get("payload", ""))))
        if event.get("text"):
            prompt = str(event["text"])
    if bots and not any(e.get("text") for e in bots):
        prompt = ""
    pending = (
        tracker.active_loop
        if tracker.active_loop and tracker.slots.get(REQUESTED_SLOT) == "confirmed"
        else None
    )
    # The order the turn looked up or chose, even when its flow cleared the slot on finishing
    # (a report or a done change resets it so the next flow asks afresh).
    order = tracker.slots.get("order_id") or next(
        (
            e.get("value")
            for e in reversed(turn_events)
            if e.get("event") == "slot" and e.get("name") == "order_id" and e.get("value")
        ),
        None,
    )
    product = outcome.product or tracker.slots.get("product") or state.last_product
    return replace(
        state,
        language=outcome.language,
        topic=outcome.answered_topic[-TOPIC_MESSAGES:] if outcome.answered_topic else (),
        topic_kind=outcome.topic_kind if outcome.answered_topic else None,
        offer=offer,
        options=tuple(options),
        last_product=str(product) if product else None,
        last_order=str(order) if order else state.last_order,
        last_prompt=prompt[:PROMPT_CHARS],
        pending=pending,
        upset_in_a_row=state.upset_in_a_row + 1 if outcome.upset else 0,
        misunderstood_in_a_row=state.misunderstood_in_a_row + 1 if outcome.misunderstood else 0,
        handoff_reason=outcome.handoff_reason or state.handoff_reason,
    )


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None
