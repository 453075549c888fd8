"""Listing the shopper's orders: a form that only identifies them, and the listing action."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventDict, ShopAction
from actions.formatting import STATUS_LABELS, day, first_item_text, intent_payload, money
from actions.identity_form import CUSTOMER_ID, IdentifyingFormValidation
from actions.order_status import MSG_NO_ORDERS, MSG_NOT_IDENTIFIED
from actions.rich_messages import order_list
from actions.shop.port import Order

LIST_LIMIT = 10


class ValidateListOrdersForm(IdentifyingFormValidation):
    """``list_orders_form``: only the shopper's identity is needed."""

    def name(self) -> str:
        return "validate_list_orders_form"


def order_line(order: Order) -> str:
    """``"#4821937 · Nov 18, 2026 · shipped · $161.00 · Trail Runner Shoe + 1 more"``."""
    parts = [order.order_id]
    if order.placed_on:
        parts.append(day(order.placed_on))
    parts += [STATUS_LABELS[order.status], money(order.total), first_item_text(order.items)]
    return " · ".join(parts)


class ActionListOrders(ShopAction):
    """Lists the identified shopper's orders, newest first, with a button per order."""

    def name(self) -> str:
        return "action_list_orders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        user_id = tracker.get_slot(CUSTOMER_ID)
        customer = self.shop.get_customer(str(user_id)) if user_id else None
        if customer is None:
            dispatcher.utter_message(text=MSG_NOT_IDENTIFIED)
            return []
        orders = self.shop.list_orders(customer.user_id)
        if not orders:
            dispatcher.utter_message(text=MSG_NO_ORDERS)
            return []
        shown = orders[:LIST_LIMIT]
        heading = (
            "Here is your order:"
            if len(orders) == 1
            else f"Here are your {len(shown)} most recent orders, newest first:"
            if len(orders) > LIST_LIMIT
            else f"Here are your {len(orders)} orders, newest first:"
        )
        lines = "\n".join(f"• {order_line(order)}" for order in shown)
        buttons = [
            {
                "title": f"{order.order_id} · {STATUS_LABELS[order.status]}",
                "payload": intent_payload("track_order", order_id=order.order_id),
            }
            for order in shown
        ]
        dispatcher.utter_message(
            text=f"{heading}\n{lines}\nTap an order to see its details.",
            buttons=buttons,
            json_message=order_list(
                f"{heading} Tap one to see its details.",
                shown,
                lambda order: intent_payload("track_order", order_id=order.order_id),
            ),
        )
        return []
