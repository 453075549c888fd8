"""Telegram's ``Update`` objects, read once into what the channel acts on.

Only private chats are served: a customer-service conversation is one shopper and the shop,
and a bot added to a group would otherwise answer everybody's chatter. Everything else is
acknowledged and ignored.

Shapes: https://core.telegram.org/bots/api#update (``message``, ``edited_message``,
``callback_query``; the rest, such as ``my_chat_member`` when a shopper blocks the bot, are
ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.channels.notices import Unreadable
from bot.errors import BadRequest

UpdateKind = Literal["text", "button", "edited", "unreadable", "ignore"]

# Message fields that carry content the bot cannot read, and how to name it to the shopper.
_UNREADABLE: tuple[tuple[str, Unreadable], ...] = (
    ("sticker", "sticker"),
    ("voice", "voice"),
    ("video_note", "voice"),
    ("audio", "audio"),
    ("photo", "photo"),
    ("video", "video"),
    ("animation", "video"),
    ("document", "file"),
    ("location", "location"),
    ("venue", "location"),
    ("contact", "other"),
    ("poll", "other"),
    ("dice", "other"),
    ("game", "other"),
    ("story", "other"),
)

START_COMMAND = "/start"
GREETING_PAYLOAD = "/greet"
"""What ``/start`` (sent when a shopper opens the bot) becomes: a greeting."""


@dataclass(frozen=True, slots=True)
class TelegramUpdate:
    """One update, as the channel uses it.

    Attributes:
        update_id: Telegram's id, the delivery id for de-duplication.
        kind: ``text`` (run a turn), ``button`` (a callback query: ``text`` is the button's
            data), ``edited`` or ``unreadable`` (answer with a notice), ``ignore``.
        chat_id: The private chat to answer in; None for updates without one.
        text: The message text or the callback data.
        unreadable: What the shopper sent that the bot cannot read.
        callback_query_id: To answer a callback query (stops the button's spinner).
    """

    update_id: int
    kind: UpdateKind
    chat_id: int | None = None
    text: str = ""
    unreadable: Unreadable | None = None
    callback_query_id: str | None = None


def read_update(body: dict[str, Any]) -> TelegramUpdate:
    """Reads a webhook body.

    Raises:
        BadRequest: The body has no integer ``update_id``.
    """
    update_id = body.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise BadRequest("a Telegram update needs an integer `update_id`")
    message = body.get("message")
    if isinstance(message, dict):
        return _read_message(update_id, message)
    edited = body.get("edited_message")
    if isinstance(edited, dict):
        chat_id = _private_chat(edited)
        if chat_id is not None:
            return TelegramUpdate(update_id, "edited", chat_id)
    query = body.get("callback_query")
    if isinstance(query, dict):
        return _read_callback(update_id, query)
    return TelegramUpdate(update_id, "ignore")


def _private_chat(message: dict[str, Any], *, sent_by_bot: bool = False) -> int | None:
    """The chat id of a private chat, else None; ``sent_by_bot``: the bot's own message."""
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    chat_id = chat.get("id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        return None
    sender = message.get("from")
    if not sent_by_bot and isinstance(sender, dict) and sender.get("is_bot"):
        return None
    return chat_id


def _read_message(update_id: int, message: dict[str, Any]) -> TelegramUpdate:
    chat_id = _private_chat(message)
    if chat_id is None:
        return TelegramUpdate(update_id, "ignore")
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        text = text.strip()
        if text == START_COMMAND or text.startswith(START_COMMAND + " "):
            text = GREETING_PAYLOAD
        return TelegramUpdate(update_id, "text", chat_id, text)
    for field, kind in _UNREADABLE:
        if field in message:
            return TelegramUpdate(update_id, "unreadable", chat_id, unreadable=kind)
    # Service messages (pinned, chat photo changed, ...) say nothing to answer.
    return TelegramUpdate(update_id, "ignore", chat_id)


def _read_callback(update_id: int, query: dict[str, Any]) -> TelegramUpdate:
    query_id = query.get("id")
    data = query.get("data")
    message = query.get("message")
    # The message is the bot's own, the one that carried the keyboard.
    chat_id = _private_chat(message, sent_by_bot=True) if isinstance(message, dict) else None
    if not isinstance(query_id, str) or not isinstance(data, str) or chat_id is None:
        # Games and inline-mode messages: nothing this bot offered.
        return TelegramUpdate(update_id, "ignore")
    return TelegramUpdate(update_id, "button", chat_id, data, callback_query_id=query_id)
