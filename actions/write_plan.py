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

from actions.formatting import item_text, options_text, your_method
from actions.locale import Messages
from actions.shop.port import (
    Address,
    Customer,
    Order,
    PaymentMethod,
    Refusal,
    ShopBackend,
    WriteResult,
)
from actions.write_form import ITEMS, NEW_ADDRESS, NEW_ITEMS, PAYMENT, REASON
from actions.write_text import (
    address_text,
    chosen_items,
    customer_method,
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


def refusal_sentence(refusal: Refusal, lang: Messages) -> str:
    """The shopper-facing sentence for a refused write, ending with what they can do."""
    key = f"refusal.{refusal.code}"
    reason = lang.text(key if lang.has(key) else "refusal.default")
    return lang.text("refusal.wrapper", reason=reason)


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
    lang: Messages,
) -> ChangePlan | None:
    """The plan for ``operation`` from the form's slots; ``None`` when a detail is missing.

    ``order`` is ``None`` only for ``account_address``, which changes no order. The summary
    is worded in ``lang``; what runs does not depend on it.
    """
    operation = for_order(operation, order)
    if operation == "account_address":
        return _account_address_plan(customer, slots.get(NEW_ADDRESS), lang)
    if order is None:
        return None
    if operation == "payment":
        return _payment_plan(order, customer, slots.get(PAYMENT), lang)
    if operation == "cancel":
        return _cancel_plan(order, customer, slots.get(REASON), lang)
    if operation == "address":
        return _address_plan(order, slots.get(NEW_ADDRESS), lang)
    item_ids = [str(i) for i in slots.get(ITEMS) or []]
    method = slots.get(PAYMENT)
    items = chosen_items(order, item_ids)
    if not items or not method:
        return None
    yours = your_method(customer_method(customer, str(method)), lang)
    if operation == "return":
        total = round(sum(item.price for item in items), 2)
        summary = lang.plural(
            "plan.return",
            len(items),
            items=lang.join([item_text(i, lang) for i in items]),
            order_id=order.order_id,
            amount=lang.money(total),
            method=yours,
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
            swaps.append(lang.text("plan.swap_same", item=item_text(item, lang)))
            continue
        new_text = options_text(variant_options(product, str(new_id)), lang)
        swaps.append(
            lang.text(
                "plan.swap", item=item_text(item, lang), options=new_text, price=lang.money(price)
            )
        )
    difference = round(difference, 2)
    if difference > 0:
        settle = lang.text("plan.pay_difference", amount=lang.money(difference), method=yours)
    elif difference < 0:
        settle = lang.text("plan.refund_difference", amount=lang.money(-difference), method=yours)
    else:
        settle = lang.text("plan.same_price")
    verb = "plan.exchange" if operation == "exchange" else "plan.modify"
    summary = lang.sentences(
        lang.text(verb, order_id=order.order_id, swaps=lang.join(swaps)),
        settle,
        lang.text("plan.modify_final") if operation == "modify_items" else "",
    )
    arguments = {
        "item_ids": item_ids,
        "new_item_ids": [str(i) for i in new_ids],
        "payment_method_id": method,
    }
    return ChangePlan(operation, order.order_id, summary, arguments)


def _cancel_plan(
    order: Order, customer: Customer, reason: Any, lang: Messages
) -> ChangePlan | None:
    if not reason:
        return None
    refunds = lang.join(
        [
            lang.text(
                "plan.refund_to",
                amount=lang.money(p.amount),
                method=your_method(customer_method(customer, p.payment_method_id), lang),
            )
            for p in order.payments
            if p.transaction_type == "payment"
        ]
    )
    reason_key = "cancel_reason." + str(reason).replace(" ", "_")
    summary = lang.text(
        "plan.cancel",
        order_id=order.order_id,
        items=lang.join([item_text(item, lang) for item in order.items]),
        reason=lang.text(reason_key) if lang.has(reason_key) else str(reason),
        # No refund timing here: how fast a refund shows is the shop's policy (knowledge).
        refunds=refunds or lang.money(order.total),
    )
    return ChangePlan("cancel", order.order_id, summary, {"reason": reason})


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None
    try:
        return Address(**{key: str(raw[key]) for key in Address.__slots__})
    except KeyError:
        return None


def _address_plan(order: Order, raw: Any, lang: Messages) -> ChangePlan | None:
    address = _address(raw)
    if address is None:
        return None
    summary = lang.text(
        "plan.address",
        order_id=order.order_id,
        old=address_text(order.address),
        new=address_text(address),
    )
    return ChangePlan("address", order.order_id, summary, {"address": asdict(address)})


def _account_address_plan(customer: Customer, raw: Any, lang: Messages) -> ChangePlan | None:
    address = _address(raw)
    if address is None:
        return None
    summary = lang.text(
        "plan.account_address", old=address_text(customer.address), new=address_text(address)
    )
    arguments = {"address": asdict(address)}
    return ChangePlan("account_address", customer.user_id, summary, arguments)


def _payment_plan(
    order: Order, customer: Customer, method: Any, lang: Messages
) -> ChangePlan | None:
    paid = [p for p in order.payments if p.transaction_type == "payment"]
    if not method or not paid:
        return None
    old = paid[0]
    summary = lang.text(
        "plan.payment",
        order_id=order.order_id,
        amount=lang.money(old.amount),
        new_method=your_method(customer_method(customer, str(method)), lang),
        old_method=your_method(customer_method(customer, old.payment_method_id), lang),
    )
    return ChangePlan("payment", order.order_id, summary, {"payment_method_id": str(method)})


def done_sentence(plan: ChangePlan, lang: Messages) -> str:
    """What to tell the shopper after the write succeeded."""
    return lang.text(f"done.{plan.operation}", order_id=plan.target)
