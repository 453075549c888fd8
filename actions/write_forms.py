"""The change forms: cancel, new address, items or payment (pending); return, exchange
(delivered); and the account's default address.

Each form says which order statuses it accepts and how to read its details from a message;
:mod:`actions.write_form` does the rest.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from actions.base import written_entity_values
from actions.identity_form import SlotValues
from actions.locale import Messages
from actions.shop.port import CANCEL_REASONS, Customer, Order, PaymentMethod
from actions.write_form import (
    ITEMS,
    NEW_ADDRESS,
    NEW_ITEMS,
    PAYMENT,
    REASON,
    OrderChangeForm,
    UserTurn,
    entity_value,
    option_values,
)
from actions.write_plan import FORM_OPERATIONS, payment_choices
from actions.write_text import (
    choose_variant,
    chosen_items,
    named_item_ids,
    original_method,
    parse_address,
    parse_cancel_reason,
    parse_items,
    parse_payment_method,
)


class ValidateCancelOrderForm(OrderChangeForm):
    """``cancel_order_form``: a pending order and the reason for cancelling it."""

    detail_slots: ClassVar[tuple[str, ...]] = (REASON,)
    action_words: ClassVar[str] = "cancelled"

    def name(self) -> str:
        return "validate_cancel_order_form"

    def read_detail(
        self, slot: str, turn: UserTurn, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        chosen = entity_value(turn, REASON)
        if chosen in CANCEL_REASONS:
            return chosen
        return parse_cancel_reason(turn.text)


class AddressForm(OrderChangeForm):
    """A form whose one detail is a new address, written on one line."""

    detail_slots: ClassVar[tuple[str, ...]] = (NEW_ADDRESS,)

    def read_detail(
        self, slot: str, turn: UserTurn, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        address = parse_address(turn.text)
        return asdict(address) if address is not None else None


class ValidateChangeAddressForm(AddressForm):
    """``change_address_form``: a pending order and the address to ship it to instead."""

    action_words: ClassVar[str] = "sent_elsewhere"

    def name(self) -> str:
        return "validate_change_address_form"


class ValidateAccountAddressForm(AddressForm):
    """``account_address_form``: the account's default address; no order is involved."""

    needs_order: ClassVar[bool] = False

    def name(self) -> str:
        return "validate_account_address_form"


class ValidateChangePaymentForm(OrderChangeForm):
    """``change_payment_form``: a pending order and another of the account's payment methods."""

    detail_slots: ClassVar[tuple[str, ...]] = (PAYMENT,)
    action_words: ClassVar[str] = "paid_another_way"

    def name(self) -> str:
        return "validate_change_payment_form"

    def order_problem(self, order: Order, lang: Messages) -> str | None:
        problem = super().order_problem(order, lang)
        if problem is None and len(order.payments) != 1:
            # The shop moves a payment only once: after that the order has several entries.
            return lang.text("not_here.payment_moved", order_id=order.order_id)
        return problem

    def read_detail(
        self, slot: str, turn: UserTurn, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        if order is None:
            return None
        choices = payment_choices("payment", customer, order)
        chosen = entity_value(turn, PAYMENT)
        if chosen is not None:
            return chosen if any(m.method_id == chosen for m in choices) else None
        return parse_payment_method(turn.text, choices)

    def default_detail(
        self, slot: str, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        choices = payment_choices("payment", customer, order) if order is not None else []
        return choices[0].method_id if len(choices) == 1 else None


class ItemsForm(OrderChangeForm):
    """A form that chooses items of the order and a payment method."""

    def payment_choices(self, order: Order, customer: Customer) -> list[PaymentMethod]:
        """The methods the shopper may choose from for this flow."""
        return payment_choices(FORM_OPERATIONS[self.form_name()], customer, order)

    def read_items(self, turn: UserTurn, order: Order) -> list[str] | None:
        chosen = entity_value(turn, "item_id")
        if chosen == "all":
            return [item.item_id for item in order.items]
        if chosen is not None:
            return [chosen] if any(i.item_id == chosen for i in order.items) else None
        named = parse_items(order, turn.text)
        if named is None:
            # Items named in the shopper's language ("le bonnet", "睡袋"): the products the
            # NLU read through the shop's glossaries, which the English names do not match.
            # Only those written in the message: "in black, please" while a new option is asked
            # carries the product last shown, which names no item to change.
            products = set(written_entity_values(turn.entities, "product"))
            named = [item.item_id for item in order.items if item.name in products] or None
        return named

    def read_detail(
        self, slot: str, turn: UserTurn, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        if order is None:
            return None
        if slot == ITEMS:
            return self.read_items(turn, order)
        if slot == PAYMENT:
            choices = self.payment_choices(order, customer)
            chosen = entity_value(turn, PAYMENT)
            if chosen is not None:
                return chosen if any(m.method_id == chosen for m in choices) else None
            return parse_payment_method(turn.text, choices, original_method(order))
        if slot == NEW_ITEMS:
            return self.read_new_items(turn, order, held)
        return None

    def default_detail(
        self, slot: str, order: Order | None, customer: Customer, held: SlotValues
    ) -> Any:
        if order is None:
            return None
        if slot == ITEMS and len(order.items) == 1:
            return [order.items[0].item_id]  # nothing to choose
        if slot == PAYMENT:
            choices = self.payment_choices(order, customer)
            if len(choices) == 1:
                return choices[0].method_id
        return None

    def detail_missing(self, slot: str, held: SlotValues) -> bool:
        value = held.get(slot)
        if slot == NEW_ITEMS:
            items = held.get(ITEMS) or []
            return not isinstance(value, list) or len(value) != len(items) or None in value
        return value is None

    def on_details_changed(self, slot: str, held: SlotValues) -> SlotValues:
        if slot == ITEMS and NEW_ITEMS in self.detail_slots:
            return {NEW_ITEMS: None}
        return {}

    def read_new_items(self, turn: UserTurn, order: Order, held: SlotValues) -> list[Any] | None:
        """New variants for the chosen items, position by position; ``None`` if none is named."""
        item_ids = held.get(ITEMS) or []
        current = held.get(NEW_ITEMS)
        new: list[Any] = (
            list(current)
            if isinstance(current, list) and len(current) == len(item_ids)
            else [None] * len(item_ids)
        )
        items = chosen_items(order, item_ids)
        button = entity_value(turn, "new_item_id")
        # Options in a message belong to the items it names; a message naming none answers
        # the question asked, about the first item still without a new option. So "blue"
        # said of the suitcase never also changes the speaker chosen a turn earlier.
        named = set(named_item_ids(order, turn.text))
        asked = next((p for p, value in enumerate(new) if value is None), None)
        changed = False
        for position, item in enumerate(items):
            product = self.shop.get_product(item.product_id)
            if product is None:
                continue
            if button is None and item.item_id not in named and (named or position != asked):
                continue
            if button is not None:
                fits = any(v.item_id == button and v.available for v in product.variants)
                if fits and new[position] is None:
                    new[position], changed = button, True
                    break
                continue
            choice = choose_variant(
                item, product, turn.text, option_values(turn), shared=len(named) > 1
            )
            if choice is not None and choice != new[position]:
                new[position], changed = choice, True
        return new if changed else None


class ValidateReturnForm(ItemsForm):
    """``return_form``: items of a delivered order and where the refund goes."""

    detail_slots: ClassVar[tuple[str, ...]] = (ITEMS, PAYMENT)
    action_words: ClassVar[str] = "returned"

    def name(self) -> str:
        return "validate_return_form"


class ValidateExchangeForm(ItemsForm):
    """``exchange_form``: delivered items, their new variants, who settles the difference."""

    detail_slots: ClassVar[tuple[str, ...]] = (ITEMS, NEW_ITEMS, PAYMENT)
    action_words: ClassVar[str] = "exchanged"

    def name(self) -> str:
        return "validate_exchange_form"


class ValidateModifyItemsForm(ItemsForm):
    """``modify_items_form``: other variants for items of a pending order."""

    detail_slots: ClassVar[tuple[str, ...]] = (ITEMS, NEW_ITEMS, PAYMENT)
    action_words: ClassVar[str] = "changed"

    def name(self) -> str:
        return "validate_modify_items_form"
