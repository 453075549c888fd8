"""The bot's messages as Telegram Bot API calls (no I/O).

Text goes out as plain text (no ``parse_mode``: a shop's texts and the shopper's own words are
never read as markup). Quick replies become an inline keyboard, one button per row, each
carrying a :func:`~bot.channels.buttons.button_ref` as ``callback_data``. A product card
becomes a photo with its title, price and reason as the caption and its buttons below, or a
text message when the card has no image a Telegram server could fetch.

Limits (https://core.telegram.org/bots/api): a message text is at most 4096 characters, a
caption 1024, ``callback_data`` 64 bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.buttons import button_ref, card_buttons, product_cards
from bot.channels.rendering import CHOOSE, card_caption, cut, is_fetchable, split_text
from bot.domain import BotMessage, Button

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTON_TEXT = 64


@dataclass(frozen=True, slots=True)
class TelegramCall:
    """One Bot API call for the chat; ``chat_id`` is added when it is sent."""

    method: str
    params: dict[str, Any]


def render(messages: Sequence[BotMessage]) -> list[TelegramCall]:
    """The calls that show ``messages`` in a chat, in order."""
    calls: list[TelegramCall] = []
    for message in messages:
        calls.extend(_message(message))
        for card in product_cards(message.custom):
            calls.extend(_card(card))
    return calls


def keyboard(buttons: Sequence[Button]) -> dict[str, Any]:
    """An inline keyboard with one button per row."""
    rows = [
        [{"text": cut(b.title, MAX_BUTTON_TEXT), "callback_data": button_ref(b.payload)}]
        for b in buttons
    ]
    return {"inline_keyboard": rows}


def _message(message: BotMessage) -> Iterator[TelegramCall]:
    markup = {"reply_markup": keyboard(message.buttons)} if message.buttons else {}
    text = (message.text or "").strip()
    if message.image and is_fetchable(message.image):
        if len(text) <= MAX_CAPTION:
            caption = {"caption": text} if text else {}
            yield TelegramCall("sendPhoto", {"photo": message.image, **caption, **markup})
            return
        yield TelegramCall("sendPhoto", {"photo": message.image})
    if not text and markup:
        text = CHOOSE
    chunks = split_text(text, MAX_TEXT)
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        yield TelegramCall("sendMessage", {"text": chunk, **(markup if last else {})})


def _card(card: dict[str, Any]) -> Iterator[TelegramCall]:
    caption = cut(card_caption(card), MAX_CAPTION)
    buttons = card_buttons({"type": "product_cards", "cards": [card]})
    markup = {"reply_markup": keyboard(buttons)} if buttons else {}
    image = card.get("image_url")
    if isinstance(image, str) and is_fetchable(image):
        yield TelegramCall("sendPhoto", {"photo": image, "caption": caption, **markup})
    elif caption:
        yield TelegramCall("sendMessage", {"text": caption, **markup})
