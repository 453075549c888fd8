"""Listing the shopper's orders: a form that only identifies them, and the listing action."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventDict, ShopAction
from actions.formatting import first_item_text, intent_payload, status_label
from actions.identity_form import CUSTOMER_ID, IdentifyingFormValidation
from actions.locale import Messages
from actions.rich_messages import order_list
from actions.shop.port import Order

LIST_LIMIT = 10


class ValidateListOrdersForm(IdentifyingFormValidation):
    """``list_orders_form``: only the shopper's identity is needed."""

    def name(self) -> str:
        return "validate_list_orders_form"


def order_line(order: Order, lang: Messages) -> str:
    """``"#4821937 · Nov 18, 2026 · shipped · $161.00 · Trail Runner Shoe + 1 more"``."""
    parts = [order.order_id]
    if order.placed_on:
        parts.append(lang.day(order.placed_on))
    parts += [
        status_label(order.status, lang),
        lang.money(order.total),
        first_item_text(order.items, lang),
    ]
    return " · ".join(parts)


class ActionListOrders(ShopAction):
    """Lists the identified shopper's orders, newest first, with a button per order."""

    def name(self) -> str:
        return "action_list_orders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        user_id = tracker.get_slot(CUSTOMER_ID)
        customer = self.shop.get_customer(str(user_id)) if user_id else None
        if customer is None:
            dispatcher.utter_message(text=lang.text("identity.needed"))
            return []
        orders = self.shop.list_orders(customer.user_id)
        if not orders:
            dispatcher.utter_message(text=lang.text("orders.none"))
            return []
        shown = orders[:LIST_LIMIT]
        heading = (
            lang.text("orders.heading_one")
            if len(orders) == 1
            else lang.text("orders.heading_recent", count=len(shown))
            if len(orders) > LIST_LIMIT
            else lang.text("orders.heading_all", count=len(orders))
        )
        lines = "\n".join(f"• {order_line(order, lang)}" for order in shown)
        buttons = [
            {
                "title": f"{order.order_id} · {status_label(order.status, lang)}",
                "payload": intent_payload("track_order", order_id=order.order_id),
            }
            for order in shown
        ]
        dispatcher.utter_message(
            text=f"{heading}\n{lines}\n{lang.text('orders.tap')}",
            buttons=buttons,
            json_message=order_list(
                lang.sentences(heading, lang.text("orders.tap_one")),
                shown,
                lang,
                lambda order: intent_payload("track_order", order_id=order.order_id),
            ),
        )
        return []
