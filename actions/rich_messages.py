"""Custom payloads for channels that draw more than text (the website widget's order rows).

An action sends the text every channel shows and, beside it, one of these in
``json_message``; the widget draws it and shows ``intro`` in place of the text, which lists
the same things line by line for channels without rich messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from actions.formatting import first_item_text, status_label
from actions.locale import Messages
from actions.shop.port import Order


def order_list(
    intro: str,
    orders: Sequence[Order],
    lang: Messages,
    payload: Callable[[Order], str] | None = None,
) -> dict[str, Any]:
    """``{"type": "order_list", "intro", "orders": [...]}``: one compact row per order.

    Args:
        intro: the sentence above the rows.
        orders: the orders, in the order shown.
        lang: the conversation's messages (dates, statuses, money and summaries are worded
            in its language; ``status`` stays the shop's code).
        payload: the message a tap on a row sends (None: rows are not buttons).
    """
    return {
        "type": "order_list",
        "intro": intro,
        "orders": [
            {
                "order_id": order.order_id,
                "placed_on": lang.short_day(order.placed_on) or None,
                "status": order.status,
                "status_label": status_label(order.status, lang),
                "total": lang.money(order.total),
                "summary": first_item_text(order.items, lang),
                "payload": payload(order) if payload else None,
            }
            for order in orders
        ],
    }
