"""The widget protocol's frames (docs/widget-protocol.md): client frames in, server frames out.

Client frames are read once, here, into frozen dataclasses; anything malformed is a
:class:`FrameError` with the code the ``error`` frame carries. Server frames that show
something are built from stored events (:func:`event_frame`), so each carries the event's
index and a client that has seen an index never shows it again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from bot.channels.webchat_events import AGENT_EVENTS, MAX_COMMENT_CHARS, FeedbackValue
from bot.domain import ConversationId, Event
from bot.errors import BadRequest
from bot.input_checks import parse_json

LOCALES = ("en", "zh", "es", "de", "fr")
"""Languages the widget is written in (bot/static/locales/)."""
CONVERSATION_PREFIX = "web-"
_CONVERSATION_ID = re.compile(r"web-[A-Za-z0-9_-]{22}")
_CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_TITLE_CHARS = 200
ErrorCode = Literal[
    "bad_frame",
    "too_large",
    "rate_limited",
    "busy",
    "unavailable",
    "not_found",
]


class FrameError(Exception):
    """A client frame the server refuses; ``code`` goes into the ``error`` frame."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        client_message_id: str | None = None,
        *,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.client_message_id = client_message_id
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Hello:
    conversation_id: ConversationId | None
    last_seen_event: int | None
    locale: str


@dataclass(frozen=True, slots=True)
class ShopperMessage:
    client_message_id: str
    text: str
    """What the pipeline reads: the typed text, or a button's ``/intent{…}`` payload."""
    title: str | None = None
    """A button's title, shown in the shopper's bubble instead of its payload."""


@dataclass(frozen=True, slots=True)
class Feedback:
    target: int
    value: FeedbackValue


@dataclass(frozen=True, slots=True)
class Csat:
    score: int
    comment: str | None


ClientFrame = Hello | ShopperMessage | Feedback | Csat


class Button(TypedDict):
    title: str
    payload: str


def new_conversation_id() -> ConversationId:
    """An unguessable id: knowing it is what lets a widget read the conversation back."""
    return ConversationId(CONVERSATION_PREFIX + secrets.token_urlsafe(16))


def is_widget_conversation(value: str) -> bool:
    """True for ids :func:`new_conversation_id` makes; others (REST senders) are not joinable."""
    return _CONVERSATION_ID.fullmatch(value) is not None


def normalise_locale(value: object) -> str:
    """``"de-AT"`` → ``"de"``; an unknown or missing language → ``"en"``."""
    if not isinstance(value, str):
        return "en"
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LOCALES else "en"


def parse_frame(raw: str, max_chars: int) -> ClientFrame:
    """One client frame (a JSON text) as a dataclass.

    Raises:
        FrameError: not JSON, an unknown type, a missing or malformed field, or text longer
            than ``max_chars`` (code ``too_large``).
    """
    try:
        body = parse_json(raw)
    except BadRequest as exc:  # not JSON, nested too deeply, or not valid Unicode
        raise FrameError("bad_frame", f"frames are JSON objects: {exc}") from None
    if not isinstance(body, dict):
        raise FrameError("bad_frame", "frames are JSON objects")
    kind = body.get("type")
    if kind == "hello":
        return _hello(body)
    if kind == "message":
        return _message(body, max_chars)
    if kind == "feedback":
        return _feedback(body)
    if kind == "csat":
        return _csat(body)
    raise FrameError("bad_frame", f"unknown frame type {str(kind)[:40]!r}")


def _hello(body: Mapping[str, Any]) -> Hello:
    cid = body.get("conversation_id")
    if cid is not None and (not isinstance(cid, str) or not is_widget_conversation(cid)):
        # A stale or foreign id starts a new conversation rather than failing the widget.
        cid = None
    seen = body.get("last_seen_event")
    if seen is not None and (not _is_index(seen) or cid is None):
        seen = None
    return Hello(ConversationId(cid) if cid else None, seen, normalise_locale(body.get("locale")))


def _message(body: Mapping[str, Any], max_chars: int) -> ShopperMessage:
    cmid = body.get("client_message_id")
    if not isinstance(cmid, str) or not _CLIENT_MESSAGE_ID.fullmatch(cmid):
        raise FrameError("bad_frame", "client_message_id must be 8 to 64 of [A-Za-z0-9_-]")
    text, payload = body.get("text"), body.get("payload")
    if (text is None) == (payload is None):
        raise FrameError("bad_frame", "a message has either text or payload", cmid)
    value = text if text is not None else payload
    if not isinstance(value, str) or not value.strip():
        raise FrameError("bad_frame", "the message is empty", cmid)
    if len(value) > max_chars:
        raise FrameError("too_large", f"messages are at most {max_chars} characters", cmid)
    if payload is None:
        return ShopperMessage(cmid, value.strip())
    if not value.startswith("/"):
        raise FrameError("bad_frame", "a payload is a /intent or /intent{…} string", cmid)
    title = body.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE_CHARS):
        raise FrameError("bad_frame", f"title must be text of at most {MAX_TITLE_CHARS}", cmid)
    return ShopperMessage(cmid, value.strip(), title.strip() if title else None)


def _feedback(body: Mapping[str, Any]) -> Feedback:
    target, value = body.get("event"), body.get("value")
    if not isinstance(target, int) or not _is_index(target):
        raise FrameError("bad_frame", "feedback names the event index of a bot message")
    if value not in ("up", "down"):
        raise FrameError("bad_frame", "feedback value is 'up' or 'down'")
    return Feedback(target, "up" if value == "up" else "down")


def _csat(body: Mapping[str, Any]) -> Csat:
    score, comment = body.get("score"), body.get("comment")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise FrameError("bad_frame", "score is a whole number from 1 to 5")
    if comment is not None and not isinstance(comment, str):
        raise FrameError("bad_frame", "comment is text")
    if comment is not None and len(comment) > MAX_COMMENT_CHARS:
        raise FrameError("too_large", f"comments are at most {MAX_COMMENT_CHARS} characters")
    return Csat(score, comment.strip() or None if comment else None)


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- server frames, from stored events -------------------------------------------------------


def event_frame(index: int, event: Event) -> dict[str, Any] | None:
    """The frame that shows a stored event in the widget; None for events it does not show."""
    kind = event.get("event")
    if kind == "user":
        metadata = event.get("metadata") or {}
        shown = metadata.get("display_text") or event.get("text") or ""
        frame: dict[str, Any] = {"type": "user", "event": index, "text": str(shown)}
        if isinstance(metadata.get("client_message_id"), str):
            frame["client_message_id"] = metadata["client_message_id"]
        return frame
    if kind == "bot":
        return _bot_frame(index, event)
    if kind in AGENT_EVENTS:
        agent = event.get("agent") or {}
        frame = {"type": kind, "event": index, "agent": {"name": str(agent.get("name") or "")}}
        if kind == "agent_message":
            frame["text"] = str(event.get("text") or "")
        return frame
    if kind == "feedback":
        return {
            "type": "feedback",
            "event": index,
            "target": event.get("target"),
            "value": event.get("value"),
        }
    if kind == "csat":
        return {"type": "csat", "event": index, "score": event.get("score")}
    return None


def _bot_frame(index: int, event: Event) -> dict[str, Any]:
    data = event.get("data") or {}
    frame: dict[str, Any] = {"type": "message", "event": index, "text": event.get("text")}
    buttons = _buttons(data.get("buttons"))
    if buttons:
        frame["buttons"] = buttons
    image = _safe_url(data.get("image"))
    if image:
        frame["image"] = image
    custom = data.get("custom")
    if isinstance(custom, Mapping):
        if custom.get("type") == "product_cards":
            frame["cards"] = [_card(c) for c in custom.get("cards") or () if _has_title(c)]
        elif custom.get("type") == "order_list":
            frame["orders"] = [_order(o) for o in custom.get("orders") or () if _has_id(o)]
        if ("cards" in frame or "orders" in frame) and isinstance(custom.get("intro"), str):
            # The text lists the same items for channels without cards; the widget shows the
            # intro above the cards instead.
            frame["text"] = custom["intro"]
            if isinstance(custom.get("note"), str):
                frame["note"] = custom["note"]
    return frame


def _buttons(raw: object) -> list[Button]:
    if not isinstance(raw, list):
        return []
    return [
        {"title": str(b["title"]), "payload": str(b["payload"])}
        for b in raw
        if isinstance(b, Mapping) and b.get("title") and b.get("payload")
    ]


def _has_title(card: object) -> bool:
    return isinstance(card, Mapping) and bool(card.get("title"))


def _has_id(order: object) -> bool:
    return isinstance(order, Mapping) and bool(order.get("order_id"))


def _card(card: Mapping[str, Any]) -> dict[str, Any]:
    product_id = str(card.get("product_id") or "")
    image = _safe_url(card.get("image_url"))
    if image is None and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", product_id):
        image = f"/widget/art/{product_id}.svg"  # drawn by the bot (bot/web/product_art.py)
    return {
        "product_id": product_id,
        "title": str(card["title"]),
        "price": str(card.get("subtitle") or ""),
        "reason": str(card.get("reason") or ""),
        "image": image,
        "buttons": _buttons(card.get("buttons")),
    }


def _order(order: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("order_id", "placed_on", "status", "status_label", "total", "summary", "payload")
    return {key: str(order[key]) for key in keys if order.get(key) is not None}


def _safe_url(value: object) -> str | None:
    """An image URL the widget may load: http(s), or a path on the bot itself."""
    if not isinstance(value, str):
        return None
    if value.startswith(("https://", "http://")) or (
        value.startswith("/") and not value.startswith("//")
    ):
        return value
    return None
