"""A customer's profile from their orders: what they like and how they buy.

Shown to support agents beside the conversation and used by the recommend action's wording.
Interest tags are the categories and product words that recur in what the customer kept
(cancelled orders and returned items left out); behaviour features are the usual RFM-style
ones: how recently and how often they order, and their price band.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from actions.shop.port import Order, OrderItem, ShopBackend

_STOP = frozenset(["and", "the", "with", "for", "of", "pack", "pair", "set"])


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """What an agent (and the bot) should know about a customer's buying."""

    orders: int
    items: int
    favourite_categories: tuple[str, ...]
    interest_tags: tuple[str, ...]
    price_band: tuple[float, float] | None
    """Lowest and highest price the customer paid for an item."""
    median_item_price: float | None
    last_order_days: int | None
    """Days since the newest dated order, when orders carry dates."""

    def summary(self) -> str:
        """One line for an agent: "5 orders · likes Camp & Hike, Footwear · $18–$140"."""
        parts = [f"{self.orders} order{'s' if self.orders != 1 else ''}"]
        if self.favourite_categories:
            parts.append("likes " + ", ".join(self.favourite_categories))
        if self.price_band:
            low, high = self.price_band
            parts.append(f"${low:,.0f}–${high:,.0f}")
        if self.last_order_days is not None:
            parts.append(f"last order {self.last_order_days} days ago")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON for a conversation slot (read by agents and the answer prompt)."""
        return {
            "summary": self.summary(),
            "orders": self.orders,
            "items": self.items,
            "favourite_categories": list(self.favourite_categories),
            "interest_tags": list(self.interest_tags),
            "price_band": list(self.price_band) if self.price_band else None,
            "median_item_price": self.median_item_price,
            "last_order_days": self.last_order_days,
        }


def build_profile(
    shop: ShopBackend,
    user_id: str,
    *,
    orders: Sequence[Order] | None = None,
    today: dt.date | None = None,
    top: int = 3,
) -> CustomerProfile:
    """The profile of ``user_id`` from the shop's orders (an unknown user has an empty one).

    ``orders`` are the customer's orders when the caller has read them already.
    """
    if orders is None:
        orders = shop.list_orders(user_id)
    orders = [o for o in orders if o.status != "cancelled"]
    kept = [item for order in orders for item in _kept_items(order)]
    categories: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for item in kept:
        product = shop.get_product(item.product_id)
        if product is not None and product.category:
            categories[product.category] += 1
        words.update(w for w in re.findall(r"[a-z]+", item.name.lower()) if len(w) > 2)
    prices = sorted(item.price for item in kept)
    dates = [o.placed_on for o in orders if o.placed_on is not None]
    today = today or dt.date.today()
    return CustomerProfile(
        orders=len(orders),
        items=len(kept),
        favourite_categories=tuple(c for c, _ in categories.most_common(top)),
        interest_tags=tuple(w for w, _ in words.most_common() if w not in _STOP)[:6],
        price_band=(prices[0], prices[-1]) if prices else None,
        median_item_price=_median(prices),
        last_order_days=(today - max(dates)).days if dates else None,
    )


def _kept_items(order: Order) -> list[OrderItem]:
    returned = set(order.return_item_ids)
    return [item for item in order.items if item.item_id not in returned]


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    return (
        values[middle] if len(values) % 2 else round((values[middle - 1] + values[middle]) / 2, 2)
    )
