"""A scripted shopper for tau-bench retail tasks: what to say, built from the task's gold actions.

The words come from a wording style: the project's own (``style=None``, below), or one of the
styles in ``benchmarks/tau_wordings.yml``, written by someone who never saw the bot's parser
(plain, terse, chatty, formal, non-native, storyteller, all-in-one, step-by-step, impatient),
so that the same tasks are asked the way different people would ask them.

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
from pathlib import Path
from typing import Any

import yaml

WORDINGS = Path(__file__).resolve().parent / "tau_wordings.yml"

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


def load_styles(path: Path = WORDINGS) -> dict[str, Style]:
    """The wording styles of ``benchmarks/tau_wordings.yml`` by name."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(s["name"]): Style(s) for s in raw["styles"]}


def build_shopper(
    task: Mapping[str, Any],
    users: Mapping[str, Any],
    orders: Mapping[str, Any],
    products: Mapping[str, Any],
    style: Style | None = None,
) -> ScriptedShopper:
    """The shopper of one tau-bench task, from its user and its gold write actions, worded in
    ``style`` (the project's own wording when None)."""
    if style is not None:
        return style.shopper(task, users, orders, products)
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


class Style:
    """One wording style of ``benchmarks/tau_wordings.yml``: templates around the task's facts."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.name = str(spec["name"])
        self.spec = spec

    def _t(self, template: str, /, **values: Any) -> str:
        return str(self.spec[template]).format(**values)

    def options(self, options: Mapping[str, Any]) -> str:
        parts = [
            self._t("size_option", value=v)
            if k.lower() == "size"
            else self._t("option", key=k, value=v)
            for k, v in options.items()
        ]
        return str(self.spec["options_join"]).join(parts)

    def _join(self, named: Sequence[str]) -> str:
        if len(named) == 1:
            return named[0]
        if len(named) == 2:
            return self._t("items_two", first=named[0], second=named[1])
        return self._t("items_many", all_but_last=", ".join(named[:-1]), last=named[-1])

    def items(self, order: Mapping[str, Any], item_ids: Sequence[str]) -> str:
        everything = sorted(i["item_id"] for i in order["items"])
        if self.spec.get("all_items") and sorted(item_ids) == everything and len(everything) > 1:
            return str(self.spec["all_items"])
        by_id = {item["item_id"]: item for item in order["items"]}
        named = [
            self._t("item", name=by_id[i]["name"], options=self.options(by_id[i]["options"]))
            for i in item_ids
            if i in by_id
        ]
        return self._join(named)

    def method(self, user: Mapping[str, Any], method_id: str) -> str:
        method = user["payment_methods"].get(method_id) or {}
        source = method.get("source", "")
        if source == "paypal":
            return self._t("method_paypal")
        if source == "gift_card":
            return self._t("method_gift_card")
        brand = str(method.get("brand", "credit")).capitalize()
        return self._t("method_card", brand=brand, last_four=method.get("last_four", ""))

    def address(self, fields: Mapping[str, Any]) -> str:
        values = {k: fields.get(k, "") for k in ("address1", "address2", "city", "state", "zip")}
        key = "address" if str(values["address2"]).strip() else "address_no_line2"
        return self._t(key, **values)

    def shopper(
        self,
        task: Mapping[str, Any],
        users: Mapping[str, Any],
        orders: Mapping[str, Any],
        products: Mapping[str, Any],
    ) -> ScriptedShopper:
        user = users[task["user_id"]]
        first, last = user["name"]["first_name"], user["name"]["last_name"]
        if "email" in str(task.get("instruction", "")).lower():
            identity = self._t("identity_email", email=user["email"])
        else:
            identity = self._t(
                "identity_name", first_name=first, last_name=last, zip=user["address"]["zip"]
            )
        requests = [
            self._request(action["name"], action["kwargs"], user, orders, products)
            for action in task["actions"]
            if action["name"] in WRITE_ACTIONS
        ]
        return ScriptedShopper(identity=identity, requests=requests)

    def _request(
        self,
        action: str,
        kwargs: Mapping[str, Any],
        user: Mapping[str, Any],
        orders: Mapping[str, Any],
        products: Mapping[str, Any],
    ) -> Request:
        openers, answers_spec = self.spec["openers"], self.spec["answers"]
        confirmed = str(answers_spec["confirmed"])
        if action == "modify_user_address":
            line = self.address(kwargs)
            answers = {"new_address": answers_spec["new_address"].format(address=line)}
            return Request(action, openers[action].format(address=line),
                           {**answers, "confirmed": confirmed})  # fmt: skip
        order_id = str(kwargs["order_id"])
        order = orders[order_id]
        answers: dict[str, str] = {
            "order_id": answers_spec["order_id"].format(order_id=order_id),
            "confirmed": confirmed,
        }
        if action == "cancel_pending_order":
            key = (
                "reason_no_longer_needed"
                if kwargs["reason"] == "no longer needed"
                else ("reason_ordered_by_mistake")
            )
            reason = self._t(key)
            answers["cancel_reason"] = answers_spec["cancel_reason"].format(reason=reason)
            return Request(
                action, openers[action].format(order_id=order_id, reason=reason), answers
            )
        if action == "modify_pending_order_address":
            line = self.address(kwargs)
            answers["new_address"] = answers_spec["new_address"].format(address=line)
            return Request(action, openers[action].format(order_id=order_id, address=line), answers)
        method = self.method(user, str(kwargs["payment_method_id"]))
        answers["payment_method_id"] = answers_spec["payment_method_id"].format(method=method)
        if action == "modify_pending_order_payment":
            return Request(
                action, openers[action].format(order_id=order_id, method=method), answers
            )
        item_ids = [str(i) for i in kwargs["item_ids"]]
        items = self.items(order, item_ids)
        answers["item_ids"] = answers_spec["item_ids"].format(items=items)
        if action == "return_delivered_order_items":
            opener = openers[action].format(order_id=order_id, items=items, method=method)
            return Request(action, opener, answers)
        by_id = {item["item_id"]: item for item in order["items"]}
        new_options: dict[str, str] = {}
        named_variants = []
        for old, new in zip(item_ids, kwargs["new_item_ids"], strict=True):
            if old not in by_id:
                continue
            product = products[by_id[old]["product_id"]]
            options = self.options(product["variants"][str(new)]["options"])
            named_variants.append(f"{product['name']} in {options}")
            new_options[old] = (
                self._t("same_variant")
                if old == str(new)
                else self._t("variant", name=product["name"], options=options)
            )
        with_variants = (
            "exchange_with_variants"
            if action == "exchange_delivered_order_items"
            else "modify_with_variants"
        )
        if with_variants in openers:
            opener = openers[with_variants].format(
                order_id=order_id, items=items, variants=self._join(named_variants)
            )
        else:
            opener = openers[action].format(order_id=order_id, items=items)
        return Request(action, opener, answers, new_options)
