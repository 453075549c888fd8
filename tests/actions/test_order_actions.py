"""Order-status actions, called over HTTP on a real action server holding the demo shop."""

from __future__ import annotations

import json

import pytest
from action_server_helpers import SHOP_DIR, ActionServer, customer_with_orders, form_turn

from actions.shop.port import Order, ShopBackend

FORM = "order_status_form"
VALIDATE = "validate_order_status_form"

pytestmark = pytest.mark.slow


def _leaks(text: str, order: Order) -> bool:
    """Whether ``text`` shows anything of ``order`` beyond the number the shopper typed."""
    secrets = [item.name for item in order.items] + [order.status]
    secrets += [t for f in order.fulfillments for t in f.tracking_ids]
    return any(secret.lower() in text.lower() for secret in secrets)


def test_email_found_identifies_the_customer(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop)
    reply = action_server.call(
        VALIDATE, form_turn(FORM, "it's me", {"email": customer.email.upper()})
    )
    assert reply.status == 200
    assert reply.slots["customer_id"] == customer.user_id
    assert reply.slots["email"] == customer.email.lower()
    assert reply.slots["requested_slot"] == "order_id"
    assert reply.texts == []
    # The buying profile travels with the conversation, for agents and the answer prompt.
    profile = reply.slots["customer_profile"]
    orders = [o for o in shop.list_orders(customer.user_id) if o.status != "cancelled"]
    assert profile["orders"] == len(orders)
    assert profile["summary"].startswith(f"{len(orders)} order")


def test_email_not_found_asks_again(action_server: ActionServer) -> None:
    reply = action_server.call(VALIDATE, form_turn(FORM, "x", {"email": "nobody@example.com"}))
    assert reply.slots["email"] is None
    assert "customer_id" not in reply.slots
    assert reply.slots["requested_slot"] == "email"
    assert "couldn't find an account with that email" in reply.text


def test_email_with_bad_format_is_refused(action_server: ActionServer) -> None:
    reply = action_server.call(VALIDATE, form_turn(FORM, "x", {"email": "emma at example"}))
    assert reply.slots["email"] is None
    assert reply.slots["requested_slot"] == "email"
    assert "doesn't look like an email address" in reply.text


def test_name_and_zip_in_two_turns(action_server: ActionServer, shop: ShopBackend) -> None:
    customer = customer_with_orders(shop)
    first = action_server.call(
        VALIDATE,
        form_turn(FORM, "x", {"customer_name": f"my name is {customer.full_name.lower()}"}),
    )
    assert first.slots["customer_name"] == customer.full_name
    assert first.slots["requested_slot"] == "zip_code"
    assert "customer_id" not in first.slots

    second = action_server.call(
        VALIDATE,
        form_turn(
            FORM,
            customer.address.zip,
            {"zip_code": customer.address.zip},
            known={"customer_name": customer.full_name, "requested_slot": "zip_code"},
        ),
    )
    assert second.slots["customer_id"] == customer.user_id
    assert second.slots["requested_slot"] == "order_id"
    assert second.slots["customer_profile"]["summary"]


def test_a_name_no_rule_picked_out_is_found_beside_the_zip_code(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    # "hola soy sofia marquez cp 28808": lower case, no English cue, only the zip extracted.
    customer = customer_with_orders(shop)
    text = f"hola soy {customer.full_name.lower()} cp {customer.address.zip}, dónde está?"
    reply = action_server.call(VALIDATE, form_turn(FORM, text, {"zip_code": customer.address.zip}))
    assert reply.slots["customer_id"] == customer.user_id
    assert reply.slots["customer_name"] == customer.full_name
    assert reply.slots["requested_slot"] == "order_id"
    # Another account's name beside this zip code identifies no one.
    users = json.loads((SHOP_DIR / "users.json").read_text())
    other = next(c for c in map(shop.get_customer, users) if c and c.user_id != customer.user_id)
    text = f"soy {other.full_name.lower()}, {customer.address.zip}"
    reply = action_server.call(VALIDATE, form_turn(FORM, text, {"zip_code": customer.address.zip}))
    assert "customer_id" not in reply.slots
    assert reply.slots["requested_slot"] == "customer_name"


def test_name_with_the_wrong_zip_is_not_found(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop)
    wrong_zip = "00000" if customer.address.zip != "00000" else "11111"
    reply = action_server.call(
        VALIDATE,
        form_turn(
            FORM,
            wrong_zip,
            {"zip_code": wrong_zip},
            known={"customer_name": customer.full_name, "requested_slot": "zip_code"},
        ),
    )
    assert "customer_id" not in reply.slots
    assert reply.slots["customer_name"] is None
    assert reply.slots["zip_code"] is None
    assert "couldn't find an account with that name and zip code" in reply.text
    # The message offers email instead, and email is what is asked next.
    assert reply.slots["requested_slot"] == "email"


def test_bad_name_is_asked_again(action_server: ActionServer) -> None:
    known = {"requested_slot": "customer_name"}
    reply = action_server.call(VALIDATE, form_turn(FORM, "x", {"customer_name": "emma"}, known))
    assert reply.slots["customer_name"] is None
    assert reply.slots["requested_slot"] == "customer_name"
    assert "first and last name" in reply.text


def test_other_customers_order_is_refused_without_a_leak(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop)
    other = customer_with_orders(shop, 3)
    foreign = shop.list_orders(other.user_id)[0]
    known = {"customer_id": customer.user_id, "requested_slot": "order_id"}
    refused = action_server.call(
        VALIDATE, form_turn(FORM, foreign.order_id, {"order_id": foreign.order_id}, known)
    )
    missing = action_server.call(
        VALIDATE, form_turn(FORM, "#0000001", {"order_id": "#0000001"}, known)
    )
    assert refused.slots["order_id"] is None
    assert refused.slots["requested_slot"] == "order_id"
    assert not _leaks(refused.text, foreign)
    # A stranger's order and a number that does not exist read the same.
    assert refused.text.replace(foreign.order_id, "#?") == missing.text.replace("#0000001", "#?")

    # The status action refuses it too, even if the slot was set past the form.
    status = action_server.call(
        "action_order_status",
        form_turn(FORM, "x", {}, {"customer_id": customer.user_id, "order_id": foreign.order_id}),
    )
    assert "couldn't find order" in status.text
    assert not _leaks(status.text, foreign)


def test_order_given_before_identification_is_checked_then(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop)
    foreign = shop.list_orders(customer_with_orders(shop, 3).user_id)[0]
    reply = action_server.call(
        VALIDATE,
        form_turn(FORM, "x", {"order_id": foreign.order_id, "email": customer.email}),
    )
    assert reply.slots["customer_id"] == customer.user_id
    assert reply.slots["order_id"] is None
    assert not _leaks(reply.text, foreign)

    own = shop.list_orders(customer.user_id)[-1]
    accepted = action_server.call(
        VALIDATE,
        form_turn(FORM, "x", {"order_id": f"order {own.order_id[1:]}", "email": customer.email}),
    )
    assert accepted.slots["order_id"] == own.order_id
    assert accepted.slots["requested_slot"] is None


def test_single_order_is_filled_automatically(
    action_server: ActionServer, shop: ShopBackend
) -> None:
    customer = customer_with_orders(shop, 1)
    (only,) = shop.list_orders(customer.user_id)
    reply = action_server.call(VALIDATE, form_turn(FORM, "x", {"email": customer.email}))
    assert reply.slots["order_id"] == only.order_id
    assert reply.slots["requested_slot"] is None

    # Also when the shopper was identified earlier in the conversation.
    later = action_server.call(
        VALIDATE, form_turn(FORM, "where is my order", {}, {"customer_id": customer.user_id})
    )
    assert later.slots["order_id"] == only.order_id
    assert later.slots["requested_slot"] is None


def test_customer_without_orders_is_told_so(action_server: ActionServer, shop: ShopBackend) -> None:
    customer = customer_with_orders(shop, 0)
    reply = action_server.call(VALIDATE, form_turn(FORM, "x", {"email": customer.email}))
    assert reply.slots["customer_id"] == customer.user_id
    assert reply.slots["requested_slot"] is None
    status = action_server.call(
        "action_order_status", form_turn(FORM, "x", {}, {"customer_id": customer.user_id})
    )
    assert "don't see any orders" in status.text


def test_ask_order_id_offers_recent_orders(action_server: ActionServer, shop: ShopBackend) -> None:
    customer = customer_with_orders(shop)
    recent = shop.list_orders(customer.user_id)[:5]
    reply = action_server.call(
        "action_ask_order_id", form_turn(FORM, "x", {}, {"customer_id": customer.user_id})
    )
    payloads = [b["payload"] for b in reply.buttons]
    assert payloads == [f'/inform{{"order_id":"{o.order_id}"}}' for o in recent]
    assert all(o.items[0].name in b["title"] for o, b in zip(recent, reply.buttons, strict=True))
    assert json.loads(payloads[0].removeprefix("/inform")) == {"order_id": recent[0].order_id}

    unknown = action_server.call("action_ask_order_id", form_turn(FORM, "x", {}))
    assert unknown.buttons == []
    assert unknown.text == action_server.domain["responses"]["utter_ask_order_id"][0]["text"]


@pytest.mark.parametrize(
    "status",
    ["pending", "processed", "delivered", "cancelled", "return requested", "exchange requested"],
)
def test_order_status_reports_each_status(
    action_server: ActionServer, shop: ShopBackend, orders_by_status: dict[str, Order], status: str
) -> None:
    order = orders_by_status[status]
    known = {"customer_id": order.user_id, "order_id": order.order_id}
    reply = action_server.call("action_order_status", form_turn(FORM, "x", {}, known))
    text = reply.text
    assert order.order_id in text
    for shipment in order.fulfillments:
        for tracking_id in shipment.tracking_ids:
            assert tracking_id in text
        assert shipment.carrier is not None
        assert shipment.carrier in text
    expected = {
        "pending": "hasn't shipped yet",
        "processed": "has shipped",
        "delivered": "was delivered",
        "cancelled": "was cancelled",
        "return requested": "return request",
        "exchange requested": "exchange request",
    }[status]
    assert expected in text
    if status in ("pending", "processed", "delivered", "cancelled"):
        assert order.items[0].name in text
    # The order is forgotten so another can be asked about; the shopper stays identified.
    assert reply.slots == {"order_id": None}


def test_exchange_names_the_replacement(
    action_server: ActionServer, shop: ShopBackend, orders_by_status: dict[str, Order]
) -> None:
    order = orders_by_status["exchange requested"]
    old = order.items_with_ids(order.exchange_item_ids)[0]
    product = shop.get_product(old.product_id)
    assert product is not None
    new = next(v for v in product.variants if v.item_id == order.exchange_new_item_ids[0])
    known = {"customer_id": order.user_id, "order_id": order.order_id}
    text = action_server.call("action_order_status", form_turn(FORM, "x", {}, known)).text
    assert f"{old.name} ({old.options_text} → {new.options_text})" in text


def test_server_registers_exactly_the_domain_actions(action_server: ActionServer) -> None:
    assert sorted(action_server.registered_actions()) == sorted(action_server.domain["actions"])


def test_unknown_action_is_404(action_server: ActionServer) -> None:
    assert action_server.call("action_does_not_exist", form_turn(FORM, "x", {})).status == 404
