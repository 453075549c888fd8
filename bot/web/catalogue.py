"""The demo shop's products as the bot's web pages show them (read from the shop's JSON).

The action server owns the shop; the bot only reads ``products.json`` here to draw the demo
page and the placeholder pictures of product cards, so a missing or odd file gives an empty
shop window, never a failed start.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShowcaseProduct:
    product_id: str
    name: str
    category: str
    description: str
    price_from: float | None
    """The lowest price of a variant in stock; None when none is."""


@functools.lru_cache(maxsize=4)
def load_products(path: Path) -> tuple[ShowcaseProduct, ...]:
    """Products of a tau-bench-shaped ``products.json``; () when it cannot be read."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("demo page: cannot read %s: %s", path, exc)
        return ()
    items = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    products = []
    for item in items:
        if not isinstance(item, dict) or not item.get("product_id") or not item.get("name"):
            continue
        variants = item.get("variants") or {}
        prices = [
            float(v["price"])
            for v in (variants.values() if isinstance(variants, dict) else variants)
            if isinstance(v, dict)
            and v.get("available")
            and isinstance(v.get("price"), int | float)
        ]
        products.append(
            ShowcaseProduct(
                str(item["product_id"]),
                str(item["name"]),
                str(item.get("category") or ""),
                str(item.get("description") or ""),
                min(prices) if prices else None,
            )
        )
    return tuple(products)


def showcase(products: tuple[ShowcaseProduct, ...], count: int = 8) -> list[ShowcaseProduct]:
    """A shop window: the first product in stock of each category, then more, ``count`` in all."""
    in_stock = [p for p in products if p.price_from is not None]
    chosen: list[ShowcaseProduct] = []
    seen: set[str] = set()
    for product in in_stock:
        if product.category not in seen:
            seen.add(product.category)
            chosen.append(product)
    chosen += [p for p in in_stock if p not in chosen]
    return chosen[:count]


def find(products: tuple[ShowcaseProduct, ...], product_id: str) -> ShowcaseProduct | None:
    return next((p for p in products if p.product_id == product_id), None)
