"""The questions of the order-change forms and the actions that make the change.

The questions offer the shopper's own choices as buttons (the order's items, the product's
available variants, the allowed payment methods); the confirmation lists the change exactly;
the final action runs the write only on an explicit yes, with an idempotency key.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventDict, ShopAction
from actions.formatting import intent_payload, item_text, method_label, options_text
from actions.identity_form import CUSTOMER_ID
from actions.locale import Messages
from actions.order_status import owned_order, parse_order_id
from actions.shop.port import CANCEL_REASONS, Customer, Order
from actions.write_form import CONFIRMED, DETAIL_SLOTS, ITEMS, NEW_ITEMS, ORDER_ID
from actions.write_plan import (
    FORM_OPERATIONS,
    Operation,
    build_plan,
    done_sentence,
    payment_choices,
)
from actions.write_plan import refusal_sentence as refusal_text
from actions.write_text import address_text, chosen_items

VARIANT_BUTTONS = 8


class OrderChangeAction(ShopAction):
    """Reads the identified customer and chosen order from the slots."""

    def customer_and_order(self, tracker: Tracker) -> tuple[Customer | None, Order | None]:
        user_id = tracker.get_slot(CUSTOMER_ID)
        customer = self.shop.get_customer(str(user_id)) if user_id else None
        raw = tracker.get_slot(ORDER_ID)
        if customer is None or not raw:
            return customer, None
        order_id = parse_order_id(str(raw)) or str(raw)
        return customer, owned_order(customer, self.shop.get_order(order_id))


def _operation(tracker: Tracker) -> Operation | None:
    loop = (tracker.active_loop or {}).get("name")
    return FORM_OPERATIONS.get(str(loop)) if loop else None


class ActionAskCancelReason(OrderChangeAction):
    """Asks why, offering the two reasons the shop accepts as buttons.

    The payload carries the reason as the shop writes it, which the form reads whatever
    language the title (or the shopper's words, matched to a button) was in.
    """

    def name(self) -> str:
        return "action_ask_cancel_reason"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        buttons = [
            {
                "title": lang.text("cancel_reason_choice." + reason.replace(" ", "_")),
                "payload": intent_payload("inform", cancel_reason=reason),
            }
            for reason in CANCEL_REASONS
        ]
        dispatcher.utter_message(text=lang.text("ask.cancel_reason"), buttons=buttons)
        return []


class ActionAskItemIds(OrderChangeAction):
    """Asks which items, offering the order's items (and all of them) as buttons."""

    def name(self) -> str:
        return "action_ask_item_ids"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        _, order = self.customer_and_order(tracker)
        if order is None:
            dispatcher.utter_message(text=lang.text("ask.items_any"))
            return []
        buttons = [
            {
                "title": f"{item_text(item, lang)} · {lang.money(item.price)}",
                "payload": intent_payload("inform", item_id=item.item_id),
            }
            for item in order.items
        ]
        if len(order.items) > 1:
            everything = intent_payload("inform", item_id="all")
            buttons.append({"title": lang.text("ask.all_items"), "payload": everything})
        dispatcher.utter_message(
            text=lang.text("ask.items", order_id=order.order_id), buttons=buttons
        )
        return []


class ActionAskNewItemIds(OrderChangeAction):
    """Asks for the new variant of the first item still without one, offering those in stock."""

    def name(self) -> str:
        return "action_ask_new_item_ids"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        _, order = self.customer_and_order(tracker)
        items = chosen_items(order, tracker.get_slot(ITEMS) or []) if order else []
        new = tracker.get_slot(NEW_ITEMS)
        chosen = new if isinstance(new, list) and len(new) == len(items) else [None] * len(items)
        position = next((i for i, value in enumerate(chosen) if value is None), None)
        if position is None:
            dispatcher.utter_message(text=lang.text("ask.new_option_any"))
            return []
        item = items[position]
        product = self.shop.get_product(item.product_id)
        variants = [
            v for v in (product.available_variants if product else ()) if v.item_id != item.item_id
        ]
        if not variants:
            dispatcher.utter_message(text=lang.text("ask.no_other_option", name=item.name))
            return [SlotSet(ITEMS, None), SlotSet(NEW_ITEMS, None)]
        buttons = [
            {
                "title": f"{options_text(variant.options, lang)} · {lang.money(variant.price)}",
                "payload": intent_payload("inform", new_item_id=variant.item_id),
            }
            for variant in variants[:VARIANT_BUTTONS]
        ]
        if product is not None and any(
            v.item_id == item.item_id for v in product.available_variants
        ):
            same = intent_payload("inform", new_item_id=item.item_id)
            buttons.append({"title": lang.text("ask.same_again"), "payload": same})
        dispatcher.utter_message(
            text=lang.text("ask.new_option", item=item_text(item, lang)), buttons=buttons
        )
        return []


class ActionAskPaymentMethodId(OrderChangeAction):
    """Asks for the refund or payment method, offering only the methods allowed."""

    def name(self) -> str:
        return "action_ask_payment_method_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        customer, order = self.customer_and_order(tracker)
        if customer is None or order is None:
            dispatcher.utter_message(text=lang.text("ask.payment_any"))
            return []
        operation = _operation(tracker) or "exchange"
        methods = payment_choices(operation, customer, order)
        if operation == "return":
            question = lang.text("ask.refund_method")
        elif operation == "payment":
            question = lang.text("ask.payment_instead", order_id=order.order_id)
        else:
            question = lang.text("ask.payment_difference")
        if not methods:
            dispatcher.utter_message(text=lang.text("ask.no_other_method"))
            return []
        # The payload names the method; the form reads it whatever language the title is in.
        buttons = [
            {
                "title": method_label(m, lang),
                "payload": intent_payload("inform", payment_method_id=m.method_id),
            }
            for m in methods
        ]
        dispatcher.utter_message(text=question, buttons=buttons)
        return []


class ActionAskConfirmed(OrderChangeAction):
    """Lists exactly what will happen and asks yes or no."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        customer, order = self.customer_and_order(tracker)
        operation = _operation(tracker)
        plan = (
            build_plan(operation, order, customer, tracker.slots, self.shop, lang)
            if customer and operation
            else None
        )
        if plan is None:
            dispatcher.utter_message(text=lang.text("change.lost"))
            return [SlotSet(slot, None) for slot in (ORDER_ID, *DETAIL_SLOTS)]
        dispatcher.utter_message(
            text=lang.text("confirm.ask", summary=plan.summary),
            buttons=[
                {"title": lang.text("confirm.accept"), "payload": "/affirm"},
                {"title": lang.text("confirm.decline"), "payload": "/deny"},
            ],
        )
        return []


class OrderChangeRun(OrderChangeAction):
    """Runs the confirmed change, then forgets the flow's details (not the shopper)."""

    operation: Operation

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        forget: list[EventDict] = [
            SlotSet(slot, None) for slot in (ORDER_ID, *DETAIL_SLOTS, CONFIRMED)
        ]
        if tracker.get_slot(CONFIRMED) is not True:
            dispatcher.utter_message(text=lang.text("change.declined"))
            return forget
        customer, order = self.customer_and_order(tracker)
        plan = (
            build_plan(self.operation, order, customer, tracker.slots, self.shop, lang)
            if customer
            else None
        )
        if plan is None:
            dispatcher.utter_message(text=lang.text("change.lost"))
            return forget
        result = plan.run(self.shop, str(tracker.sender_id))
        if result.refusal is not None:
            dispatcher.utter_message(text=refusal_text(result.refusal, lang))
        else:
            dispatcher.utter_message(text=done_sentence(plan, lang))
        return forget


class ActionCancelOrder(OrderChangeRun):
    """Cancels the pending order (after a yes)."""

    operation: Operation = "cancel"

    def name(self) -> str:
        return "action_cancel_order"


class ActionReturnItems(OrderChangeRun):
    """Requests the return of the chosen items (after a yes)."""

    operation: Operation = "return"

    def name(self) -> str:
        return "action_return_items"


class ActionExchangeItems(OrderChangeRun):
    """Requests the exchange of the chosen items (after a yes)."""

    operation: Operation = "exchange"

    def name(self) -> str:
        return "action_exchange_items"


class ActionModifyItems(OrderChangeRun):
    """Changes items of the pending order to other variants (after a yes)."""

    operation: Operation = "modify_items"

    def name(self) -> str:
        return "action_modify_items"


class ActionChangeOrderAddress(OrderChangeRun):
    """Ships the pending order to the new address (after a yes)."""

    operation: Operation = "address"

    def name(self) -> str:
        return "action_change_order_address"


class ActionAskNewAddress(OrderChangeAction):
    """Asks for the new address on one line, saying the current one."""

    def name(self) -> str:
        return "action_ask_new_address"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        lang = Messages.for_tracker(tracker)
        customer, order = self.customer_and_order(tracker)
        if _operation(tracker) == "account_address":
            question = lang.text("ask.account_address")
            current = (
                lang.text("ask.account_address_now", address=address_text(customer.address))
                if customer
                else ""
            )
        else:
            question = lang.text("ask.shipping_address")
            current = (
                lang.text("ask.shipping_address_now", address=address_text(order.address))
                if order
                else ""
            )
        dispatcher.utter_message(
            text=lang.sentences(question, current, lang.text("ask.address_format"))
        )
        return []


class ActionChangePayment(OrderChangeRun):
    """Moves the pending order's payment to another method (after a yes)."""

    operation: Operation = "payment"

    def name(self) -> str:
        return "action_change_payment"


class ActionChangeAccountAddress(OrderChangeRun):
    """Replaces the account's default address (after a yes)."""

    operation: Operation = "account_address"

    def name(self) -> str:
        return "action_change_account_address"
