"""Generate the demo shop's data files (Northwind Outfitters) from a fixed seed.

Writes ``products.json``, ``users.json`` and ``orders.json`` in the tau-bench retail shape (plus
our optional ``category``, ``description``, dates and carrier fields). The output depends only on
the seed, so the committed files can be checked against a fresh run::

    python -m actions.shop.generate_demo                 # rewrite data/shop/
    python -m actions.shop.generate_demo --out /tmp/shop # somewhere else
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actions.shop.demo_catalog import CatalogEntry, demo_catalog
from actions.shop.demo_people import CARD_BRANDS, CITIES, CUSTOMER_NAMES, ORDER_COUNTS, STREETS

DEFAULT_SEED = 4821
AS_OF = dt.date(2026, 11, 20)
"""The demo shop's "today": every date in the data is placed relative to it."""

MAX_VARIANTS = 12
STATUS_COUNTS = {
    "delivered": 40,
    "processed": 16,
    "pending": 16,
    "cancelled": 12,
    "return requested": 9,
    "exchange requested": 9,
}
"""How many orders get each status; sums to the 102 orders of ``ORDER_COUNTS``."""

Json = dict[str, Any]


class _Ids:
    """Unique random digit strings, so no two records collide on an id."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def digits(self, length: int) -> str:
        while True:
            value = str(self._rng.randrange(10 ** (length - 1), 10**length))
            if value not in self._seen:
                self._seen.add(value)
                return value


def _products(rng: random.Random, ids: _Ids, catalog: Sequence[CatalogEntry]) -> Json:
    products: Json = {}
    for entry in catalog:
        names = [name for name, _ in entry.options]
        combos = list(itertools.product(*(values for _, values in entry.options)))
        if len(combos) > MAX_VARIANTS:
            keep = sorted(rng.sample(range(len(combos)), MAX_VARIANTS))
            combos = [combos[i] for i in keep]
        variants: Json = {}
        for combo in combos:
            item_id = ids.digits(10)
            variants[item_id] = {
                "item_id": item_id,
                "options": dict(zip(names, combo, strict=True)),
                "available": rng.random() < 0.8,
                "price": round(entry.base_price * rng.uniform(0.93, 1.07), 2),
            }
        if not any(v["available"] for v in variants.values()):
            next(iter(variants.values()))["available"] = True
        product_id = ids.digits(10)
        products[product_id] = {
            "name": entry.name,
            "product_id": product_id,
            "variants": variants,
            "category": entry.category,
            "description": entry.description,
        }
    return products


def _payment_methods(rng: random.Random, ids: _Ids) -> Json:
    methods: Json = {}
    card_id = f"credit_card_{ids.digits(7)}"
    methods[card_id] = {
        "source": "credit_card",
        "brand": rng.choice(CARD_BRANDS),
        "last_four": f"{rng.randrange(10000):04d}",
        "id": card_id,
    }
    if rng.random() < 0.4:
        paypal_id = f"paypal_{ids.digits(7)}"
        methods[paypal_id] = {"source": "paypal", "id": paypal_id}
    if rng.random() < 0.3:
        gift_id = f"gift_card_{ids.digits(7)}"
        # tau-bench stores gift-card balances as integers; we keep that kind.
        methods[gift_id] = {"source": "gift_card", "balance": rng.randrange(10, 200), "id": gift_id}
    return methods


def _users(rng: random.Random, ids: _Ids) -> Json:
    users: Json = {}
    for first, last in CUSTOMER_NAMES:
        user_id = f"{first}_{last}_{ids.digits(4)}".lower()
        city, state, prefix = rng.choice(CITIES)
        users[user_id] = {
            "user_id": user_id,
            "name": {"first_name": first, "last_name": last},
            "address": {
                "address1": f"{rng.randrange(10, 9999)} {rng.choice(STREETS)}",
                "address2": f"Apt {rng.randrange(1, 40)}" if rng.random() < 0.4 else "",
                "city": city,
                "country": "USA",
                "state": state,
                "zip": f"{prefix}{rng.randrange(100):02d}",
            },
            "email": f"{first}.{last}{user_id[-4:]}@example.com".lower(),
            "payment_methods": _payment_methods(rng, ids),
            "orders": [],
        }
    return users


def _tracking_id(rng: random.Random, carrier: str) -> str:
    if carrier == "UPS":
        letters = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        return f"1Z{letters}{rng.randrange(10**10):010d}"
    if carrier == "USPS":
        return f"9400{rng.randrange(10**18):018d}"
    return f"{rng.randrange(10**11, 10**12)}"


def _placed_on(rng: random.Random, status: str) -> dt.date:
    days_ago = {
        "pending": (0, 2),
        "processed": (2, 6),
        "return requested": (10, 35),
        "exchange requested": (10, 35),
        "cancelled": (3, 200),
    }.get(status, (12, 330))
    return AS_OF - dt.timedelta(days=rng.randint(*days_ago))


def _fulfillments(
    rng: random.Random, status: str, placed: dt.date, items: list[Json]
) -> list[Json]:
    if status in ("pending", "cancelled"):
        return []
    carrier = rng.choice(("UPS", "USPS", "FedEx"))
    item_ids = [item["item_id"] for item in items]
    # Some larger orders ship in two parcels, as a real warehouse would send them.
    cut = rng.randrange(1, len(item_ids)) if len(item_ids) >= 3 and rng.random() < 0.4 else 0
    parcels = [item_ids[:cut], item_ids[cut:]] if cut else [item_ids]
    shipments = []
    for parcel in parcels:
        estimated = placed + dt.timedelta(days=rng.randint(4, 8))
        shipment: Json = {"tracking_id": [_tracking_id(rng, carrier)], "item_ids": parcel}
        shipment["carrier"] = carrier
        if status == "processed":
            shipment["estimated_delivery"] = max(
                estimated, AS_OF + dt.timedelta(days=1)
            ).isoformat()
        else:
            shipment["estimated_delivery"] = estimated.isoformat()
            delivered = estimated + dt.timedelta(days=rng.randint(-2, 1))
            shipment["delivered_on"] = min(delivered, AS_OF).isoformat()
        shipments.append(shipment)
    return shipments


def _order(
    rng: random.Random, ids: _Ids, user: Json, status: str, products: Json
) -> tuple[dt.date, Json]:
    placed = _placed_on(rng, status)
    chosen = rng.sample(sorted(products), k=rng.choice((1, 1, 2, 2, 3, 4)))
    items = []
    for product_id in chosen:
        product = products[product_id]
        variant = product["variants"][rng.choice(sorted(product["variants"]))]
        items.append(
            {
                "name": product["name"],
                "product_id": product_id,
                "item_id": variant["item_id"],
                "price": variant["price"],
                "options": dict(variant["options"]),
            }
        )
    method_id = rng.choice(sorted(user["payment_methods"]))
    total = round(sum(item["price"] for item in items), 2)
    payments = [{"transaction_type": "payment", "amount": total, "payment_method_id": method_id}]
    if status == "cancelled":
        payments.append(
            {"transaction_type": "refund", "amount": total, "payment_method_id": method_id}
        )
    order: Json = {
        "order_id": f"#{ids.digits(7)}",
        "user_id": user["user_id"],
        "address": dict(user["address"]),
        "items": items,
        "fulfillments": _fulfillments(rng, status, placed, items),
        "status": status,
        "payment_history": payments,
        "placed_on": placed.isoformat(),
    }
    if status == "return requested":
        returned = rng.sample(items, k=rng.randint(1, len(items)))
        order["return_items"] = sorted(item["item_id"] for item in returned)
        order["return_payment_method_id"] = method_id
    elif status == "exchange requested":
        _add_exchange(rng, order, products, method_id)
    return placed, order


def _add_exchange(rng: random.Random, order: Json, products: Json, method_id: str) -> None:
    """Swap one item for another in-stock variant of the same product, as tau-bench records it."""
    for item in rng.sample(order["items"], k=len(order["items"])):
        variants = products[item["product_id"]]["variants"]
        others = sorted(k for k, v in variants.items() if v["available"] and k != item["item_id"])
        if others:
            new_id = rng.choice(others)
            order["exchange_items"] = [item["item_id"]]
            order["exchange_new_items"] = [new_id]
            order["exchange_payment_method_id"] = method_id
            order["exchange_price_difference"] = round(variants[new_id]["price"] - item["price"], 2)
            return
    # No item has another variant in stock: a return is what the shopper could have asked for.
    order["status"] = "return requested"
    order["return_items"] = sorted(item["item_id"] for item in order["items"])
    order["return_payment_method_id"] = method_id


def generate(seed: int = DEFAULT_SEED) -> dict[str, Json]:
    """The demo shop as ``{"products": ..., "users": ..., "orders": ...}`` records."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    products = _products(rng, ids, demo_catalog())
    users = _users(rng, ids)
    statuses = [status for status, count in STATUS_COUNTS.items() for _ in range(count)]
    rng.shuffle(statuses)
    dated: list[tuple[dt.date, str, Json]] = []
    for user, count in zip(users.values(), ORDER_COUNTS, strict=True):
        for _ in range(count):
            placed, order = _order(rng, ids, user, statuses.pop(), products)
            dated.append((placed, order["order_id"], order))
    dated.sort(key=lambda entry: (entry[0], entry[1]))
    orders: Json = {}
    for _, order_id, order in dated:
        orders[order_id] = order
        users[order["user_id"]]["orders"].append(order_id)
    return {"products": products, "users": users, "orders": orders}


def render(records: Json) -> str:
    """One shop file's text: indented JSON with a final newline, stable for version control."""
    return json.dumps(records, indent=2) + "\n"


def write(directory: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Generates the shop and writes its three files into ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, records in generate(seed).items():
        path = directory / f"{name}.json"
        path.write_text(render(records), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    default_out = Path(__file__).resolve().parents[2] / "data" / "shop"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=default_out, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    for path in write(args.out, args.seed):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
