"""Small text helpers shared by the actions: money, statuses, items, options, payment methods.

Each takes the conversation's :class:`~actions.locale.Messages`, so the same helper words a
status or an item list in every language; only what the shop's catalogue writes (product
names, option values) is shown as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from actions.locale import Messages
from actions.shop.port import SELF_EXPLAINING_OPTIONS, OrderItem, OrderStatus, PaymentMethod

STATUS_KEYS: dict[OrderStatus, str] = {
    "pending": "pending",
    "pending (item modified)": "pending",
    "processed": "shipped",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "return requested": "return_requested",
    "exchange requested": "exchange_requested",
}
"""The catalog key of what a shopper calls each status (``processed`` is shipped)."""


def status_label(status: OrderStatus, lang: Messages) -> str:
    """``"shipped"``, ``"enviado"``, ``"versandt"`` …"""
    return lang.text(f"status.{STATUS_KEYS[status]}")


def money(amount: float, lang: Messages | None = None) -> str:
    """``1234.5`` -> ``"$1,234.50"`` (the shop's language when ``lang`` is not given)."""
    return (lang or Messages.for_language(None)).money(amount)


def option_name(key: str, lang: Messages, *, plural: bool = False) -> str:
    """An option's name in ``lang`` ("size" -> "talla"); an unknown option keeps its own name."""
    form = f"option.{key.lower()}.{'other' if plural else 'one'}"
    if lang.has(form):
        return lang.text(form)
    if plural and lang.language == "en":
        return _english_plural(key)
    return key


def _english_plural(noun: str) -> str:
    if noun.endswith("y"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith("s") else "s")


def options_text(options: Mapping[str, str], lang: Messages) -> str:
    """Option values in record order, e.g. ``"size 9, blue"`` or ``"talla 9, blue"``."""
    return lang.text("format.list_separator").join(
        value
        if key.lower() in SELF_EXPLAINING_OPTIONS
        else lang.text("format.option", name=option_name(key, lang), value=value)
        for key, value in options.items()
    )


def item_text(item: OrderItem, lang: Messages) -> str:
    """``"Trail Runner Shoe (size 9, blue)"``."""
    options = options_text(item.options, lang)
    return (
        lang.text("format.with_options", name=item.name, options=options) if options else item.name
    )


def items_text(items: Sequence[OrderItem], lang: Messages, limit: int = 4) -> str:
    """The items with their options, at most ``limit`` named, e.g. ``"A (blue) and 2 more"``."""
    named = [item_text(item, lang) for item in items[:limit]]
    rest = len(items) - len(named)
    if rest > 0:
        named.append(lang.plural("items.more", rest))
    return lang.join(named)


def first_item_text(items: Sequence[OrderItem], lang: Messages) -> str:
    """``"Trail Runner Shoe"`` or ``"Trail Runner Shoe + 2 more"`` (names only)."""
    if not items:
        return lang.text("items.none")
    more = len(items) - 1
    if not more:
        return items[0].name
    return lang.plural("items.plus_more", more, name=items[0].name)


def method_label(method: PaymentMethod, lang: Messages) -> str:
    """``"Visa ending in 4242"``, ``"PayPal"``, ``"gift card"``: a button title."""
    if method.source == "credit_card":
        brand = (method.brand or "").title() or lang.text("payment.card_unknown_brand")
        if method.last_four:
            return lang.text("payment.card", brand=brand, last_four=method.last_four)
        return lang.text("payment.card_brand_only", brand=brand)
    if method.source in ("gift_card", "paypal"):
        return lang.text(f"payment.{method.source}")
    return method.source.replace("_", " ")


def your_method(method: PaymentMethod | None, lang: Messages) -> str:
    """The method as the shopper's own, as a sentence names it: ``"your Visa ending in 4242"``.

    Worded whole per language, since the possessive agrees with the method's noun in some.
    ``None`` (a method no longer on the account) is "your original payment method".
    """
    if method is None:
        return lang.text("payment.your_original")
    if method.source == "credit_card":
        brand = (method.brand or "").title() or lang.text("payment.card_unknown_brand")
        if method.last_four:
            return lang.text("payment.your_card", brand=brand, last_four=method.last_four)
        return lang.text("payment.your_card_brand_only", brand=brand)
    if method.source in ("gift_card", "paypal"):
        return lang.text(f"payment.your_{method.source}")
    return lang.text("payment.your_other", name=method.source.replace("_", " "))


def intent_payload(intent: str, **entities: Any) -> str:
    """A button payload that sends ``intent`` with entities, e.g. ``/inform{"order_id":"#1"}``."""
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"
