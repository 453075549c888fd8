"""The demo shop generator is deterministic and the committed data is its output."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from actions.shop.generate_demo import main
from actions.shop.port import ORDER_STATUSES

SHOP_DIR = Path(__file__).resolve().parents[2] / "data" / "shop"
FILES = ("products.json", "users.json", "orders.json")


def test_generator_is_deterministic_and_matches_the_committed_files(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["--out", str(first)]) == 0
    assert main(["--out", str(second)]) == 0
    for name in FILES:
        generated = (first / name).read_bytes()
        assert generated == (second / name).read_bytes(), name
        assert generated == (SHOP_DIR / name).read_bytes(), f"data/shop/{name} is stale"


def test_another_seed_gives_another_shop(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--seed", "7"]) == 0
    assert (tmp_path / "orders.json").read_bytes() != (SHOP_DIR / "orders.json").read_bytes()


def test_demo_shop_covers_what_the_conversations_need() -> None:
    products, users, orders = (json.loads((SHOP_DIR / n).read_text()) for n in FILES)
    assert 35 <= len(products) <= 50
    assert len(users) == 30
    assert 90 <= len(orders) <= 110
    statuses = Counter(order["status"] for order in orders.values())
    expected = set(ORDER_STATUSES) - {"pending (item modified)"}
    assert set(statuses) == expected
    counts = Counter(len(user["orders"]) for user in users.values())
    assert counts[1] >= 1
    assert max(counts) >= 5
    first_names = Counter(user["name"]["first_name"] for user in users.values())
    assert first_names.most_common(1)[0][1] >= 2
    for order_id, order in orders.items():
        assert order_id == order["order_id"]
        assert re.fullmatch(r"#\d{7}", order_id)
        assert order_id in users[order["user_id"]]["orders"]
        assert re.fullmatch(r"\d{5}", order["address"]["zip"])
        shipped = order["status"] not in ("pending", "cancelled")
        assert bool(order["fulfillments"]) == shipped
        for item in order["items"]:
            variant = products[item["product_id"]]["variants"][item["item_id"]]
            assert variant["price"] == item["price"]
            assert variant["options"] == item["options"]
