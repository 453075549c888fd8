"""What an order change will do, worded once for the confirmation and carried out by the action.

The confirmation question and the final action both build the same :class:`ChangePlan` from
the slots, so the shopper is asked about exactly the write that runs. Refusals from the shop
become sentences here, by refusal code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from actions.formatting import item_text, join_words, money
from actions.shop.port import (
    Address,
    Customer,
    Order,
    PaymentMethod,
    Refusal,
    RefusalCode,
    ShopBackend,
    WriteResult,
    options_text,
)
from actions.write_form import ITEMS, NEW_ADDRESS, NEW_ITEMS, PAYMENT, REASON
from actions.write_text import (
    address_text,
    chosen_items,
    method_label,
    new_payment_methods,
    refund_methods,
    variant_options,
    variant_price,
)

Operation = Literal[
    "cancel", "return", "exchange", "modify_items", "address", "payment", "account_address"
]

FORM_OPERATIONS: dict[str, Operation] = {
    "cancel_order_form": "cancel",
    "return_form": "return",
    "exchange_form": "exchange",
    "modify_items_form": "modify_items",
    "change_address_form": "address",
    "change_payment_form": "payment",
    "account_address_form": "account_address",
}

REFUSAL_SENTENCES: dict[RefusalCode, str] = {
    "order_not_found": "I couldn't find that order on your account.",
    "user_not_found": "I couldn't find your account.",
    "order_not_pending": (
        "That order is no longer being prepared, so it can't be cancelled or changed anymore."
    ),
    "order_not_delivered": (
        "That order hasn't been delivered, so it can't be returned or exchanged."
    ),
    "invalid_cancel_reason": (
        "I can only cancel an order that is no longer needed or was ordered by mistake."
    ),
    "item_not_found": "Some of those items aren't in the order (or were already changed).",
    "item_count_mismatch": "Each item needs exactly one replacement.",
    "new_item_unavailable": (
        "One of the new options you chose has just sold out or isn't the same product."
    ),
    "payment_method_not_found": "That payment method isn't on your account.",
    "payment_method_not_allowed": (
        "Refunds for a return can only go to the original payment method or a gift card."
    ),
    "payment_not_single": "This order's payment can't be moved to another method.",
    "payment_method_unchanged": "The order is already paid with that method.",
    "insufficient_gift_card_balance": (
        "The gift card's balance doesn't cover the price difference. Could you choose another "
        "payment method?"
    ),
    "shop_data_error": "Something in our records for this order doesn't add up.",
    "idempotency_key_reused": "That request was already handled.",
}


def refusal_sentence(refusal: Refusal) -> str:
    """The shopper-facing sentence for a refused write, ending with what they can do."""
    reason = REFUSAL_SENTENCES.get(refusal.code, "I couldn't make that change.")
    return f"Sorry, nothing was changed. {reason} A person from our team can help if needed."


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """One confirmed change: what to tell the shopper and what to call.

    Attributes:
        operation: Which write to run.
        target: The order it changes (the customer's user id for ``account_address``).
        summary: The sentence listing exactly what will happen.
        arguments: The write's arguments besides the order id (JSON-safe).
    """

    operation: Operation
    target: str
    summary: str
    arguments: Mapping[str, Any]

    def idempotency_key(self, conversation: str) -> str:
        """A key for this conversation and these exact details, so a retried turn is a no-op."""
        body = json.dumps(
            [conversation, self.operation, self.target, dict(self.arguments)], sort_keys=True
        )
        return "concierge:" + hashlib.sha256(body.encode()).hexdigest()

    def run(
        self, shop: ShopBackend, conversation: str
    ) -> WriteResult[Order] | WriteResult[Customer]:
        """Calls the shop's write operation with this plan's idempotency key."""
        key = self.idempotency_key(conversation)
        args = self.arguments
        if self.operation == "cancel":
            return shop.cancel_pending_order(self.target, args["reason"], idempotency_key=key)
        if self.operation == "address":
            address = Address(**args["address"])
            return shop.modify_pending_order_address(self.target, address, idempotency_key=key)
        if self.operation == "account_address":
            address = Address(**args["address"])
            return shop.modify_user_address(self.target, address, idempotency_key=key)
        if self.operation == "payment":
            method = args["payment_method_id"]
            return shop.modify_pending_order_payment(self.target, method, idempotency_key=key)
        if self.operation == "return":
            return shop.return_delivered_order_items(
                self.target, args["item_ids"], args["payment_method_id"], idempotency_key=key
            )
        if self.operation == "exchange":
            return shop.exchange_delivered_order_items(
                self.target,
                args["item_ids"],
                args["new_item_ids"],
                args["payment_method_id"],
                idempotency_key=key,
            )
        return shop.modify_pending_order_items(
            self.target,
            args["item_ids"],
            args["new_item_ids"],
            args["payment_method_id"],
            idempotency_key=key,
        )


def payment_choices(operation: Operation, customer: Customer, order: Order) -> list[PaymentMethod]:
    """The methods a flow accepts, so the question offers exactly what validation takes.

    A return is refunded to the original method or a gift card; a payment move goes to any
    other method; a price difference is settled with any of the account's methods.
    """
    if operation == "return":
        return refund_methods(customer, order)
    if operation == "payment":
        return new_payment_methods(customer, order)
    return list(customer.payment_methods)


def for_order(operation: Operation, order: Order | None) -> Operation:
    """The operation that does what the shopper asked to ``order``.

    Swapping items for other options is one request to a shopper ("change", "exchange" and
    "swap" are used alike): a pending order's items are changed in place, a delivered
    order's items are exchanged.
    """
    if operation in ("exchange", "modify_items") and order is not None:
        return "modify_items" if order.status == "pending" else "exchange"
    return operation


def build_plan(
    operation: Operation,
    order: Order | None,
    customer: Customer,
    slots: Mapping[str, Any],
    shop: ShopBackend,
) -> ChangePlan | None:
    """The plan for ``operation`` from the form's slots; ``None`` when a detail is missing.

    ``order`` is ``None`` only for ``account_address``, which changes no order.
    """
    operation = for_order(operation, order)
    if operation == "account_address":
        return _account_address_plan(customer, slots.get(NEW_ADDRESS))
    if order is None:
        return None
    if operation == "payment":
        return _payment_plan(order, customer, slots.get(PAYMENT))
    if operation == "cancel":
        reason = slots.get(REASON)
        if not reason:
            return None
        refunds = join_words(
            [
                f"{money(p.amount)} to your {method_label(customer, p.payment_method_id)}"
                for p in order.payments
                if p.transaction_type == "payment"
            ]
        )
        summary = (
            f"I'll cancel order {order.order_id} with {_items(order)} (reason: {reason}). "
            # No refund timing here: how fast a refund shows is the shop's policy (knowledge).
            f"You'll be refunded {refunds or money(order.total)}."
        )
        return ChangePlan(operation, order.order_id, summary, {"reason": reason})
    if operation == "address":
        return _address_plan(order, slots.get(NEW_ADDRESS))
    item_ids = [str(i) for i in slots.get(ITEMS) or []]
    method = slots.get(PAYMENT)
    items = chosen_items(order, item_ids)
    if not items or not method:
        return None
    label = method_label(customer, str(method))
    if operation == "return":
        total = round(sum(item.price for item in items), 2)
        summary = (
            f"I'll request a return of {join_words([item_text(i) for i in items])} from order "
            f"{order.order_id}. Once we receive {'it' if len(items) == 1 else 'them'}, "
            f"{money(total)} will be refunded to your "
            f"{label}. You'll get an email with the return instructions."
        )
        arguments = {"item_ids": item_ids, "payment_method_id": method}
        return ChangePlan(operation, order.order_id, summary, arguments)
    new_ids = slots.get(NEW_ITEMS)
    if not isinstance(new_ids, list) or len(new_ids) != len(items) or None in new_ids:
        return None
    swaps, difference = [], 0.0
    for item, new_id in zip(items, new_ids, strict=True):
        product = shop.get_product(item.product_id)
        price = variant_price(product, str(new_id))
        if price is None:
            return None
        difference += price - item.price
        if str(new_id) == item.item_id:
            swaps.append(f"{item_text(item)} for a new one just like it")
            continue
        new_text = options_text(variant_options(product, str(new_id)))
        swaps.append(f"{item_text(item)} for {new_text} ({money(price)})")
    difference = round(difference, 2)
    if difference > 0:
        settle = f"You'll pay the difference of {money(difference)} with your {label}."
    elif difference < 0:
        settle = f"The difference of {money(-difference)} will be refunded to your {label}."
    else:
        settle = "The price stays the same."
    verb = "request an exchange of" if operation == "exchange" else "change"
    summary = f"In order {order.order_id}, I'll {verb} {join_words(swaps)}. {settle}"
    if operation == "modify_items":
        summary += " After this change the order's items can't be changed again."
    arguments = {
        "item_ids": item_ids,
        "new_item_ids": [str(i) for i in new_ids],
        "payment_method_id": method,
    }
    return ChangePlan(operation, order.order_id, summary, arguments)


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Address(**{key: str(raw[key]) for key in Address.__slots__})
    except KeyError:
        return None


def _address_plan(order: Order, raw: Any) -> ChangePlan | None:
    address = _address(raw)
    if address is None:
        return None
    summary = (
        f"I'll change the shipping address of order {order.order_id} from "
        f"{address_text(order.address)} to {address_text(address)}."
    )
    return ChangePlan("address", order.order_id, summary, {"address": asdict(address)})


def _account_address_plan(customer: Customer, raw: Any) -> ChangePlan | None:
    address = _address(raw)
    if address is None:
        return None
    summary = (
        f"I'll change the default address on your account from {address_text(customer.address)} "
        f"to {address_text(address)}. Orders already placed keep the address they have."
    )
    arguments = {"address": asdict(address)}
    return ChangePlan("account_address", customer.user_id, summary, arguments)


def _payment_plan(order: Order, customer: Customer, method: Any) -> ChangePlan | None:
    paid = [p for p in order.payments if p.transaction_type == "payment"]
    if not method or not paid:
        return None
    old = paid[0]
    summary = (
        f"I'll pay order {order.order_id} ({money(old.amount)}) with your "
        f"{method_label(customer, str(method))} instead of your "
        f"{method_label(customer, old.payment_method_id)}, and refund the "
        f"{money(old.amount)} charged there."
    )
    return ChangePlan("payment", order.order_id, summary, {"payment_method_id": str(method)})


def _items(order: Order) -> str:
    return join_words([item_text(item) for item in order.items])


def done_sentence(plan: ChangePlan) -> str:
    """What to tell the shopper after the write succeeded."""
    if plan.operation == "cancel":
        return f"Done — order {plan.target} is cancelled and your refund is on its way."
    if plan.operation == "return":
        return (
            f"Done — your return for order {plan.target} is requested. Watch your email for "
            "the return instructions."
        )
    if plan.operation == "address":
        return f"Done — order {plan.target} will ship to the new address."
    if plan.operation == "account_address":
        return "Done — your account's default address is updated."
    if plan.operation == "payment":
        return f"Done — order {plan.target} is now paid with the new method."
    if plan.operation == "exchange":
        return (
            f"Done — your exchange for order {plan.target} is requested. Watch your email for "
            "how to send the items back."
        )
    return f"Done — the items of order {plan.target} are updated."
