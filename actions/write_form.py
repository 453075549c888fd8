"""The form validation shared by the flows that change an order (cancel, return, exchange, modify).

Every such form asks, in order: who the shopper is, which of their orders, the flow's details
(items, new variants, refund or payment method, cancel reason), then a yes/no confirmation.
Details are read from every message the shopper wrote since the flow began, so "return the
shoe from #8118715 to my PayPal" in one message fills three questions at once, and a detail
named in the latest message replaces the one held (a correction), which asks for confirmation
again. A flow switched to midway (a return that becomes an exchange) keeps the order and items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.base import EventDict, entity_values
from actions.formatting import status_label
from actions.identity_form import SlotValues
from actions.locale import Messages
from actions.order_status import (
    ORDER_CHOICES_BY_FORM,
    OrderChoosingForm,
    latest_products,
    owned_order,
    parse_order_id,
)
from actions.shop.port import Customer, Order
from actions.write_text import order_named_by_items

ORDER_ID = "order_id"
ITEMS = "item_ids"
NEW_ITEMS = "new_item_ids"
PAYMENT = "payment_method_id"
REASON = "cancel_reason"
NEW_ADDRESS = "new_address"
CONFIRMED = "confirmed"
DETAIL_SLOTS = (ITEMS, NEW_ITEMS, PAYMENT, REASON, NEW_ADDRESS)

WRITE_FORMS = frozenset(
    {
        "cancel_order_form",
        "return_form",
        "exchange_form",
        "modify_items_form",
        "change_address_form",
        "change_payment_form",
        "account_address_form",
    }
)
"""Forms between which a shopper may switch without losing the order and items chosen."""


@dataclass(frozen=True, slots=True)
class UserTurn:
    """One shopper message and the form that was active when it arrived."""

    text: str
    entities: tuple[dict[str, Any], ...]
    loop_before: str | None
    answers_offer: bool = False
    """Whether the bot's last message before it offered to start a flow ("shall I start a
    return?"): the message it answered belongs to the flow that begins."""


def user_turns(events: Sequence[dict[str, Any]]) -> list[UserTurn]:
    """The shopper's messages in order, each with the form active before it."""
    loop: str | None = None
    offered = False
    turns: list[UserTurn] = []
    for event in events:
        kind = event.get("event")
        if kind == "active_loop":
            loop = event.get("name")
        elif kind == "session_started":
            loop, offered = None, False
        elif kind == "bot":
            offered = bool((event.get("metadata") or {}).get("action_offer"))
        elif kind == "user":
            entities = tuple((event.get("parse_data") or {}).get("entities") or ())
            turns.append(UserTurn(str(event.get("text") or ""), entities, loop, offered))
            offered = False
    return turns


def flow_turns(turns: Sequence[UserTurn]) -> list[UserTurn]:
    """The messages of the current order-change flow: the one that began it and those after."""
    start = len(turns)
    while start > 0:
        start -= 1
        if turns[start].loop_before not in WRITE_FORMS:
            break
    if start > 0 and turns[start].answers_offer:
        start -= 1  # "it's too warm, can I send it back?" named the item the offer was about
    return list(turns[start:])


def option_values(turn: UserTurn) -> frozenset[str]:
    """The product option values the NLU read in ``turn`` (in the shop's words), lower-cased."""
    return frozenset(value.lower() for value in entity_values(turn.entities, "product_option"))


def entity_value(turn: UserTurn, name: str) -> str | None:
    """The value of entity ``name`` in ``turn`` (button payloads carry ids this way)."""
    for entity in turn.entities:
        if entity.get("entity") == name and entity.get("value") is not None:
            return str(entity["value"])
    return None


class OrderChangeForm(OrderChoosingForm):
    """Identify, choose an order this flow can change, fill the details, confirm.

    Which order statuses a form accepts is :data:`ORDER_CHOICES_BY_FORM`, shared with the
    question that offers the shopper's orders.
    """

    detail_slots: ClassVar[tuple[str, ...]] = ()
    action_words: ClassVar[str] = "changed"
    """What the flow does to an order, as a ``not_here.*`` message says it cannot."""
    needs_order: ClassVar[bool] = True
    """False for a change to the account itself (its default address): no order is asked."""

    # -- the flow's own details, overridden per flow -------------------------------------

    def read_detail(
        self, slot: str, turn: UserTurn, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        """The value of detail ``slot`` that message ``turn`` gives, or ``None``.

        ``order`` is the chosen order; ``None`` only in a flow that :attr:`needs_order` not.
        """
        return None

    def default_detail(
        self, slot: str, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        """A value to use without asking (e.g. the only refund method), or ``None``."""
        return None

    def detail_missing(self, slot: str, held: SlotValues) -> bool:
        """Whether ``slot`` still needs an answer."""
        return held.get(slot) is None

    def on_details_changed(self, slot: str, held: SlotValues) -> SlotValues:
        """Values to reset when ``slot`` changed (exchange: new variants follow the items)."""
        return {}

    # -- the form machinery ------------------------------------------------------------------

    def task_slots(self, customer: Customer | None, tracker: Tracker) -> list[str]:
        order_slots = [ORDER_ID] if self.needs_order else []
        return [*order_slots, *self.detail_slots, CONFIRMED]

    def current_order(self, customer: Customer | None, tracker: Tracker) -> Order | None:
        """The chosen order, when it is the customer's."""
        raw = tracker.slots.get(ORDER_ID)
        if customer is None or not raw:
            return None
        order_id = parse_order_id(str(raw)) or str(raw)
        return owned_order(customer, self.shop.get_order(order_id))

    def order_problem(self, order: Order, lang: Messages) -> str | None:
        """Why this flow cannot change ``order`` (its status), or ``None``."""
        if order.status in ORDER_CHOICES_BY_FORM.get(self.form_name(), ()):
            return None
        return lang.text(
            f"not_here.{self.action_words}",
            order_id=order.order_id,
            status=status_label(order.status, lang),
        )

    def _checked(
        self, order_id: str, customer: Customer, dispatcher: CollectingDispatcher, lang: Messages
    ) -> SlotValues:
        order = owned_order(customer, self.shop.get_order(order_id))
        if order is None:
            dispatcher.utter_message(text=lang.text("order.unknown", order_id=order_id))
            return {ORDER_ID: None}
        problem = self.order_problem(order, lang)
        if problem:
            dispatcher.utter_message(text=problem)
            return {ORDER_ID: None}
        return {ORDER_ID: order.order_id}

    def order_without_number(self, customer: Customer, tracker: Tracker) -> SlotValues:
        """The one order this flow can change whose items the latest message names, or the
        only order it can change when the message names no items ("send my current order to
        ..."): the confirmation shows that order before anything changes."""
        if not self.needs_order:
            return {}
        statuses = ORDER_CHOICES_BY_FORM.get(self.form_name(), ())
        orders = [o for o in self.shop.list_orders(customer.user_id) if o.status in statuses]
        text, products = latest_products(tracker)
        named = order_named_by_items(orders, text, products)
        if named is None and len(orders) == 1 and not products:
            named = orders[0]
        return {ORDER_ID: named.order_id} if named is not None else {}

    def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> SlotValues:
        """Accepts an order of the identified shopper that this flow can change."""
        order_id = parse_order_id(str(value))
        if order_id is None:
            return {ORDER_ID: None}
        customer = self.current_customer(tracker)
        if customer is None:
            return {ORDER_ID: order_id}  # checked in on_identified, once we know the shopper
        return self._checked(order_id, customer, dispatcher, Messages.for_tracker(tracker))

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventDict:
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        held: SlotValues = dict(tracker.slots)
        missing = [slot for slot in required if self.detail_missing(slot, held)]
        event: EventDict = SlotSet(REQUESTED_SLOT, missing[0] if missing else None)
        return event

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventDict]:
        turns = user_turns(tracker.events)
        started: SlotValues = {}
        if turns and turns[-1].loop_before != self.form_name():
            started = self._on_start(tracker, turns[-1])
            tracker.slots.update(started)
        order_before = tracker.slots.get(ORDER_ID)
        events: list[EventDict] = await super().get_validation_events(dispatcher, tracker, domain)
        # What validation set after the start's clean-up stands: the order chosen by its items
        # when the shopper was identified in this message ("my tent order") is not cleared.
        validated = {e.get("name") for e in events if e.get("event") == "slot"}
        changes: SlotValues = {k: v for k, v in started.items() if k not in validated}
        if tracker.slots.get(ORDER_ID) != order_before:
            # Another order: details chosen for the old one no longer apply.
            reset = {slot: None for slot in (*DETAIL_SLOTS, CONFIRMED)}
            tracker.slots.update(reset)
            changes.update(reset)
        customer = self.current_customer(tracker)
        order = self.current_order(customer, tracker)
        if customer is not None and (order is not None or not self.needs_order):
            filled = self._fill_details(order, customer, tracker, flow_turns(turns))
            tracker.slots.update(filled)
            changes.update(filled)
        return events + [SlotSet(slot, value) for slot, value in changes.items()]

    def _on_start(self, tracker: Tracker, latest: UserTurn) -> SlotValues:
        """Clears what an earlier, finished or stopped flow left, when this flow begins.

        Switching from another order-change flow keeps the order, items and method; only the
        confirmation (which was for the other flow) and the flow-specific choices go.
        """
        reset: SlotValues = {CONFIRMED: None, REQUESTED_SLOT: None}
        if latest.loop_before in WRITE_FORMS:
            return {**reset, NEW_ITEMS: None, REASON: None, NEW_ADDRESS: None}
        # Kept: what this message set, and an order it names or refers back to ("yes, start
        # the return" for the order just shown), even when the slot held it already.
        set_now = set(tracker.slots_to_validate())
        if entity_value(latest, ORDER_ID) is not None:
            set_now.add(ORDER_ID)
        stale = [ORDER_ID, *DETAIL_SLOTS]
        return {**reset, **{slot: None for slot in stale if slot not in set_now}}

    def _fill_details(
        self,
        order: Order | None,
        customer: Customer,
        tracker: Tracker,
        turns: Sequence[UserTurn],
    ) -> SlotValues:
        held: SlotValues = dict(tracker.slots)
        filled: SlotValues = {}
        for slot in self.detail_slots:
            latest = self.read_detail(slot, turns[-1], order, customer, held) if turns else None
            if latest is not None and latest != held.get(slot):
                # A detail named now replaces the one held: the shopper is correcting it.
                filled[slot] = latest
            elif self.detail_missing(slot, held):
                value = self._earlier_value(slot, turns[:-1], order, customer, held)
                if value is None:
                    value = self.default_detail(slot, order, customer, held)
                if value is not None:
                    filled[slot] = value
            if slot in filled:
                held[slot] = filled[slot]
                resets = self.on_details_changed(slot, held)
                held.update(resets)
                filled.update(resets)
        if filled and held.get(CONFIRMED) is not None:
            filled[CONFIRMED] = None  # the shopper confirmed other details
        return filled

    def _earlier_value(
        self,
        slot: str,
        turns: Sequence[UserTurn],
        order: Order | None,
        customer: Customer,
        held: SlotValues,
    ) -> Any:
        for turn in reversed(turns):
            value = self.read_detail(slot, turn, order, customer, held)
            if value is not None:
                return value
        return None
