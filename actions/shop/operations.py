"""The shop's write operations on raw records, with tau-bench retail's exact semantics.

Each function checks in the order the reference tool checks (the first failing check decides
the answer and nothing is changed), then mutates the order and user records it was handed and
returns the record the reference tool would serialise. The records stay plain JSON values so that
key order and int/float kinds behave exactly as in the reference: keys a tool adds go last, and an
integer gift-card balance becomes a float only when arithmetic touched it.

Storage is the caller's business: :class:`Records` hands out mutable records, and the SQLite
adapter writes back the ones that changed inside one transaction. See ``semantics.md`` of the
tau-bench retail data set for the reference behaviour these functions reproduce.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from actions.shop.port import CANCEL_REASONS, Address, RefusalCode

JsonRecord = dict[str, Any]


class Refused(Exception):
    """A check failed; the operation changed nothing."""

    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code: RefusalCode = code
        self.message = message


class Records(Protocol):
    """Mutable records by id; ``None`` when the id is unknown (ids are compared exactly)."""

    def order(self, order_id: str) -> JsonRecord | None:
        """The order record, for changing in place."""

    def user(self, user_id: str) -> JsonRecord | None:
        """The user record, for changing in place."""

    def product(self, product_id: str) -> JsonRecord | None:
        """The product record; operations never change it."""


def _order(records: Records, order_id: str) -> JsonRecord:
    order = records.order(order_id)
    if order is None:
        raise Refused("order_not_found", "order not found")
    return order


def _owner(records: Records, order: JsonRecord) -> JsonRecord:
    # The reference indexes users by the order's user id without a check: a dangling owner is
    # a KeyError, which the callers report as a shop data error.
    user_id = order["user_id"]
    owner = records.user(user_id)
    if owner is None:
        raise KeyError(user_id)
    return owner


def _require_status(order: JsonRecord, status: str, code: RefusalCode, message: str) -> None:
    # Exact equality on purpose: "pending (item modified)" is not "pending".
    if order["status"] != status:
        raise Refused(code, message)


def _check_multiplicity(order: JsonRecord, item_ids: Sequence[str], message: str | None) -> None:
    """Each id may be named at most as often as the order holds an item with that id."""
    held = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > held.count(item_id):
            raise Refused("item_not_found", message or f"{item_id} not found")


def _price_difference(
    records: Records, order: JsonRecord, item_ids: Sequence[str], new_item_ids: Sequence[str]
) -> tuple[float, list[JsonRecord]]:
    """The unrounded price difference and the new variants, checking each pair in order.

    The old item of a pair is the first order item with that id, and the new id must be an
    available variant of the same product. The sum starts from the integer 0, as the reference
    does, so an empty exchange has the integer difference 0.
    """
    if len(item_ids) != len(new_item_ids):
        raise Refused("item_count_mismatch", "the number of items to be exchanged should match")
    diff: float = 0
    variants: list[JsonRecord] = []
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        item = next(item for item in order["items"] if item["item_id"] == item_id)
        product = records.product(item["product_id"])
        if product is None:
            raise KeyError(item["product_id"])
        variant = product["variants"].get(new_item_id)
        if variant is None or not variant["available"]:
            raise Refused("new_item_unavailable", f"new item {new_item_id} not found or available")
        diff = diff + (variant["price"] - item["price"])
        variants.append(variant)
    return diff, variants


def _method(owner: JsonRecord, payment_method_id: str) -> JsonRecord:
    method = owner["payment_methods"].get(payment_method_id)
    if method is None:
        raise Refused("payment_method_not_found", "payment method not found")
    record: JsonRecord = method  # the live record: balance changes land in the user record
    return record


def address_record(address: Address) -> JsonRecord:
    """An address as the reference writes it into a record."""
    # The reference builds the new address in this key order, unlike the files' order.
    return {
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "state": address.state,
        "country": address.country,
        "zip": address.zip,
    }


def cancel_pending_order(records: Records, order_id: str, reason: str) -> JsonRecord:
    """Cancels a pending order, refunding every payment-history entry (refunds included).

    Gift-card refunds are credited to the owner's card at once, rounded to cents.
    """
    order = _order(records, order_id)
    _require_status(order, "pending", "order_not_pending", "non-pending order cannot be cancelled")
    if reason not in CANCEL_REASONS:
        raise Refused("invalid_cancel_reason", "invalid reason")
    owner = _owner(records, order)
    refunds = []
    for entry in order["payment_history"]:
        method_id = entry["payment_method_id"]
        refunds.append(
            {
                "transaction_type": "refund",
                "amount": entry["amount"],
                "payment_method_id": method_id,
            }
        )
        if "gift_card" in method_id:
            method = owner["payment_methods"][method_id]
            method["balance"] = round(method["balance"] + entry["amount"], 2)
    order["status"] = "cancelled"
    order["cancel_reason"] = reason
    order["payment_history"].extend(refunds)
    return order


def modify_pending_order_address(records: Records, order_id: str, address: Address) -> JsonRecord:
    """Replaces a pending order's shipping address; the order stays pending."""
    order = _order(records, order_id)
    _require_status(order, "pending", "order_not_pending", "non-pending order cannot be modified")
    order["address"] = address_record(address)
    return order


def modify_pending_order_items(
    records: Records,
    order_id: str,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
) -> JsonRecord:
    """Swaps items for other variants of their products and settles the price difference.

    One payment (or refund, also for a zero difference) of the unrounded difference is
    recorded; a gift card pays or is credited at once. The order becomes
    ``pending (item modified)``.
    """
    order = _order(records, order_id)
    _require_status(order, "pending", "order_not_pending", "non-pending order cannot be modified")
    _check_multiplicity(order, item_ids, None)
    diff, variants = _price_difference(records, order, item_ids, new_item_ids)
    owner = _owner(records, order)
    method = _method(owner, payment_method_id)
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise Refused(
            "insufficient_gift_card_balance",
            "insufficient gift card balance to pay for the new item",
        )
    order["payment_history"].append(
        {
            "transaction_type": "payment" if diff > 0 else "refund",
            "amount": abs(diff),
            "payment_method_id": payment_method_id,
        }
    )
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - diff, 2)
    for item_id, new_item_id, variant in zip(item_ids, new_item_ids, variants, strict=True):
        # Earlier pairs already renamed their item, so a repeated id reaches the next one.
        item = next(item for item in order["items"] if item["item_id"] == item_id)
        item["item_id"] = new_item_id
        item["price"] = variant["price"]
        item["options"] = variant["options"]
    order["status"] = "pending (item modified)"
    return order


def modify_pending_order_payment(
    records: Records, order_id: str, payment_method_id: str
) -> JsonRecord:
    """Moves a pending order's single payment to another method, refunding the old one."""
    order = _order(records, order_id)
    _require_status(order, "pending", "order_not_pending", "non-pending order cannot be modified")
    owner = _owner(records, order)
    method = _method(owner, payment_method_id)
    history = order["payment_history"]
    if len(history) > 1 or history[0]["transaction_type"] != "payment":
        raise Refused(
            "payment_not_single", "there should be exactly one payment for a pending order"
        )
    old_method_id = history[0]["payment_method_id"]
    if old_method_id == payment_method_id:
        raise Refused(
            "payment_method_unchanged",
            "the new payment method should be different from the current one",
        )
    amount = history[0]["amount"]
    if method["source"] == "gift_card" and method["balance"] < amount:
        raise Refused(
            "insufficient_gift_card_balance", "insufficient gift card balance to pay for the order"
        )
    history.append(
        {"transaction_type": "payment", "amount": amount, "payment_method_id": payment_method_id}
    )
    history.append(
        {"transaction_type": "refund", "amount": amount, "payment_method_id": old_method_id}
    )
    if method["source"] == "gift_card":
        method["balance"] = round(method["balance"] - amount, 2)
    if "gift_card" in old_method_id:
        old_method = owner["payment_methods"][old_method_id]
        old_method["balance"] = round(old_method["balance"] + amount, 2)
    return order


def modify_user_address(records: Records, user_id: str, address: Address) -> JsonRecord:
    """Replaces a user's default address."""
    user = records.user(user_id)
    if user is None:
        raise Refused("user_not_found", "user not found")
    user["address"] = address_record(address)
    return user


def return_delivered_order_items(
    records: Records, order_id: str, item_ids: Sequence[str], payment_method_id: str
) -> JsonRecord:
    """Marks items of a delivered order for return, refunded to the original method or a gift card.

    Items, payments and balances are untouched: the refund happens when the items come back.
    """
    order = _order(records, order_id)
    _require_status(
        order, "delivered", "order_not_delivered", "non-delivered order cannot be returned"
    )
    owner = _owner(records, order)
    _method(owner, payment_method_id)
    original = order["payment_history"][0]["payment_method_id"]
    if "gift_card" not in payment_method_id and payment_method_id != original:
        raise Refused(
            "payment_method_not_allowed",
            "payment method should be either the original payment method or a gift card",
        )
    _check_multiplicity(order, item_ids, "some item not found")
    order["status"] = "return requested"
    order["return_items"] = sorted(item_ids)
    order["return_payment_method_id"] = payment_method_id
    return order


def exchange_delivered_order_items(
    records: Records,
    order_id: str,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    payment_method_id: str,
) -> JsonRecord:
    """Marks items of a delivered order for exchange; the difference is settled later."""
    order = _order(records, order_id)
    _require_status(
        order, "delivered", "order_not_delivered", "non-delivered order cannot be exchanged"
    )
    _check_multiplicity(order, item_ids, None)
    diff, _ = _price_difference(records, order, item_ids, new_item_ids)
    diff = round(diff, 2)
    owner = _owner(records, order)
    method = _method(owner, payment_method_id)
    if method["source"] == "gift_card" and method["balance"] < diff:
        raise Refused(
            "insufficient_gift_card_balance",
            "insufficient gift card balance to pay for the price difference",
        )
    order["status"] = "exchange requested"
    # Each list is sorted on its own, as the reference does: the pairing is not kept.
    order["exchange_items"] = sorted(item_ids)
    order["exchange_new_items"] = sorted(new_item_ids)
    order["exchange_payment_method_id"] = payment_method_id
    order["exchange_price_difference"] = diff
    return order
