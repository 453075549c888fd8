"""The bot's messages as WhatsApp Cloud API message objects (no I/O).

Quick replies become interactive reply buttons when there are at most three and every title
fits 20 characters, otherwise a list message (at most ten rows; a row title fits 24
characters, so a longer one is cut and given whole in the row's description). Buttons carry a
:func:`~bot.channels.buttons.button_ref` as their id. A product card with an image becomes an
image message with its title, price and reason as the caption; its buttons follow as an
interactive message under the card's title. A card without an image a WhatsApp server could
fetch is that interactive message alone.

Limits (https://developers.facebook.com/docs/whatsapp/cloud-api/messages): text 4096
characters, interactive body and caption 1024, reply button title 20, list button label 20,
row title 24, row description 72, ten rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from bot.channels.buttons import button_ref, card_buttons, product_cards
from bot.channels.rendering import CHOOSE, card_caption, cut, is_fetchable, split_text
from bot.domain import BotMessage, Button

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
LIST_LABEL = "Choose"

WhatsAppBody = dict[str, Any]
"""A message object without ``messaging_product`` and ``to`` (added when sent)."""


def render(messages: Sequence[BotMessage]) -> list[WhatsAppBody]:
    """The message objects that show ``messages`` to the shopper, in order."""
    out: list[WhatsAppBody] = []
    for message in messages:
        out.extend(_message(message))
        for card in product_cards(message.custom):
            out.extend(_card(card))
    return out


def text_body(text: str) -> WhatsAppBody:
    return {"type": "text", "text": {"body": text, "preview_url": False}}


def choices(body: str, buttons: Sequence[Button]) -> WhatsAppBody:
    """An interactive message offering ``buttons`` under ``body`` (at most 1024 chars)."""
    if len(buttons) <= MAX_BUTTONS and all(len(b.title) <= MAX_BUTTON_TITLE for b in buttons):
        replies = [
            {"type": "reply", "reply": {"id": button_ref(b.payload), "title": b.title}}
            for b in buttons
        ]
        action: dict[str, Any] = {"buttons": replies}
        kind = "button"
    else:
        if len(buttons) > MAX_ROWS:
            log.warning("whatsapp: %d options cut to the %d a list shows", len(buttons), MAX_ROWS)
        action = {
            "button": LIST_LABEL,
            "sections": [{"rows": [_row(b) for b in buttons[:MAX_ROWS]]}],
        }
        kind = "list"
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": body}, "action": action},
    }


def _row(button: Button) -> dict[str, Any]:
    row = {"id": button_ref(button.payload), "title": cut(button.title, MAX_ROW_TITLE)}
    if len(button.title) > MAX_ROW_TITLE:
        row["description"] = cut(button.title, MAX_ROW_DESCRIPTION)
    return row


def _message(message: BotMessage) -> Iterator[WhatsAppBody]:
    text = (message.text or "").strip()
    if message.image and is_fetchable(message.image):
        image: dict[str, Any] = {"link": message.image}
        if text and len(text) <= MAX_BODY and not message.buttons:
            image["caption"] = text
            text = ""
        yield {"type": "image", "image": image}
    if not message.buttons:
        for chunk in split_text(text, MAX_TEXT):
            yield text_body(chunk)
        return
    # The buttons ride on the last piece of text when it fits an interactive body.
    chunks = split_text(text, MAX_TEXT)
    last = chunks.pop() if chunks and len(chunks[-1]) <= MAX_BODY else None
    for chunk in chunks:
        yield text_body(chunk)
    yield choices(last or CHOOSE, message.buttons)


def _card(card: dict[str, Any]) -> Iterator[WhatsAppBody]:
    caption = cut(card_caption(card), MAX_BODY)
    buttons = card_buttons({"type": "product_cards", "cards": [card]})
    image = card.get("image_url")
    if isinstance(image, str) and is_fetchable(image):
        yield {"type": "image", "image": {"link": image, "caption": caption}}
        if buttons:
            title = cut(str(card.get("title") or CHOOSE), MAX_BODY)
            yield choices(title, buttons)
    elif buttons:
        yield choices(caption or CHOOSE, buttons)
    elif caption:
        yield text_body(caption)
