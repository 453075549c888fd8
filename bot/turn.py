"""One turn in progress, and the helpers that turn events into what channels and prompts need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain import BotMessage, ConversationId, Event, TrackerView, bot_event
from bot.generation.answerer import DeltaSink
from bot.generation.backend import ChatMessage
from bot.nlu.reading import Reading


@dataclass
class Turn:
    """The events and messages one turn adds; nothing is stored until the turn ends.

    Besides the events, it records what the turn did that the next one needs to know
    (:class:`bot.dialogue_state.TurnOutcome`): the topic of an answer, the actions run, a
    handoff's reason.
    """

    tracker: TrackerView
    reading: Reading | None = None
    new_events: list[Event] = field(default_factory=list)
    messages: list[BotMessage] = field(default_factory=list)
    pending_slots: list[Event] = field(default_factory=list)
    handoff: bool = False
    handoff_reason: str | None = None
    empathized: bool = False
    answered_topic: tuple[str, ...] | None = None
    ran: list[str] = field(default_factory=list)
    sink: DeltaSink | None = None
    gone: Callable[[], bool] | None = None

    @property
    def language(self) -> str | None:
        return self.reading.language if self.reading is not None else None

    def add(self, *events: Event) -> None:
        for event in events:
            self.tracker.apply(event)
            self.new_events.append(event)

    def flush_slots(self) -> list[Event]:
        flushed, self.pending_slots = self.pending_slots, []
        self.add(*flushed)
        return flushed

    def say(self, message: BotMessage, **metadata: Any) -> None:
        event = bot_event(message)
        event["metadata"] = dict(metadata)
        self.add(event)
        self.messages.append(message)

    @property
    def misunderstood(self) -> bool:
        return any(
            (e.get("metadata") or {}).get("fallback")
            for e in self.new_events
            if e.get("event") == "bot"
        )


def rest_messages(
    recipient: ConversationId, messages: Sequence[BotMessage]
) -> list[dict[str, Any]]:
    """Rasa REST channel output: one dict per message, text and buttons kept together."""
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"recipient_id": recipient}
        if message.text is not None:
            item["text"] = message.text
        if message.buttons:
            item["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        if message.image:
            item["image"] = message.image
        if message.custom is not None:
            item["custom"] = dict(message.custom)
        out.append(item)
    return out


def recent_turns(
    tracker: TrackerView, *, limit: int = 4, skip_last_user: bool = False
) -> list[ChatMessage]:
    """The last shopper and bot texts of the conversation, oldest first, for the prompt."""
    texts: list[ChatMessage] = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if kind in ("user", "bot") and isinstance(text, str) and text.strip():
            texts.append(ChatMessage("user" if kind == "user" else "assistant", text))
    if skip_last_user and texts and texts[-1].role == "user":
        texts.pop()
    return texts[-limit:]


def known_facts(tracker: TrackerView) -> list[str]:
    """What the conversation has established about the shopper, as prompt facts."""
    slots = tracker.slots
    facts = []
    if slots.get("customer_name"):
        facts.append(f"The shopper's name is {slots['customer_name']}.")
    if slots.get("order_id"):
        facts.append(f"The order being discussed is {slots['order_id']}.")
    profile = slots.get("customer_profile")
    if isinstance(profile, dict) and profile.get("summary"):
        facts.append(f"The shopper's buying so far: {profile['summary']}.")
    return facts
