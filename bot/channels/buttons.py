"""Short references to button payloads, for platforms that limit what a button may carry.

A payload such as ``/inform{"order_id":"#W2378156"}`` or a product name in
``/product_info{"product":"…"}`` does not fit Telegram's 64 bytes of ``callback_data``, and a
WhatsApp row id is limited too. Every button the bot sends is already stored with the
conversation (its ``bot`` event carries the buttons and the product cards with theirs), so the
button carries only a digest of its payload, and a press is resolved by finding the offered
payload with that digest in the conversation. A press therefore runs only what the bot offered
in this conversation; a forged or stale reference finds nothing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from bot.domain import BotMessage, Button, ConversationId, Event
from bot.sessions.base import SessionStore

PREFIX = "b:"
_DIGEST_CHARS = 22  # 132 bits of SHA-256: no collision among a conversation's buttons


def button_ref(payload: str) -> str:
    """The reference a platform button carries for ``payload`` (24 ASCII characters)."""
    digest = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).digest()
    return PREFIX + base64.urlsafe_b64encode(digest).decode()[:_DIGEST_CHARS]


def is_button_ref(value: str) -> bool:
    return value.startswith(PREFIX) and len(value) == len(PREFIX) + _DIGEST_CHARS


def card_buttons(custom: Mapping[str, Any] | None) -> list[Button]:
    """The buttons of the product cards in a message's ``custom`` payload, if any."""
    buttons = []
    for card in product_cards(custom):
        for raw in card.get("buttons") or ():
            if isinstance(raw, dict) and isinstance(raw.get("payload"), str):
                buttons.append(Button(str(raw.get("title") or raw["payload"]), raw["payload"]))
    return buttons


def product_cards(custom: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The cards of a ``{"type": "product_cards", "cards": [...]}`` payload (else none).

    The action sends it as ``json_message``; cards are dicts with ``title``, ``subtitle``,
    ``reason``, ``image_url`` and ``buttons`` (see ``actions/recommend_action.py``).
    """
    if not custom or custom.get("type") != "product_cards":
        return []
    cards = custom.get("cards")
    if not isinstance(cards, list):
        return []
    return [card for card in cards if isinstance(card, dict)]


def offered_payloads(message: BotMessage) -> list[str]:
    """Every payload a message offers: its buttons and its cards' buttons."""
    return [b.payload for b in (*message.buttons, *card_buttons(message.custom))]


def _event_payloads(event: Event) -> Iterator[str]:
    data = event.get("data") or {}
    if not isinstance(data, dict):
        return
    for raw in data.get("buttons") or ():
        if isinstance(raw, dict) and isinstance(raw.get("payload"), str):
            yield raw["payload"]
    custom = data.get("custom")
    if isinstance(custom, dict):
        for button in card_buttons(custom):
            yield button.payload
        if custom.get("type") == "order_list":  # the widget's order rows (actions/rich_messages)
            for row in custom.get("orders") or ():
                if isinstance(row, dict) and isinstance(row.get("payload"), str):
                    yield row["payload"]


async def resolve(store: SessionStore, cid: ConversationId, ref: str) -> str | None:
    """The payload of a button the bot offered in the conversation, or None.

    The newest offer wins; buttons of earlier messages still work while the conversation
    lives in the store.
    """
    if not is_button_ref(ref):
        return None
    for event in reversed(await store.events(cid)):
        if event.get("event") != "bot":
            continue
        for payload in _event_payloads(event):
            if button_ref(payload) == ref:
                return payload
    return None
