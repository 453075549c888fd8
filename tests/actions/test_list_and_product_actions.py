"""Order listing and product questions, over HTTP on a real action server with the demo shop."""

from __future__ import annotations

import json
import re

import pytest
from action_server_helpers import SHOP_DIR, ActionServer, customer_with_orders, form_turn

from actions.formatting import money
from actions.shop.port import ShopBackend

pytestmark = pytest.mark.slow


def test_list_orders_form_needs_only_identity(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop)
    reply = action_server.call(
        "validate_list_orders_form", form_turn("list_orders_form", "x", {"email": customer.email})
    )
    assert reply.slots["customer_id"] == customer.user_id
    assert reply.slots["requested_slot"] is None

    unknown = action_server.call(
        "validate_list_orders_form", form_turn("list_orders_form", "x", {})
    )
    assert unknown.slots == {"requested_slot": "email"}


def test_list_orders_newest_first_with_totals(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop)
    orders = shop.list_orders(customer.user_id)
    assert len(orders) > 1
    reply = action_server.call(
        "action_list_orders",
        form_turn("list_orders_form", "x", {}, {"customer_id": customer.user_id}),
    )
    listed = re.findall(r"#\d{7}", reply.text)
    assert listed == [o.order_id for o in orders[:10]]
    for order in orders[:10]:
        line = next(line for line in reply.texts[0].splitlines() if order.order_id in line)
        assert money(order.total) in line
    assert [b["payload"] for b in reply.buttons] == [
        f'/track_order{{"order_id":"{o.order_id}"}}' for o in orders[:10]
    ]
    assert reply.slots == {}


def test_list_orders_shows_only_the_customers_own(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop, 1)
    (only,) = shop.list_orders(customer.user_id)
    reply = action_server.call(
        "action_list_orders",
        form_turn("list_orders_form", "x", {}, {"customer_id": customer.user_id}),
    )
    assert re.findall(r"#\d{7}", reply.text) == [only.order_id]


def test_list_orders_without_identity_asks_for_it(action_server: ActionServer) -> None:
    reply = action_server.call("action_list_orders", form_turn("list_orders_form", "x", {}))
    assert "email" in reply.text
    assert reply.buttons == []


def test_product_found_by_shoppers_words(action_server: ActionServer) -> None:
    reply = action_server.call(
        "validate_product_info_form",
        form_turn("product_info_form", "x", {"product": "trail runners"}),
    )
    assert reply.slots == {"product": "Trail Runner Shoe", "requested_slot": None}
    assert reply.texts == []


def test_ambiguous_product_offers_choices(action_server: ActionServer) -> None:
    reply = action_server.call(
        "validate_product_info_form", form_turn("product_info_form", "x", {"product": "jacket"})
    )
    assert reply.slots == {"product": None, "requested_slot": "product"}
    titles = [b["title"] for b in reply.buttons]
    assert len(titles) >= 2
    assert all("Jacket" in title for title in titles)
    assert reply.buttons[0]["payload"] == f'/product_info{{"product":"{titles[0]}"}}'


def test_unknown_product_is_reset(action_server: ActionServer) -> None:
    reply = action_server.call(
        "validate_product_info_form",
        form_turn("product_info_form", "x", {"product": "inflatable kayak"}),
    )
    assert reply.slots == {"product": None, "requested_slot": "product"}
    assert "couldn't find a product" in reply.text
    assert reply.buttons == []

    answer = action_server.call(
        "action_product_info",
        form_turn("product_info_form", "x", {}, {"product": "inflatable kayak"}),
    )
    assert "couldn't find a product" in answer.text
    assert answer.slots == {"product": None}


def _mentions(text: str, value: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text) is not None


def test_product_info_lists_price_and_in_stock_options(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    # A product where some option value is sold out in every variant, so the test can see
    # that value left out of the in-stock list.
    records = json.loads((SHOP_DIR / "products.json").read_text())
    products = [p for p in map(shop.get_product, records) if p is not None]
    product = next(
        p
        for p in products
        if {x for v in p.variants for x in v.options.values()}
        - {x for v in p.available_variants for x in v.options.values()}
    )
    reply = action_server.call(
        "action_product_info",
        form_turn("product_info_form", "x", {}, {"product": product.name}),
    )
    text = reply.text
    assert product.description is not None
    assert product.description in text
    in_stock = product.available_variants
    low, high = min(v.price for v in in_stock), max(v.price for v in in_stock)
    assert money(low) in text
    assert money(high) in text
    stock_line = text[text.index("In stock:") :]
    offered = {value for v in in_stock for value in v.options.values()}
    for value in {value for v in product.variants for value in v.options.values()}:
        assert _mentions(stock_line, value) == (value in offered), value
    custom = reply.body["responses"][0]["custom"]["product"]
    assert custom["product_id"] == product.product_id
    assert [v["available"] for v in custom["variants"]] == [v.available for v in product.variants]
    assert reply.slots == {"product": None}
