"""WhatsApp Cloud API webhook deliveries, read once into the messages the channel acts on.

One delivery may hold several entries, each with several changes, each with several messages
and status updates; every message is returned, in order. Status updates (``sent``,
``delivered``, ``read``, ``failed``) of the bot's own replies are counted and otherwise
ignored; a ``failed`` one is logged, since it means a shopper did not get a reply.

Shape: ``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id"}, "contacts": [...], "messages": [...],
"statuses": [...]}}]}]}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from bot.channels.notices import Unreadable
from bot.errors import BadRequest

log = logging.getLogger(__name__)

MessageKind = Literal["text", "button", "unreadable", "ignore"]

_UNREADABLE: dict[str, Unreadable] = {
    "image": "photo",
    "sticker": "sticker",
    "video": "video",
    "document": "file",
    "location": "location",
    "contacts": "other",
    "order": "other",
    "unsupported": "other",
}
# Nothing to answer: a reaction to one of our messages, a system notice (number changed).
_IGNORED = frozenset({"reaction", "system", "request_welcome", "ephemeral", "revoke"})


@dataclass(frozen=True, slots=True)
class WhatsAppMessage:
    """One incoming message, as the channel uses it.

    Attributes:
        wa_id: The shopper's WhatsApp id (their number), to answer to.
        message_id: ``wamid…``, the delivery id for de-duplication.
        kind: ``text`` (run a turn), ``button`` (``text`` is the pressed reply button's or
            list row's id), ``unreadable`` (answer with a notice) or ``ignore``.
        text: The text, or the button id.
        title: A pressed button's title (used as the text when the id is not ours).
        unreadable: What the shopper sent that the bot cannot read.
    """

    wa_id: str
    message_id: str
    kind: MessageKind
    text: str = ""
    title: str = ""
    unreadable: Unreadable | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    messages: tuple[WhatsAppMessage, ...]
    statuses: int


def read_delivery(body: dict[str, Any], phone_number_id: str) -> Delivery:
    """The messages sent to ``phone_number_id`` in a webhook body.

    Changes for another of the app's numbers are skipped: a reply from this number would come
    from the wrong sender.

    Raises:
        BadRequest: The body is not a WhatsApp Business Account delivery.
    """
    if body.get("object") != "whatsapp_business_account" or not isinstance(body.get("entry"), list):
        raise BadRequest("not a WhatsApp Business Account webhook delivery")
    messages: list[WhatsAppMessage] = []
    statuses = 0
    for entry in body["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata") or {}
            if str(metadata.get("phone_number_id", "")) != phone_number_id:
                log.warning("whatsapp: skipped a change for another phone number id")
                continue
            for raw in _dicts(value.get("messages")):
                message = _read_message(raw)
                if message is not None:
                    messages.append(message)
            for status in _dicts(value.get("statuses")):
                statuses += 1
                if status.get("status") == "failed":
                    log.warning(
                        "whatsapp: a reply to %s was not delivered: %s",
                        status.get("recipient_id"), status.get("errors"),
                    )  # fmt: skip
    return Delivery(tuple(messages), statuses)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _read_message(raw: dict[str, Any]) -> WhatsAppMessage | None:
    wa_id, message_id, kind = raw.get("from"), raw.get("id"), raw.get("type")
    if not isinstance(wa_id, str) or not wa_id or not isinstance(message_id, str):
        return None
    if not message_id:
        return None
    if kind == "text":
        body = (raw.get("text") or {}).get("body")
        if isinstance(body, str) and body.strip():
            return WhatsAppMessage(wa_id, message_id, "text", body.strip())
        return WhatsAppMessage(wa_id, message_id, "ignore")
    if kind == "interactive":
        interactive = raw.get("interactive") or {}
        reply = interactive.get(str(interactive.get("type")))  # button_reply or list_reply
        if isinstance(reply, dict) and isinstance(reply.get("id"), str):
            title = str(reply.get("title") or "")
            return WhatsAppMessage(wa_id, message_id, "button", reply["id"], title)
        return WhatsAppMessage(wa_id, message_id, "unreadable", unreadable="other")
    if kind == "button":  # a quick-reply button of a template message
        text = (raw.get("button") or {}).get("text")
        if isinstance(text, str) and text.strip():
            return WhatsAppMessage(wa_id, message_id, "text", text.strip())
    if kind == "audio":
        voice = bool((raw.get("audio") or {}).get("voice"))
        return WhatsAppMessage(wa_id, message_id, "unreadable", unreadable=_voice(voice))
    if kind in _IGNORED:
        return WhatsAppMessage(wa_id, message_id, "ignore")
    unreadable = _UNREADABLE.get(str(kind), "other")
    return WhatsAppMessage(wa_id, message_id, "unreadable", unreadable=unreadable)


def _voice(voice: bool) -> Unreadable:
    return "voice" if voice else "audio"
