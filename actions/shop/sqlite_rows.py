"""How a shop record becomes a SQLite row: the full JSON plus the columns the look-ups index.

Both the import and the write operations build rows here, so a changed record (a new default
address, a new order status) always keeps its indexed columns in step with its JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from actions.shop.records import customer_from_record, order_from_record, product_from_record


def key_text(text: str) -> str:
    """The look-up form of a name or email: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def user_columns(user_id: str, record: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    """``(email_key, first_key, last_key, zip, record)`` of a user record; validates it."""
    customer = customer_from_record(user_id, record)
    return (
        key_text(customer.email),
        key_text(customer.first_name),
        key_text(customer.last_name),
        customer.address.zip.strip(),
        json.dumps(record),
    )


def order_columns(record: Mapping[str, Any]) -> tuple[str, str | None, str, str]:
    """``(user_id, placed_on, status, record)`` of an order record; validates it."""
    order = order_from_record(record)
    placed = order.placed_on.isoformat() if order.placed_on else None
    return (order.user_id, placed, order.status, json.dumps(record))


def product_columns(record: Mapping[str, Any]) -> tuple[str, str, str | None, str]:
    """``(product_id, name, category, record)`` of a product record; validates it."""
    product = product_from_record(record)
    return (product.product_id, product.name, product.category, json.dumps(record))
