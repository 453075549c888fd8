"""The customer panel: who the shopper is, their orders with status, interests and
recommendations from their profile, and their earlier conversations.

Identity and the profile come from the conversation's slots (``customer_id``,
``customer_name``, ``email``, ``customer_profile`` as the identity form set them); orders come
from the shop through :class:`OrderDirectory`, whose adapter reads the same shop database the
action server uses (``shop_store``), in a thread, read-only in effect.
"""

from __future__ import annotations

import abc
import asyncio
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from actions.shop.port import ShopBackend
from actions.shop_database import open_shop_database
from bot.console.recorder import card_payloads
from bot.console.store import ConsoleStore
from bot.domain import Event

MAX_ORDERS = 10


class OrderDirectory(abc.ABC):
    """A customer's orders, newest first, as rows for the panel."""

    @abc.abstractmethod
    async def orders(self, customer_id: str) -> list[dict[str, Any]]:
        """``[{order_id, status, placed_on, total, items}]``; [] for an unknown customer."""

    async def customer_name(self, customer_id: str) -> str | None:
        """The customer's full name in the shop's records; None when unknown."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - nothing to release by default
        """Releases the shop connection."""


class ShopOrderDirectory(OrderDirectory):
    """Orders from the shop's database (the action server's ``ShopBackend``)."""

    def __init__(self, database: Path, shop_dir: Path) -> None:
        self._database = database
        self._shop_dir = shop_dir
        self._backend: ShopBackend | None = None
        self._lock = threading.Lock()

    def _shop(self) -> ShopBackend:
        """The backend, opened on first use; call with ``_lock`` held."""
        if self._backend is None:
            self._backend = open_shop_database(self._database, self._shop_dir)
        return self._backend

    def _name(self, customer_id: str) -> str | None:
        with self._lock:
            customer = self._shop().get_customer(customer_id)
        return customer.full_name if customer is not None else None

    def _orders(self, customer_id: str) -> list[dict[str, Any]]:
        with self._lock:  # one SQLite connection, used from one worker thread at a time
            orders = self._shop().list_orders(customer_id)
        newest = sorted(orders, key=lambda o: (o.placed_on is not None, o.placed_on), reverse=True)
        return [
            {
                "order_id": order.order_id,
                "status": order.status,
                "placed_on": order.placed_on.isoformat() if order.placed_on else None,
                "total": order.total,
                "items": [item.name for item in order.items][:4],
            }
            for order in newest[:MAX_ORDERS]
        ]

    async def orders(self, customer_id: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._orders, customer_id)

    async def customer_name(self, customer_id: str) -> str | None:
        return await asyncio.to_thread(self._name, customer_id)

    async def aclose(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None


def _shown_products(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Products the bot recommended in this conversation (newest first, at most 6)."""
    shown: list[dict[str, Any]] = []
    for event in reversed(events):
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        if isinstance(custom, dict) and custom.get("type") == "product_cards":
            for card in custom.get("cards") or ():
                if isinstance(card, dict) and card.get("title"):
                    # The recommender's cards carry their price as worded text in the
                    # subtitle ("from $48.00", in the shopper's language), as the widget reads it.
                    shown.append({"title": card["title"], "price": card.get("subtitle"),
                                  "reason": card.get("reason")})  # fmt: skip
    return shown[:6]


async def shopper_name(slots: Mapping[str, Any], orders: OrderDirectory | None) -> str | None:
    """The shopper's name: the conversation's ``customer_name`` slot, else (identified by
    email, which sets no name slot) the name in the shop's records."""
    name = slots.get("customer_name")
    if isinstance(name, str) and name:
        return name
    customer_id = slots.get("customer_id")
    if orders is None or not isinstance(customer_id, str) or not customer_id:
        return None
    return await orders.customer_name(customer_id)


async def customer_panel(
    conversation_id: str,
    events: Sequence[Event],
    slots: Mapping[str, Any],
    *,
    db: ConsoleStore,
    orders: OrderDirectory | None,
) -> dict[str, Any]:
    """Everything the panel shows for one conversation."""
    customer_id = slots.get("customer_id")
    profile = (
        slots.get("customer_profile") if isinstance(slots.get("customer_profile"), dict) else None
    )
    panel: dict[str, Any] = {
        "customer_id": customer_id,
        "name": await shopper_name(slots, orders),
        "email": slots.get("email"),
        "language": slots.get("language"),
        "channel": conversation_id.split(":", 1)[0] if ":" in conversation_id else "webchat",
        "profile": profile,
        "recommended": _shown_products(events),
        "clicked": len(
            card_payloads(events) & {str(e.get("text")) for e in events if e.get("event") == "user"}
        ),
        "orders": [],
        "earlier": [],
    }
    handoffs = await db.handoffs_of(conversation_id)
    if handoffs and handoffs[-1].email and not panel["email"]:
        panel["email"] = handoffs[-1].email
    if isinstance(customer_id, str) and customer_id:
        if orders is not None:
            panel["orders"] = await orders.orders(customer_id)
        panel["earlier"] = [
            {"conversation_id": cid, "first_seen": seen}
            for cid, seen in await db.conversations_of(customer_id)
            if cid != conversation_id
        ]
    return panel
