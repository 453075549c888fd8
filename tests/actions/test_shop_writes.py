"""The shop's write operations on a small tau-bench-shaped shop built here.

Each refusal is checked for its code, its exact reference text and for leaving the data alone;
each success for the exact record change, including number kinds and key order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actions.shop.port import Address
from actions.shop.sqlite import SQLiteShopBackend

ADDRESS = {
    "address1": "1 Elm Street",
    "address2": "Apt 2",
    "city": "Springfield",
    "country": "USA",
    "state": "IL",
    "zip": "62701",
}
NEW_ADDRESS = Address("9 Oak Road", "", "Shelbyville", "IL", "62565", "USA")


def _variant(item_id: str, price: float, available: bool = True) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "options": {"size": item_id},
        "available": available,
        "price": price,
    }


def _item(name: str, product_id: str, item_id: str, price: float) -> dict[str, Any]:
    return {
        "name": name,
        "product_id": product_id,
        "item_id": item_id,
        "price": price,
        "options": {"size": item_id},
    }


PRODUCTS = {
    "P1": {
        "name": "Kettle",
        "product_id": "P1",
        "variants": {
            "11": _variant("11", 100.0),
            "12": _variant("12", 120.5),
            "13": _variant("13", 90.0, available=False),
            "14": _variant("14", 200.0),
        },
    },
    "P2": {"name": "Lamp", "product_id": "P2", "variants": {"21": _variant("21", 50.0)}},
}


def _order(
    order_id: str, status: str, items: list[dict[str, Any]], payments: list[tuple[float, str]]
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "user_id": "ann_lee_1",
        "address": dict(ADDRESS),
        "items": items,
        "fulfillments": [],
        "status": status,
        "payment_history": [
            {"transaction_type": "payment", "amount": amount, "payment_method_id": method}
            for amount, method in payments
        ],
    }


KETTLE, KETTLE_12 = _item("Kettle", "P1", "11", 100.0), _item("Kettle", "P1", "12", 120.5)
LAMP = _item("Lamp", "P2", "21", 50.0)
ORDERS = {
    "#W1": _order("#W1", "pending", [KETTLE, LAMP], [(150.0, "credit_card_1")]),
    "#W2": _order("#W2", "pending", [KETTLE, KETTLE], [(200.0, "gift_card_1")]),
    "#W3": _order("#W3", "delivered", [KETTLE_12, LAMP], [(170.5, "paypal_1")]),
    "#W4": _order("#W4", "processed", [LAMP], [(50.0, "paypal_1")]),
    # A history naming a gift card the owner does not have: the shop's data is inconsistent.
    "#W5": _order("#W5", "pending", [LAMP], [(40.0, "gift_card_1"), (10.0, "gift_card_9")]),
}
USERS = {
    "ann_lee_1": {
        "name": {"first_name": "Ann", "last_name": "Lee"},
        "address": dict(ADDRESS),
        "email": "ann@example.com",
        "payment_methods": {
            "gift_card_1": {"source": "gift_card", "id": "gift_card_1", "balance": 51},
            "credit_card_1": {
                "source": "credit_card",
                "id": "credit_card_1",
                "brand": "visa",
                "last_four": "4242",
            },
            "paypal_1": {"source": "paypal", "id": "paypal_1"},
        },
        "orders": list(ORDERS),
    }
}


@pytest.fixture(params=["memory", "file"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLiteShopBackend]:
    database = ":memory:" if request.param == "memory" else tmp_path / "shop.sqlite3"
    backend = SQLiteShopBackend.from_records(
        products=json.loads(json.dumps(PRODUCTS)),
        users=json.loads(json.dumps(USERS)),
        orders=json.loads(json.dumps(ORDERS)),
        database=database,
    )
    yield backend
    backend.close()


def _order_record(shop: SQLiteShopBackend, order_id: str) -> dict[str, Any]:
    record = shop.raw_record("orders", order_id)
    assert record is not None
    return record


def _methods(shop: SQLiteShopBackend) -> dict[str, Any]:
    user = shop.raw_record("users", "ann_lee_1")
    assert user is not None
    methods: dict[str, Any] = user["payment_methods"]
    return methods


def _snapshot(shop: SQLiteShopBackend) -> list[list[tuple[str, str]]]:
    return [shop.raw_records(table) for table in ("users", "orders", "products")]


@pytest.mark.parametrize(
    ("order_id", "reason", "code", "observation"),
    [
        ("#W9", "no longer needed", "order_not_found", "Error: order not found"),
        ("W1", "no longer needed", "order_not_found", "Error: order not found"),
        (
            "#W3",
            "no longer needed",
            "order_not_pending",
            "Error: non-pending order cannot be cancelled",
        ),
        ("#W1", "too expensive", "invalid_cancel_reason", "Error: invalid reason"),
    ],
)
def test_cancel_refusals_change_nothing(
    shop: SQLiteShopBackend, order_id: str, reason: str, code: str, observation: str
) -> None:
    before = _snapshot(shop)
    result = shop.cancel_pending_order(order_id, reason)
    assert result.refusal is not None
    assert (result.refusal.code, result.observation) == (code, observation)
    assert not result.ok
    assert result.value is None
    assert _snapshot(shop) == before


def test_cancel_refunds_gift_card_at_once_and_turns_int_balance_into_float(
    shop: SQLiteShopBackend,
) -> None:
    result = shop.cancel_pending_order("#W2", "ordered by mistake")
    assert result.ok
    assert result.value is not None
    assert result.value.status == "cancelled"
    record = _order_record(shop, "#W2")
    assert list(record)[-2:] == ["payment_history", "cancel_reason"]
    assert record["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": 200.0,
        "payment_method_id": "gift_card_1",
    }
    balance = _methods(shop)["gift_card_1"]["balance"]
    assert balance == 251.0
    assert isinstance(balance, float)
    assert json.loads(result.observation) == record
    assert shop.get_order("#W2") == result.value  # the indexed status column followed


def test_retried_cancel_with_same_key_neither_cancels_nor_refunds_twice(
    shop: SQLiteShopBackend,
) -> None:
    first = shop.cancel_pending_order("#W2", "no longer needed", idempotency_key="req-1")
    after_first = _snapshot(shop)
    again = shop.cancel_pending_order("#W2", "no longer needed", idempotency_key="req-1")
    assert again.replayed
    assert not first.replayed
    assert (again.observation, again.value, again.refusal) == (
        first.observation,
        first.value,
        first.refusal,
    )
    assert _snapshot(shop) == after_first
    assert _methods(shop)["gift_card_1"]["balance"] == 251.0
    assert len(_order_record(shop, "#W2")["payment_history"]) == 2
    # Without the key the request is a new one, and the order is no longer pending.
    fresh = shop.cancel_pending_order("#W2", "no longer needed")
    assert fresh.refusal is not None
    assert fresh.refusal.code == "order_not_pending"


def test_idempotency_key_reused_for_other_request_is_refused(shop: SQLiteShopBackend) -> None:
    shop.cancel_pending_order("#W1", "no longer needed", idempotency_key="req-2")
    before = _snapshot(shop)
    other = shop.cancel_pending_order("#W2", "no longer needed", idempotency_key="req-2")
    assert other.refusal is not None
    assert other.refusal.code == "idempotency_key_reused"
    assert _snapshot(shop) == before


def test_a_refusal_is_replayed_under_its_key(shop: SQLiteShopBackend) -> None:
    first = shop.cancel_pending_order("#W1", "bored", idempotency_key="req-3")
    again = shop.cancel_pending_order("#W1", "bored", idempotency_key="req-3")
    assert again.replayed
    assert again.refusal == first.refusal
    assert again.observation == "Error: invalid reason"


def test_idempotency_keys_hold_across_connections_to_one_file(tmp_path: Path) -> None:
    database = tmp_path / "shared.sqlite3"
    SQLiteShopBackend.from_records(
        products=PRODUCTS, users=USERS, orders=ORDERS, database=database
    ).close()
    worker_a, worker_b = SQLiteShopBackend.open(database), SQLiteShopBackend.open(database)
    try:
        first = worker_a.cancel_pending_order("#W2", "no longer needed", idempotency_key="k")
        retry = worker_b.cancel_pending_order("#W2", "no longer needed", idempotency_key="k")
        assert retry.replayed
        assert retry.observation == first.observation
        assert _methods(worker_b)["gift_card_1"]["balance"] == 251.0
    finally:
        worker_a.close()
        worker_b.close()


def test_write_that_fails_midway_changes_nothing(shop: SQLiteShopBackend) -> None:
    before = _snapshot(shop)
    result = shop.cancel_pending_order("#W5", "no longer needed")
    assert result.refusal is not None
    assert (result.refusal.code, result.observation) == ("shop_data_error", "Error: 'gift_card_9'")
    # The first refund (onto gift_card_1) is not kept: a write is all or nothing.
    assert _snapshot(shop) == before


def test_cancel_after_payment_change_refunds_every_entry_again(shop: SQLiteShopBackend) -> None:
    assert shop.modify_pending_order_payment("#W1", "paypal_1").ok
    shop.cancel_pending_order("#W1", "no longer needed")
    history = _order_record(shop, "#W1")["payment_history"]
    assert [(e["transaction_type"], e["payment_method_id"]) for e in history] == [
        ("payment", "credit_card_1"),
        ("payment", "paypal_1"),
        ("refund", "credit_card_1"),
        ("refund", "credit_card_1"),
        ("refund", "paypal_1"),
        ("refund", "credit_card_1"),
    ]


def test_modify_address_writes_reference_key_order(shop: SQLiteShopBackend) -> None:
    result = shop.modify_pending_order_address("#W1", NEW_ADDRESS)
    record = _order_record(shop, "#W1")
    assert list(record["address"]) == ["address1", "address2", "city", "state", "country", "zip"]
    assert record["status"] == "pending"
    assert result.value is not None
    assert result.value.address == NEW_ADDRESS
    assert shop.raw_record("users", "ann_lee_1") == USERS["ann_lee_1"]
    refused = shop.modify_pending_order_address("#W4", NEW_ADDRESS)
    assert refused.observation == "Error: non-pending order cannot be modified"


@pytest.mark.parametrize(
    ("order_id", "method", "code", "observation"),
    [
        ("#W1", "paypal_9", "payment_method_not_found", "Error: payment method not found"),
        (
            "#W1",
            "credit_card_1",
            "payment_method_unchanged",
            "Error: the new payment method should be different from the current one",
        ),
        (
            "#W1",
            "gift_card_1",
            "insufficient_gift_card_balance",
            "Error: insufficient gift card balance to pay for the order",
        ),
        (
            "#W5",
            "paypal_1",
            "payment_not_single",
            "Error: there should be exactly one payment for a pending order",
        ),
    ],
)
def test_modify_payment_refusals(
    shop: SQLiteShopBackend, order_id: str, method: str, code: str, observation: str
) -> None:
    before = _snapshot(shop)
    result = shop.modify_pending_order_payment(order_id, method)
    assert result.refusal is not None
    assert (result.refusal.code, result.observation) == (code, observation)
    assert _snapshot(shop) == before


def test_modify_payment_off_a_gift_card_credits_it(shop: SQLiteShopBackend) -> None:
    assert shop.modify_pending_order_payment("#W2", "paypal_1").ok
    assert _methods(shop)["gift_card_1"]["balance"] == 251.0
    again = shop.modify_pending_order_payment("#W2", "credit_card_1")
    assert again.refusal is not None
    assert again.refusal.code == "payment_not_single"


@pytest.mark.parametrize(
    ("items", "new_items", "method", "code", "observation"),
    [
        (["11", "11"], ["12", "12"], "paypal_1", "item_not_found", "Error: 11 not found"),
        (["11"], [], "paypal_1", "item_count_mismatch", None),
        (["11"], ["13"], "paypal_1", "new_item_unavailable", None),
        (["21"], ["11"], "paypal_1", "new_item_unavailable", None),
        (["11"], ["12"], "paypal_9", "payment_method_not_found", None),
        (["11"], ["14"], "gift_card_1", "insufficient_gift_card_balance", None),
    ],
)
def test_modify_items_refusals(
    shop: SQLiteShopBackend,
    items: list[str],
    new_items: list[str],
    method: str,
    code: str,
    observation: str | None,
) -> None:
    before = _snapshot(shop)
    result = shop.modify_pending_order_items("#W1", items, new_items, method)
    assert result.refusal is not None
    assert result.refusal.code == code
    if observation is not None:
        assert result.observation == observation
    assert _snapshot(shop) == before


def test_modify_items_swaps_pairwise_and_locks_the_order(shop: SQLiteShopBackend) -> None:
    result = shop.modify_pending_order_items("#W2", ["11", "11"], ["12", "14"], "paypal_1")
    assert result.ok
    record = _order_record(shop, "#W2")
    assert [(i["item_id"], i["price"]) for i in record["items"]] == [("12", 120.5), ("14", 200.0)]
    assert record["status"] == "pending (item modified)"
    assert record["payment_history"][-1] == {
        "transaction_type": "payment",
        "amount": 120.5,
        "payment_method_id": "paypal_1",
    }
    locked = shop.cancel_pending_order("#W2", "no longer needed")
    assert locked.observation == "Error: non-pending order cannot be cancelled"


def test_modify_items_with_no_difference_records_a_zero_refund(shop: SQLiteShopBackend) -> None:
    shop.modify_pending_order_items("#W1", ["11"], ["11"], "paypal_1")
    assert _order_record(shop, "#W1")["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": 0.0,
        "payment_method_id": "paypal_1",
    }


def test_modify_user_address_moves_the_name_zip_lookup(shop: SQLiteShopBackend) -> None:
    assert shop.modify_user_address("nobody", NEW_ADDRESS).observation == "Error: user not found"
    result = shop.modify_user_address("ann_lee_1", NEW_ADDRESS)
    assert result.value is not None
    assert result.value.address == NEW_ADDRESS
    assert shop.find_customer_by_name_zip("Ann", "Lee", "62701") is None
    found = shop.find_customer_by_name_zip("Ann", "Lee", "62565")
    assert found is not None
    assert found.user_id == "ann_lee_1"
    assert _order_record(shop, "#W1")["address"] == ADDRESS


@pytest.mark.parametrize(
    ("order_id", "items", "method", "code", "observation"),
    [
        ("#W1", ["11"], "paypal_1", "order_not_delivered", None),
        ("#W3", ["12"], "paypal_9", "payment_method_not_found", None),
        (
            "#W3",
            ["12"],
            "credit_card_1",
            "payment_method_not_allowed",
            "Error: payment method should be either the original payment method or a gift card",
        ),
        ("#W3", ["12", "12"], "paypal_1", "item_not_found", "Error: some item not found"),
    ],
)
def test_return_refusals(
    shop: SQLiteShopBackend,
    order_id: str,
    items: list[str],
    method: str,
    code: str,
    observation: str | None,
) -> None:
    result = shop.return_delivered_order_items(order_id, items, method)
    assert result.refusal is not None
    assert result.refusal.code == code
    if observation is not None:
        assert result.observation == observation


def test_return_to_a_gift_card_sorts_the_items(shop: SQLiteShopBackend) -> None:
    result = shop.return_delivered_order_items("#W3", ["21", "12"], "gift_card_1")
    assert result.value is not None
    assert result.value.return_item_ids == ("12", "21")
    record = _order_record(shop, "#W3")
    assert list(record)[-2:] == ["return_items", "return_payment_method_id"]
    assert record["payment_history"] == ORDERS["#W3"]["payment_history"]
    assert _methods(shop)["gift_card_1"]["balance"] == 51


def test_exchange_records_the_rounded_difference(shop: SQLiteShopBackend) -> None:
    short = shop.exchange_delivered_order_items("#W3", ["12"], ["14"], "gift_card_1")
    assert short.observation == (
        "Error: insufficient gift card balance to pay for the price difference"
    )
    result = shop.exchange_delivered_order_items("#W3", ["21", "12"], ["21", "11"], "paypal_1")
    assert result.ok
    record = _order_record(shop, "#W3")
    assert record["status"] == "exchange requested"
    assert record["exchange_items"] == ["12", "21"]
    assert record["exchange_new_items"] == ["11", "21"]
    assert record["exchange_price_difference"] == -20.5
    assert record["items"] == ORDERS["#W3"]["items"]
