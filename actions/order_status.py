"""Order status: the form that finds the shopper and the order, its ask action, the answer.

An order is only ever described to the customer it belongs to. A number that does not exist and
a number that belongs to someone else get the same reply, so nothing can be learnt about other
customers' orders by guessing numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import (
    CONTEXT_EXTRACTOR,
    EventDict,
    ShopAction,
    entity_values,
    written_entity_values,
)
from actions.formatting import first_item_text, intent_payload, status_label
from actions.identity_form import CUSTOMER_ID, IdentifyingFormValidation, SlotValues
from actions.locale import Messages, response_text
from actions.order_text import describe_order
from actions.rich_messages import order_list
from actions.shop.port import Customer, Order, normalize_order_id
from actions.write_text import order_named_by_items

ORDER_ID = "order_id"
ORDER_ID_PATTERN = re.compile(r"(?<!\w)#?\s?([A-Za-z]?\d{7})(?!\d)")
ASK_ORDER_LIMIT = 5


def latest_products(tracker: Tracker) -> tuple[str, list[str]]:
    """The latest message's text and the product names the NLU read in it."""
    message = tracker.latest_message or {}
    return str(message.get("text") or ""), entity_values(message.get("entities") or [], "product")


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


def owned_order(customer: Customer, order: Order | None) -> Order | None:
    """``order`` if it belongs to ``customer``, else ``None``."""
    return order if order is not None and order.user_id == customer.user_id else None


class OrderChoosingForm(IdentifyingFormValidation):
    """A form that identifies the shopper, then takes one of their orders (``order_id``).

    An order number given before the shopper was known is checked once they are; without one,
    :meth:`order_without_number` may choose the order from what the shopper said, both then
    and at "which order?".
    """

    def _checked(
        self, order_id: str, customer: Customer, dispatcher: CollectingDispatcher, lang: Messages
    ) -> SlotValues:
        """``order_id`` if this form accepts it for ``customer``, saying why not otherwise."""
        raise NotImplementedError

    def order_without_number(self, customer: Customer, tracker: Tracker) -> SlotValues:
        """The order chosen without a number (none by default)."""
        return {}

    def on_identified(
        self, customer: Customer, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> SlotValues:
        pending = tracker.slots.get(ORDER_ID)
        if pending:
            return self._checked(str(pending), customer, dispatcher, Messages.for_tracker(tracker))
        return self.order_without_number(customer, tracker)

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        customer = self.current_customer(tracker)
        if tracker.slots.get(ORDER_ID) is not None or customer is None:
            return {}
        return self.order_without_number(customer, tracker)


class ValidateOrderStatusForm(OrderChoosingForm):
    """``order_status_form``: identify the shopper, then one of their orders."""

    def name(self) -> str:
        return "validate_order_status_form"

    def task_slots(self, customer: Customer | None, tracker: Tracker) -> list[str]:
        # A known customer without orders has nothing to choose; the action says so.
        if customer is not None and not self.shop.list_orders(customer.user_id):
            return []
        return [ORDER_ID]

    def order_without_number(self, customer: Customer, tracker: Tracker) -> SlotValues:
        """The customer's only order, or the one whose items the latest message names."""
        orders = self.shop.list_orders(customer.user_id)
        if len(orders) == 1:
            return {ORDER_ID: orders[0].order_id}
        text, products = latest_products(tracker)
        named = order_named_by_items(orders, text, products)
        return {ORDER_ID: named.order_id} if named is not None else {}

    def _checked(
        self, order_id: str, customer: Customer, dispatcher: CollectingDispatcher, lang: Messages
    ) -> SlotValues:
        order = owned_order(customer, self.shop.get_order(order_id))
        if order is None:
            dispatcher.utter_message(text=lang.text("order.unknown", order_id=order_id))
            return {ORDER_ID: None}
        return {ORDER_ID: order.order_id}

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        """Accepts an order number that belongs to the identified shopper."""
        lang = Messages.for_tracker(tracker)
        order_id = parse_order_id(str(value))
        if order_id is None:
            dispatcher.utter_message(text=lang.text("order.id_format"))
            return {ORDER_ID: None}
        customer = self.current_customer(tracker)
        if customer is None:
            return {ORDER_ID: order_id}  # checked in on_identified, once we know the shopper
        return self._checked(
            self.named_instead(order_id, customer, tracker), customer, dispatcher, lang
        )

    def named_instead(self, order_id: str, customer: Customer, tracker: Tracker) -> str:
        """The order the latest message names by its items, over the one the bot took from
        the conversation: after one order was shown, "and the jacket one?" asks about another.
        An order number the shopper wrote is always the one."""
        message = tracker.latest_message or {}
        entities = message.get("entities") or []
        referred = [e for e in entities if e.get("entity") == ORDER_ID]
        if not referred or any(e.get("extractor") != CONTEXT_EXTRACTOR for e in referred):
            return order_id
        products = written_entity_values(entities, "product")
        named = order_named_by_items(
            self.shop.list_orders(customer.user_id), str(message.get("text") or ""), products
        )
        return named.order_id if named is not None else order_id


class ActionAskOrderId(ShopAction):
    """Asks for the order, offering the known shopper's recent orders as buttons."""

    def name(self) -> str:
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        user_id = tracker.get_slot(CUSTOMER_ID)
        orders = self.shop.list_orders(str(user_id)) if user_id else []
        statuses = ORDER_CHOICES_BY_FORM.get(str((tracker.active_loop or {}).get("name")))
        if statuses is not None:
            orders = [order for order in orders if order.status in statuses]
            if user_id and not orders:
                dispatcher.utter_message(text=lang.text("order.none_changeable"))
                return []
        orders = orders[:ASK_ORDER_LIMIT]
        if not orders:
            # The domain's question, so a shop's own wording (and its translations) is used.
            asked = response_text(domain, "utter_ask_order_id", lang.language)
            dispatcher.utter_message(text=asked or lang.text("order.ask"))
            return []
        buttons = [
            {
                "title": " · ".join(
                    part
                    for part in (
                        order.order_id,
                        lang.short_day(order.placed_on),
                        status_label(order.status, lang),
                        first_item_text(order.items, lang),
                    )
                    if part
                ),
                "payload": intent_payload("inform", order_id=order.order_id),
            }
            for order in orders
        ]
        question = lang.text("order.ask_recent")
        dispatcher.utter_message(
            text=question,
            buttons=buttons,
            json_message=order_list(
                question,
                orders,
                lang,
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
        lang = Messages.for_tracker(tracker)
        user_id = tracker.get_slot(CUSTOMER_ID)
        customer = self.shop.get_customer(str(user_id)) if user_id else None
        if customer is None:
            dispatcher.utter_message(text=lang.text("identity.needed"))
            return [SlotSet(ORDER_ID, None)]
        raw_id = tracker.get_slot(ORDER_ID)
        if not raw_id:
            has_orders = bool(self.shop.list_orders(customer.user_id))
            dispatcher.utter_message(text=lang.text("order.ask" if has_orders else "orders.none"))
            return []
        order_id = parse_order_id(str(raw_id)) or str(raw_id)
        # Checked again here: the slot may have been set without the form's validation.
        order = owned_order(customer, self.shop.get_order(order_id))
        if order is None:
            dispatcher.utter_message(text=lang.text("order.unknown", order_id=order_id))
        else:
            described = describe_order(order, lang, self._new_options(order))
            dispatcher.utter_message(text=described)
        return [SlotSet(ORDER_ID, None)]

    def _new_options(self, order: Order) -> dict[str, Mapping[str, str]]:
        """Options of the replacement items of an exchange, by item id."""
        if not order.exchange_new_item_ids:
            return {}
        wanted = set(order.exchange_new_item_ids)
        found: dict[str, Mapping[str, str]] = {}
        for product_id in {item.product_id for item in order.items}:
            product = self.shop.get_product(product_id)
            for variant in product.variants if product else ():
                if variant.item_id in wanted:
                    found[variant.item_id] = variant.options
        return found
