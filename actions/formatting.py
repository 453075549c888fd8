"""Small text helpers shared by the actions: money, dates, item lists and button payloads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from actions.shop.port import OrderItem, OrderStatus

STATUS_LABELS: dict[OrderStatus, str] = {
    "pending": "being prepared",
    "pending (item modified)": "being prepared",
    "processed": "shipped",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "return requested": "return requested",
    "exchange requested": "exchange requested",
}
"""What a shopper calls each status (``processed`` is tau-bench's word for shipped)."""


def money(amount: float) -> str:
    """``1234.5`` -> ``"$1,234.50"``."""
    return f"${amount:,.2f}"


def day(date: dt.date | None) -> str:
    """``2026-11-18`` -> ``"Nov 18, 2026"``; an unknown date is ``"an unknown date"``."""
    if date is None:
        return "an unknown date"
    return f"{date:%b} {date.day}, {date.year}"


def short_day(date: dt.date | None) -> str:
    """``2026-11-18`` -> ``"Nov 18"`` (for button titles, where space is short)."""
    return "" if date is None else f"{date:%b} {date.day}"


def item_text(item: OrderItem) -> str:
    """``"Trail Runner Shoe (size 9, blue)"``."""
    options = item.options_text
    return f"{item.name} ({options})" if options else item.name


def join_words(parts: Sequence[str]) -> str:
    """``["a"]`` -> ``"a"``, ``["a", "b"]`` -> ``"a and b"``, three or more with commas."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def items_text(items: Sequence[OrderItem], limit: int = 4) -> str:
    """The items with their options, at most ``limit`` named, e.g. ``"A (blue) and 2 more"``."""
    named = [item_text(item) for item in items[:limit]]
    rest = len(items) - len(named)
    if rest > 0:
        named.append(f"{rest} more item{'s' if rest > 1 else ''}")
    return join_words(named)


def first_item_text(items: Sequence[OrderItem]) -> str:
    """``"Trail Runner Shoe"`` or ``"Trail Runner Shoe + 2 more"`` (names only)."""
    if not items:
        return "no items"
    more = len(items) - 1
    return items[0].name + (f" + {more} more" if more else "")


def intent_payload(intent: str, **entities: Any) -> str:
    """A button payload that sends ``intent`` with entities, e.g. ``/inform{"order_id":"#1"}``."""
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"
