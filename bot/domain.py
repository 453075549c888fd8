"""Domain values shared by every layer: ids, messages, Rasa-compatible tracker events.

Tracker events are kept in Rasa's own dict shape (``{"event": "user", ...}``) because that is
what the rasa-sdk action server expects and what the session store persists; helpers here build
them and replay them into a :class:`TrackerView`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NewType

ConversationId = NewType("ConversationId", str)
SessionMode = Literal["bot", "human"]

Event = dict[str, Any]
"""One Rasa tracker event, e.g. ``{"event": "slot", "name": "email", "value": "a@b.c"}``."""

REQUESTED_SLOT = "requested_slot"
MESSAGE_ID_KEY = "message_id"
"""Where a stored user event keeps the client's id for its message (bot/deliveries.py)."""


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A shopper's message as it enters the pipeline from any channel."""

    sender: ConversationId
    text: str
    channel: str = "rest"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    """The client's id for this message (REST ``message_id``; ``webchat:``, ``telegram:``,
    ``whatsapp:`` ids from the other channels): a retry of a message already stored in the
    conversation runs nothing and gets its stored replies (bot/deliveries.py)."""

    def event_metadata(self) -> dict[str, Any]:
        """What the stored user event keeps: the channel's metadata and the message id."""
        if self.message_id is None:
            return dict(self.metadata)
        return {**self.metadata, MESSAGE_ID_KEY: self.message_id}


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class BotMessage:
    """One message the bot sends back; channels render what they can of it."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: Mapping[str, Any] | None = None

    def to_event_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.buttons:
            data["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.image:
            data["image"] = self.image
        if self.custom is not None:
            data["custom"] = dict(self.custom)
        return data


def _now() -> float:
    return time.time()


def user_event(text: str, parse_data: Mapping[str, Any], channel: str, **meta: Any) -> Event:
    return {
        "event": "user",
        "timestamp": _now(),
        "text": text,
        "parse_data": dict(parse_data),
        "input_channel": channel,
        "metadata": dict(meta),
    }


def bot_event(message: BotMessage) -> Event:
    return {
        "event": "bot",
        "timestamp": _now(),
        "text": message.text,
        "data": message.to_event_data(),
        "metadata": {},
    }


def slot_event(name: str, value: Any) -> Event:
    return {"event": "slot", "timestamp": _now(), "name": name, "value": value}


def action_event(name: str, policy: str | None = None, confidence: float = 1.0) -> Event:
    return {
        "event": "action",
        "timestamp": _now(),
        "name": name,
        "policy": policy,
        "confidence": confidence,
    }


def active_loop_event(name: str | None) -> Event:
    return {"event": "active_loop", "timestamp": _now(), "name": name}


def session_started_event() -> Event:
    return {"event": "session_started", "timestamp": _now()}


@dataclass(slots=True)
class TrackerView:
    """The state a sequence of events adds up to, as Rasa computes it."""

    sender_id: ConversationId
    events: list[Event]
    slots: dict[str, Any]
    active_loop: str | None
    latest_message: dict[str, Any]
    latest_action_name: str | None

    @classmethod
    def replay(
        cls,
        sender_id: ConversationId,
        events: Iterable[Event],
        slot_names: Sequence[str] = (),
    ) -> TrackerView:
        slots: dict[str, Any] = dict.fromkeys(slot_names)
        slots.setdefault(REQUESTED_SLOT, None)
        view = cls(sender_id, [], slots, None, {}, None)
        for event in events:
            view.apply(event)
        return view

    def apply(self, event: Event) -> None:
        """Adds one event and updates the state it changes, as Rasa does."""
        self.events.append(event)
        kind = event.get("event")
        if kind == "slot":
            self.slots[str(event["name"])] = event.get("value")
        elif kind == "active_loop":
            self.active_loop = event.get("name")
        elif kind == "user":
            self.latest_message = {"text": event.get("text"), **(event.get("parse_data") or {})}
        elif kind == "action":
            self.latest_action_name = event.get("name")
        elif kind in ("session_started", "restart", "reset_slots"):
            self.slots = dict.fromkeys(self.slots)
            if kind != "reset_slots":
                self.active_loop = None

    @property
    def last_event_time(self) -> float | None:
        return float(self.events[-1]["timestamp"]) if self.events else None

    def to_rasa_state(self) -> dict[str, Any]:
        """The tracker in rasa-sdk's ``TrackerState`` shape, for the action server."""
        intent = self.latest_message.get("intent") or {}
        return {
            "sender_id": self.sender_id,
            "slots": dict(self.slots),
            "latest_message": self.latest_message,
            "events": list(self.events),
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": self.active_loop} if self.active_loop else {},
            "latest_action_name": self.latest_action_name,
            "latest_action": {"action_name": self.latest_action_name},
            "latest_event_time": self.events[-1].get("timestamp") if self.events else None,
            "latest_input_channel": None,
            "latest_intent": intent.get("name"),
        }


ACTION_LISTEN = "action_listen"
