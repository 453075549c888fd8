"""Order status: the form that finds the shopper and the order, its ask action, the answer.

An order is only ever described to the customer it belongs to. A number that does not exist and
a number that belongs to someone else get the same reply, so nothing can be learnt about other
customers' orders by guessing numbers.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventDict, ShopAction
from actions.formatting import STATUS_LABELS, first_item_text, intent_payload, short_day
from actions.identity_form import CUSTOMER_ID, IdentifyingFormValidation, SlotValues
from actions.order_text import describe_order
from actions.rich_messages import order_list
from actions.shop.port import Customer, Order, normalize_order_id

ORDER_ID = "order_id"
ORDER_ID_PATTERN = re.compile(r"(?<!\w)#?\s?([A-Za-z]?\d{7})(?!\d)")
ASK_ORDER_LIMIT = 5

MSG_ORDER_FORMAT = "Order numbers look like #1234567. Could you check the number?"
MSG_NO_ORDERS = "I don't see any orders on your account yet."
MSG_NOT_IDENTIFIED = "I need to find your account first. What's the email address on it?"
MSG_ASK_ORDER = "Which order is it about? The order number looks like #1234567."

ORDER_CHOICES_BY_FORM: dict[str, tuple[str, ...]] = {
    "cancel_order_form": ("pending",),
    # Swapping items is one request to a shopper: changed while the order is pending,
    # exchanged once delivered (actions/write_plan.py picks the operation by status).
    "modify_items_form": ("pending", "delivered"),
    "change_address_form": ("pending",),
    "change_payment_form": ("pending",),
    "return_form": ("delivered",),
    "exchange_form": ("pending", "delivered"),
}
"""The order statuses an order-change form can act on: only those orders are offered."""


def parse_order_id(text: str) -> str | None:
    """The order number in ``text`` as ``"#1234567"``, or ``None``."""
    match = ORDER_ID_PATTERN.search(text)
    return normalize_order_id(match.group(1)) if match else None


def msg_order_unknown(order_id: str) -> str:
    return (
        f"I couldn't find order {order_id} on your account. Could you check the number? "
        "It's in your order confirmation email."
    )


def owned_order(customer: Customer, order: Order | None) -> Order | None:
    """``order`` if it belongs to ``customer``, else ``None``."""
    return order if order is not None and order.user_id == customer.user_id else None


class ValidateOrderStatusForm(IdentifyingFormValidation):
    """``order_status_form``: identify the shopper, then one of their orders."""

    def name(self) -> str:
        return "validate_order_status_form"

    def task_slots(self, customer: Customer | None, tracker: Tracker) -> list[str]:
        # A known customer without orders has nothing to choose; the action says so.
        if customer is not None and not self.shop.list_orders(customer.user_id):
            return []
        return [ORDER_ID]

    def _only_order(self, customer: Customer) -> SlotValues:
        orders = self.shop.list_orders(customer.user_id)
        return {ORDER_ID: orders[0].order_id} if len(orders) == 1 else {}

    def _checked(
        self, order_id: str, customer: Customer, dispatcher: CollectingDispatcher
    ) -> SlotValues:
        order = owned_order(customer, self.shop.get_order(order_id))
        if order is None:
            dispatcher.utter_message(text=msg_order_unknown(order_id))
            return {ORDER_ID: None}
        return {ORDER_ID: order.order_id}

    def on_identified(
        self, customer: Customer, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> SlotValues:
        # An order number given before we knew who was asking is checked now.
        pending = tracker.slots.get(ORDER_ID)
        if pending:
            return self._checked(str(pending), customer, dispatcher)
        return self._only_order(customer)

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        """Fills the order of a known customer who has exactly one."""
        customer = self.current_customer(tracker)
        if tracker.slots.get(ORDER_ID) is not None or customer is None:
            return {}
        return self._only_order(customer)

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        """Accepts an order number that belongs to the identified shopper."""
        order_id = parse_order_id(str(value))
        if order_id is None:
            dispatcher.utter_message(text=MSG_ORDER_FORMAT)
            return {ORDER_ID: None}
        customer = self.current_customer(tracker)
        if customer is None:
            return {ORDER_ID: order_id}  # checked in on_identified, once we know the shopper
        return self._checked(order_id, customer, dispatcher)


class ActionAskOrderId(ShopAction):
    """Asks for the order, offering the known shopper's recent orders as buttons."""

    def name(self) -> str:
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        user_id = tracker.get_slot(CUSTOMER_ID)
        orders = self.shop.list_orders(str(user_id)) if user_id else []
        statuses = ORDER_CHOICES_BY_FORM.get(str((tracker.active_loop or {}).get("name")))
        if statuses is not None:
            orders = [order for order in orders if order.status in statuses]
            if user_id and not orders:
                dispatcher.utter_message(
                    text="I don't see an order on your account that I can change that way. "
                    "Which order number is it?"
                )
                return []
        orders = orders[:ASK_ORDER_LIMIT]
        if not orders:
            dispatcher.utter_message(text=_domain_text(domain, "utter_ask_order_id", MSG_ASK_ORDER))
            return []
        buttons = [
            {
                "title": " · ".join(
                    part
                    for part in (
                        order.order_id,
                        short_day(order.placed_on),
                        STATUS_LABELS[order.status],
                        first_item_text(order.items),
                    )
                    if part
                ),
                "payload": intent_payload("inform", order_id=order.order_id),
            }
            for order in orders
        ]
        question = "Which order is it about? Here are your most recent ones:"
        dispatcher.utter_message(
            text=question,
            buttons=buttons,
            json_message=order_list(
                question,
                orders,
                lambda order: intent_payload("inform", order_id=order.order_id),
            ),
        )
        return []


class ActionOrderStatus(ShopAction):
    """Reports the chosen order's status, then forgets the order (not the shopper)."""

    def name(self) -> str:
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        user_id = tracker.get_slot(CUSTOMER_ID)
        customer = self.shop.get_customer(str(user_id)) if user_id else None
        if customer is None:
            dispatcher.utter_message(text=MSG_NOT_IDENTIFIED)
            return [SlotSet(ORDER_ID, None)]
        raw_id = tracker.get_slot(ORDER_ID)
        if not raw_id:
            has_orders = bool(self.shop.list_orders(customer.user_id))
            dispatcher.utter_message(text=MSG_ASK_ORDER if has_orders else MSG_NO_ORDERS)
            return []
        order_id = parse_order_id(str(raw_id)) or str(raw_id)
        # Checked again here: the slot may have been set without the form's validation.
        order = owned_order(customer, self.shop.get_order(order_id))
        if order is None:
            dispatcher.utter_message(text=msg_order_unknown(order_id))
        else:
            dispatcher.utter_message(text=describe_order(order, self._new_options(order)))
        return [SlotSet(ORDER_ID, None)]

    def _new_options(self, order: Order) -> dict[str, str]:
        """Option text of the replacement items of an exchange, by item id."""
        if not order.exchange_new_item_ids:
            return {}
        wanted = set(order.exchange_new_item_ids)
        found: dict[str, str] = {}
        for product_id in {item.product_id for item in order.items}:
            product = self.shop.get_product(product_id)
            for variant in product.variants if product else ():
                if variant.item_id in wanted:
                    found[variant.item_id] = variant.options_text
        return found


def _domain_text(domain: DomainDict, response: str, fallback: str) -> str:
    """The first text variant of a domain response, so a shop's own wording is used."""
    variants = domain.get("responses", {}).get(response) or []
    text = variants[0].get("text") if variants else None
    return text if isinstance(text, str) and text else fallback
