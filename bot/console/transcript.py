"""A conversation's events as the console shows them: who said what, how the bot read each
shopper message (intent, act, feeling from the user event's ``parse_data``), the actions it
ran, the people who joined, ratings. Each item keeps its event index, so live items arriving
from the feed and items from a reload are merged without doubles (as in the widget).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain import Event

# Actions that are the bot speaking or waiting, not doing something worth showing.
_QUIET_ACTIONS = frozenset({"action_listen", "action_session_start", "action_handoff"})


def reading_of(event: Event) -> dict[str, Any] | None:
    """The bot's reading of a shopper message, None when it was not read (a person had it)."""
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    if not intent.get("name"):
        return None
    reading = parse.get("reading") or {}
    out: dict[str, Any] = {
        "intent": intent.get("name"),
        "confidence": round(float(intent.get("confidence") or 0.0), 3),
    }
    for key in ("act", "feeling", "language"):
        if reading.get(key):
            out[key] = reading[key]
    entities = [
        {"entity": e.get("entity"), "value": e.get("value")}
        for e in parse.get("entities") or ()
        if isinstance(e, dict)
    ]
    if entities:
        out["entities"] = entities[:6]
    return out


def item(index: int, event: Event) -> dict[str, Any] | None:
    """One transcript item, None for events the console does not show."""
    kind = event.get("event")
    at = event.get("timestamp")
    base: dict[str, Any] = {"event": index, "at": at}
    if kind == "user":
        metadata = event.get("metadata") or {}
        text = metadata.get("display_text") or event.get("text") or ""
        return {**base, "kind": "user", "text": str(text), "reading": reading_of(event),
                "channel": event.get("input_channel")}  # fmt: skip
    if kind == "bot":
        data = event.get("data") or {}
        metadata = event.get("metadata") or {}
        raw = data.get("custom")
        custom: dict[str, Any] = raw if isinstance(raw, dict) else {}
        shown: dict[str, Any] = {**base, "kind": "bot", "text": event.get("text") or ""}
        if custom.get("type") == "product_cards":
            shown["cards"] = [str(c.get("title")) for c in custom.get("cards") or () if c]
        if custom.get("type") == "order_list":
            shown["orders"] = [str(o.get("order_id")) for o in custom.get("orders") or () if o]
        if data.get("buttons"):
            shown["buttons"] = [str(b.get("title")) for b in data["buttons"] if b]
        flags = [k for k in ("fallback", "handoff_offer", "generated", "handoff_notice")
                 if metadata.get(k)]  # fmt: skip
        if metadata.get("handoff_reason"):
            flags.append(f"handoff: {metadata['handoff_reason']}")
        if flags:
            shown["flags"] = flags
        return shown
    if kind == "action":
        name = str(event.get("name") or "")
        if name in _QUIET_ACTIONS or name.startswith("utter_"):
            return None
        return {**base, "kind": "action", "name": name}
    if kind in ("agent_joined", "agent_left", "agent_message"):
        agent = event.get("agent") or {}
        shown = {**base, "kind": kind, "agent": agent.get("name"), "agent_id": agent.get("id")}
        if kind == "agent_message":
            shown["text"] = event.get("text") or ""
        return shown
    if kind == "csat":
        return {**base, "kind": "csat", "score": event.get("score"),
                "comment": event.get("comment")}  # fmt: skip
    if kind == "feedback":
        return {**base, "kind": "feedback", "value": event.get("value"),
                "target": event.get("target")}  # fmt: skip
    return None


def transcript(events: Sequence[Event], start: int = 0) -> list[dict[str, Any]]:
    """The shown items of ``events``, the first of which has index ``start``."""
    return [shown for i, e in enumerate(events, start) if (shown := item(i, e)) is not None]


def last_shopper_text(events: Sequence[Event]) -> str | None:
    """The newest thing the shopper typed (button presses show their title)."""
    for event in reversed(events):
        if event.get("event") == "user":
            metadata = event.get("metadata") or {}
            text = str(metadata.get("display_text") or event.get("text") or "")
            if text and not text.startswith("/"):
                return text
    return None
