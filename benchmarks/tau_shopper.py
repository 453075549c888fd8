"""A scripted shopper for tau-bench retail tasks: what to say, built from the task's gold actions.

tau-bench's tasks are written for a simulated user (an LLM reading the task's instruction).
Here the shopper is scripted instead: each gold write action becomes one request, opened in
plain words ("I want to return the Gaming Mouse (black, optical, wired) from order #W7273336,
refund it to my gift card") and continued by answering whatever the bot asks next, from the
same facts. Which question the bot asks is read from its ``requested_slot``, as a person reads
the question on screen. Read-only gold actions (look-ups) need no words: the bot does those
itself. The shopper never names an internal id the bot did not show: items are named by
product and options, payment methods by kind and card ending, addresses written out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WRITE_ACTIONS = frozenset(
    {
        "cancel_pending_order",
        "modify_pending_order_address",
        "modify_pending_order_payment",
        "modify_pending_order_items",
        "modify_user_address",
        "return_delivered_order_items",
        "exchange_delivered_order_items",
    }
)
REASON_WORDS = {
    "no longer needed": "I no longer need it",
    "ordered by mistake": "I ordered it by mistake",
}
IDENTITY_SLOTS = frozenset({"email", "customer_name", "zip_code"})


def options_words(options: Mapping[str, Any]) -> str:
    """``{"color": "black", "size": "8"}`` → ``"black, size 8"``: values, sizes named."""
    words = []
    for key, value in options.items():
        text = str(value)
        words.append(f"{key} {text}" if key.lower() == "size" or text.isdigit() else text)
    return ", ".join(words)


def address_line(fields: Mapping[str, Any]) -> str:
    """One line as a shopper writes it: ``445 Maple Drive, Suite 394, Fort Worth, TX 76165``."""
    parts = [fields.get("address1", ""), fields.get("address2", ""), fields.get("city", "")]
    state_zip = f"{fields.get('state', '')} {fields.get('zip', '')}".strip()
    return ", ".join(str(p) for p in [*parts, state_zip] if str(p).strip())


@dataclass(frozen=True, slots=True)
class Request:
    """One change the shopper wants, and the words for each question the bot may ask."""

    action: str
    opener: str
    answers: Mapping[str, str]
    new_options: Mapping[str, str] = field(default_factory=dict)
    """For exchanges and item changes: old item id → the words naming its new variant."""


@dataclass
class ScriptedShopper:
    """Says the openers of its requests in turn and answers the bot's questions."""

    identity: str
    requests: list[Request]
    position: int = 0
    said: list[str] = field(default_factory=list)

    @property
    def current(self) -> Request | None:
        return self.requests[self.position] if self.position < len(self.requests) else None

    def opener(self) -> str | None:
        """The first message of the next request, or ``None`` when every request was made."""
        request = self.current
        return request.opener if request is not None else None

    def answer(self, requested: str, slots: Mapping[str, Any]) -> str | None:
        """The reply to the bot's question for slot ``requested``; ``None`` when there is none.

        ``slots`` are the conversation's slots (which items are chosen, which new variants
        are still missing), which is what the bot's question shows the shopper.
        """
        request = self.current
        if requested in IDENTITY_SLOTS:
            return self.identity
        if request is None:
            return None
        if requested == "new_item_ids":
            item_ids = list(slots.get("item_ids") or [])
            chosen = slots.get("new_item_ids")
            chosen = chosen if isinstance(chosen, list) and len(chosen) == len(item_ids) else []
            for position, item_id in enumerate(item_ids):
                if (not chosen or chosen[position] is None) and item_id in request.new_options:
                    return request.new_options[item_id]
            return None
        return request.answers.get(requested)

    def finished_request(self) -> None:
        self.position += 1


def method_words(user: Mapping[str, Any], method_id: str) -> str:
    """How a shopper names a payment method: "my PayPal", "my Visa card ending in 1234"."""
    method = user["payment_methods"].get(method_id) or {}
    source = method.get("source", "")
    if source == "paypal":
        return "my PayPal"
    if source == "gift_card":
        cards = [m for m in user["payment_methods"].values() if m.get("source") == "gift_card"]
        return "my gift card" if len(cards) == 1 else f"gift card {method_id}"
    brand = str(method.get("brand", "credit")).capitalize()
    return f"my {brand} card ending in {method.get('last_four', '')}"


def item_words(order: Mapping[str, Any], item_ids: Sequence[str]) -> str:
    """ "the Gaming Mouse (black, optical, wired) and the Bookshelf (glass, 5 ft)"."""
    by_id = {item["item_id"]: item for item in order["items"]}
    named = [
        f"the {by_id[i]['name']} ({options_words(by_id[i]['options'])})"
        for i in item_ids
        if i in by_id
    ]
    return " and ".join(named) if len(named) < 3 else ", ".join(named[:-1]) + " and " + named[-1]


def variant_words(products: Mapping[str, Any], product_id: str, item_id: str) -> str:
    variant = products[product_id]["variants"][item_id]
    return f"I'd like it in {options_words(variant['options'])}"


def build_shopper(
    task: Mapping[str, Any],
    users: Mapping[str, Any],
    orders: Mapping[str, Any],
    products: Mapping[str, Any],
) -> ScriptedShopper:
    """The shopper of one tau-bench task, from its user and its gold write actions."""
    user = users[task["user_id"]]
    name = f"{user['name']['first_name']} {user['name']['last_name']}"
    if "email" in str(task.get("instruction", "")).lower():
        identity = f"My email is {user['email']}"
    else:
        identity = f"I'm {name}, zip code {user['address']['zip']}"
    requests = [
        _request(action["name"], action["kwargs"], user, orders, products)
        for action in task["actions"]
        if action["name"] in WRITE_ACTIONS
    ]
    return ScriptedShopper(identity=identity, requests=requests)


def _request(
    action: str,
    kwargs: Mapping[str, Any],
    user: Mapping[str, Any],
    orders: Mapping[str, Any],
    products: Mapping[str, Any],
) -> Request:
    if action == "modify_user_address":
        line = address_line(kwargs)
        return Request(
            action,
            f"Please change the default address on my account to {line}.",
            {"new_address": line, "confirmed": "yes"},
        )
    order_id = str(kwargs["order_id"])
    order = orders[order_id]
    answers: dict[str, str] = {"order_id": order_id, "confirmed": "yes"}
    if action == "cancel_pending_order":
        reason = REASON_WORDS.get(str(kwargs["reason"]), str(kwargs["reason"]))
        answers["cancel_reason"] = reason
        return Request(action, f"I want to cancel order {order_id} because {reason}.", answers)
    if action == "modify_pending_order_address":
        line = address_line(kwargs)
        answers["new_address"] = line
        opener = f"Please change the shipping address of order {order_id} to {line}."
        return Request(action, opener, answers)
    method = method_words(user, str(kwargs["payment_method_id"]))
    answers["payment_method_id"] = f"Use {method}."
    if action == "modify_pending_order_payment":
        opener = f"I'd like to pay for order {order_id} with {method} instead."
        return Request(action, opener, answers)
    item_ids = [str(i) for i in kwargs["item_ids"]]
    items = item_words(order, item_ids)
    answers["item_ids"] = items[0].upper() + items[1:]
    if action == "return_delivered_order_items":
        opener = f"I want to return {items} from order {order_id}. Please refund {method}."
        return Request(action, opener, answers)
    by_id = {item["item_id"]: item for item in order["items"]}
    new_options = {
        old: "The same one again, please"
        if old == str(new)
        else variant_words(products, by_id[old]["product_id"], str(new))
        for old, new in zip(item_ids, kwargs["new_item_ids"], strict=True)
        if old in by_id
    }
    verb = "exchange" if action == "exchange_delivered_order_items" else "change"
    opener = f"I want to {verb} {items} in order {order_id}."
    return Request(action, opener, answers, new_options)
