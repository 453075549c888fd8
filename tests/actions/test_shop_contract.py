"""Contract of the ShopBackend port, run against the SQLite adapter on a file and in memory.

The expectations are written against small records made here, so each rule (case-insensitive
email, newest-first orders, int/float kinds, tau-bench records without our extra fields) is
checked on data whose answer we know.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from actions.shop.port import ShopBackend, ShopDataError
from actions.shop.sqlite import SQLiteShopBackend, default_shop_dir


def _address(zip_code: str) -> dict[str, str]:
    return {
        "address1": "12 Alder Street",
        "address2": "",
        "city": "Portland",
        "country": "USA",
        "state": "OR",
        "zip": zip_code,
    }


def _user(user_id: str, first: str, last: str, email: str, zip_code: str) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "name": {"first_name": first, "last_name": last},
        "address": _address(zip_code),
        "email": email,
        "payment_methods": {
            "gift_card_1": {"source": "gift_card", "balance": 51, "id": "gift_card_1"},
        },
        "orders": [],
    }


def _order(order_id: str, user_id: str, placed_on: str | None, price: float) -> dict[str, Any]:
    record: dict[str, Any] = {
        "order_id": order_id,
        "user_id": user_id,
        "address": _address("97201"),
        "items": [
            {
                "name": "Rain Shell Jacket",
                "product_id": "100",
                "item_id": "1001",
                "price": price,
                "options": {"color": "red", "size": "M"},
            }
        ],
        "fulfillments": [
            {
                "tracking_id": ["1Z999"],
                "item_ids": ["1001"],
                "carrier": "UPS",
                "estimated_delivery": "2026-11-22",
            }
        ],
        "status": "processed",
        "payment_history": [
            {"transaction_type": "payment", "amount": price, "payment_method_id": "gift_card_1"}
        ],
    }
    if placed_on:
        record["placed_on"] = placed_on
    return record


PRODUCTS = {
    "100": {
        "name": "Rain Shell Jacket",
        "product_id": "100",
        "variants": {
            "1001": {
                "item_id": "1001",
                "options": {"color": "red", "size": "M"},
                "available": True,
                "price": 149.0,
            },
            "1002": {
                "item_id": "1002",
                "options": {"color": "navy", "size": "L"},
                "available": False,
                "price": 151,
            },
        },
        "category": "Outerwear",
        "description": "A waterproof jacket.",
    },
    "200": {
        "name": "Insulated Water Bottle",
        "product_id": "200",
        "variants": {
            "2001": {
                "item_id": "2001",
                "options": {"capacity": "750ml", "color": "teal"},
                "available": True,
                "price": 34.5,
            }
        },
        "category": "Accessories",
        "description": "Keeps drinks cold.",
    },
    "300": {
        "name": "Down Puffer Jacket",
        "product_id": "300",
        "variants": {},
        "category": "Outerwear",
    },
}
USERS = {
    "emma_nguyen_1": _user("emma_nguyen_1", "Emma", "Nguyen", "Emma.Nguyen@Example.com", "97201"),
    "emma_kowalski_2": _user("emma_kowalski_2", "Emma", "Kowalski", "ek@example.com", "80202"),
    "liam_okafor_3": _user("liam_okafor_3", "Liam", "Okafor", "liam@example.com", "97201"),
}
ORDERS = {
    "#1000001": _order("#1000001", "emma_nguyen_1", "2026-10-01", 149.0),
    "#1000002": _order("#1000002", "emma_nguyen_1", "2026-11-15", 120),
    "#1000003": _order("#1000003", "emma_nguyen_1", "2026-06-30", 99.5),
    "#1000004": _order("#1000004", "liam_okafor_3", "2026-11-01", 34.5),
}


@pytest.fixture(params=["memory", "file"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ShopBackend]:
    database = ":memory:" if request.param == "memory" else tmp_path / "shop.sqlite3"
    shop = SQLiteShopBackend.from_records(
        products=PRODUCTS, users=USERS, orders=ORDERS, database=database
    )
    yield shop
    shop.close()


def test_find_customer_by_email_ignores_case_and_spaces(backend: ShopBackend) -> None:
    customer = backend.find_customer_by_email("  emma.NGUYEN@example.COM ")
    assert customer is not None
    assert customer.user_id == "emma_nguyen_1"
    assert customer.full_name == "Emma Nguyen"
    assert backend.find_customer_by_email("emma.nguyen@example.org") is None
    assert backend.find_customer_by_email("") is None


def test_find_customer_by_name_zip_needs_all_three(backend: ShopBackend) -> None:
    found = backend.find_customer_by_name_zip("emma", "KOWALSKI", "80202")
    assert found is not None
    assert found.user_id == "emma_kowalski_2"
    # Same first name, other customer's zip: no match (first names alone identify no one).
    assert backend.find_customer_by_name_zip("Emma", "Kowalski", "97201") is None
    assert backend.find_customer_by_name_zip("Emma", "Okafor", "97201") is None


def test_find_customers_by_zip_lists_every_account_there(backend: ShopBackend) -> None:
    assert [c.user_id for c in backend.find_customers_by_zip(" 97201 ")] == [
        "emma_nguyen_1",
        "liam_okafor_3",
    ]
    assert backend.find_customers_by_zip("00000") == []


def test_get_customer_reads_the_whole_record(backend: ShopBackend) -> None:
    customer = backend.get_customer("emma_kowalski_2")
    assert customer is not None
    assert customer.email == "ek@example.com"
    assert customer.address.zip == "80202"
    (method,) = customer.payment_methods
    assert (method.method_id, method.source, method.balance) == ("gift_card_1", "gift_card", 51)
    assert backend.get_customer("nobody_0000") is None


def test_list_orders_is_newest_first_and_per_customer(backend: ShopBackend) -> None:
    orders = backend.list_orders("emma_nguyen_1")
    assert [o.order_id for o in orders] == ["#1000002", "#1000001", "#1000003"]
    assert {o.user_id for o in orders} == {"emma_nguyen_1"}
    assert backend.list_orders("emma_kowalski_2") == []
    assert backend.list_orders("nobody_0000") == []


@pytest.mark.parametrize("spelling", ["#1000001", "1000001", " #1000001 ", "# 1000001"])
def test_get_order_accepts_the_id_with_or_without_hash(backend: ShopBackend, spelling: str) -> None:
    order = backend.get_order(spelling)
    assert order is not None
    assert order.order_id == "#1000001"
    assert order.status == "processed"
    assert order.total == 149.0
    (shipment,) = order.fulfillments
    assert shipment.tracking_ids == ("1Z999",)
    assert shipment.carrier == "UPS"
    assert shipment.estimated_delivery is not None
    assert shipment.estimated_delivery.isoformat() == "2026-11-22"


def test_get_order_unknown_is_none(backend: ShopBackend) -> None:
    assert backend.get_order("#9999999") is None
    assert backend.get_order("") is None


def test_get_product_with_variants(backend: ShopBackend) -> None:
    product = backend.get_product("100")
    assert product is not None
    assert product.name == "Rain Shell Jacket"
    assert product.category == "Outerwear"
    assert [v.item_id for v in product.variants] == ["1001", "1002"]
    assert [v.item_id for v in product.available_variants] == ["1001"]
    assert dict(product.variants[1].options) == {"color": "navy", "size": "L"}
    assert backend.get_product("999") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Rain Shell Jacket", ["Rain Shell Jacket", "Down Puffer Jacket"]),
        ("jackets", ["Down Puffer Jacket", "Rain Shell Jacket"]),
        ("water bottle", ["Insulated Water Bottle"]),
        ("outerwear", ["Down Puffer Jacket", "Rain Shell Jacket"]),
        ("teal", ["Insulated Water Bottle"]),
        ("kayak", []),
        ("", []),
    ],
)
def test_search_products_ranks_deterministically(
    backend: ShopBackend, query: str, expected: list[str]
) -> None:
    assert [p.name for p in backend.search_products(query, 5)] == expected


def test_search_products_respects_limit(backend: ShopBackend) -> None:
    assert [p.name for p in backend.search_products("jacket", 1)] == ["Down Puffer Jacket"]


def test_list_products_in_catalogue_order(backend: ShopBackend) -> None:
    assert [p.product_id for p in backend.list_products()] == ["100", "200", "300"]


def test_purchase_histories_are_oldest_first_without_cancelled_orders(
    tmp_path: Path,
) -> None:
    orders = {
        **ORDERS,
        "#1000005": {
            **_order("#1000005", "liam_okafor_3", "2026-11-20", 34.5),
            "status": "cancelled",
        },
    }
    second = orders["#1000002"]
    orders["#1000002"] = {**second, "items": [{**second["items"][0], "product_id": "200"}]}
    folder = tmp_path / "shop"
    folder.mkdir()
    for name, data in (("users", USERS), ("orders", orders), ("products", PRODUCTS)):
        (folder / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    backend = SQLiteShopBackend.from_directory(folder)
    try:
        histories = backend.purchase_histories()
    finally:
        backend.close()
    # Emma's orders by date: 06-30 (100), 10-01 (100), 11-15 (200); Liam's cancel is left out.
    assert histories == {"emma_nguyen_1": ["100", "100", "200"], "liam_okafor_3": ["100"]}


def test_calls_from_many_threads_are_safe(backend: ShopBackend) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                assert backend.get_order("1000002") is not None
                assert len(backend.list_orders("emma_nguyen_1")) == 3
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_records_keep_number_kinds(tmp_path: Path) -> None:
    database = tmp_path / "kinds.sqlite3"
    SQLiteShopBackend.from_records(
        products=PRODUCTS, users=USERS, orders=ORDERS, database=database
    ).close()
    with closing(sqlite3.connect(database)) as raw:
        (product,) = raw.execute("SELECT record FROM products WHERE product_id = '100'").fetchone()
        (user,) = raw.execute("SELECT record FROM users WHERE user_id = 'emma_nguyen_1'").fetchone()
    variants = json.loads(product)["variants"]
    assert isinstance(variants["1001"]["price"], float)
    assert isinstance(variants["1002"]["price"], int)
    assert isinstance(json.loads(user)["payment_methods"]["gift_card_1"]["balance"], int)
    reopened = SQLiteShopBackend.open(database)
    try:
        order = reopened.get_order("#1000002")
        assert order is not None
        assert order.items[0].price == 120
    finally:
        reopened.close()


def test_tau_bench_shaped_records_load() -> None:
    # tau-bench users have no "user_id" field and orders no dates: the key is the id and the
    # file order stands in for the date.
    users = {"noah_brown_7922": {k: v for k, v in USERS["liam_okafor_3"].items() if k != "user_id"}}
    orders = {
        oid: {**_order(oid, "noah_brown_7922", None, 10.0), "order_id": oid}
        for oid in ("#W0000001", "#W0000002")
    }
    shop = SQLiteShopBackend.from_records(products=PRODUCTS, users=users, orders=orders)
    try:
        assert [o.order_id for o in shop.list_orders("noah_brown_7922")] == [
            "#W0000002",
            "#W0000001",
        ]
        assert shop.get_order("w0000001") is not None
        customer = shop.find_customer_by_email("liam@example.com")
        assert customer is not None
        assert customer.user_id == "noah_brown_7922"
    finally:
        shop.close()


def test_malformed_record_is_rejected_with_its_id() -> None:
    bad = {"#1": {**ORDERS["#1000001"], "order_id": "#1", "status": "lost in space"}}
    with pytest.raises(ShopDataError, match="#1"):
        SQLiteShopBackend.from_records(products=PRODUCTS, users=USERS, orders=bad)


def test_shop_dir_comes_from_the_environment(tmp_path: Path) -> None:
    assert default_shop_dir({"CONCIERGE_SHOP_DIR": str(tmp_path)}) == tmp_path
    default = default_shop_dir({})
    assert default == Path(__file__).resolve().parents[2] / "data" / "shop"
    assert (default / "orders.json").is_file()


def test_from_directory_loads_the_demo_shop() -> None:
    shop = SQLiteShopBackend.from_directory(default_shop_dir({}))
    try:
        product = shop.search_products("trail runner shoe", 1)
        assert [p.name for p in product] == ["Trail Runner Shoe"]
    finally:
        shop.close()


TAU_BENCH = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "tau-bench-retail"


@pytest.mark.skipif(not TAU_BENCH.is_dir(), reason=f"tau-bench data set not found at {TAU_BENCH}")
def test_the_tau_bench_retail_shop_loads_into_the_same_store() -> None:
    shop = SQLiteShopBackend.from_directory(TAU_BENCH)
    try:
        users = json.loads((TAU_BENCH / "users.json").read_text())
        user_id, record = next(iter(users.items()))
        customer = shop.find_customer_by_email(record["email"].upper())
        assert customer is not None
        assert customer.user_id == user_id
        orders = shop.list_orders(user_id)
        assert {o.order_id for o in orders} == set(record["orders"])
        order = shop.get_order(record["orders"][0])
        assert order is not None
        assert order.user_id == user_id
        assert shop.search_products("water bottle", 1)[0].name == "Water Bottle"
    finally:
        shop.close()
