"""Order status, return and cancel conversations in each language the ``language`` slot names.

The actions run in process through rasa-sdk's own executor (the bot's in-process adapter) on a
fresh copy of the demo shop, with the domain the bot sends (translations as conditional
variations). What is checked are properties of every text and button title: no English word
left, money and dates in the language's form, button payloads unchanged; the shop's own words
(product names, option values, carriers, addresses) may stay as the catalogue writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from action_server_helpers import ROOT, SHOP_DIR

from actions.base import install_shop_backend
from actions.shop.port import Customer, Order
from actions.shop.sqlite import SQLiteShopBackend
from bot.action_inprocess import InProcessActionExecutor
from bot.domain import ConversationId, Event, TrackerView, action_event, slot_event, user_event
from bot.policy.rasa_domain import RasaDomain

LANGUAGES = ("es", "zh", "de", "fr")
ENGLISH_WORDS = re.compile(
    r"\b(order|orders|delivered|shipped|shall|your|the|and|with|refund|refunded|items?|which|"
    r"will|done|tracking|number|parcels?|placed|cancel|cancelled|return|exchange|payment|method|"
    r"card|ending|sorry|please|here|what|instead|ahead|yes|contains|mistake|needed)\b",
    re.IGNORECASE,
)
ENGLISH_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}")
ALLOWED_LATIN = {"US", "PayPal", "Visa", "Mastercard", "Amex", "Discover"}


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return RasaDomain.load(ROOT / "data" / "domain.yml").for_action_server()


@pytest.fixture(scope="module")
def executor() -> InProcessActionExecutor:
    return InProcessActionExecutor("actions")


@pytest.fixture
def shop() -> Iterator[SQLiteShopBackend]:
    """A fresh in-memory copy of the demo shop, handed to every action: the flows write."""
    backend = SQLiteShopBackend.from_directory(SHOP_DIR)
    install_shop_backend(backend)
    try:
        yield backend
    finally:
        install_shop_backend(None)
        backend.close()


class Conversation:
    """One conversation's events; runs actions on it and keeps what they said."""

    def __init__(self, executor: InProcessActionExecutor, domain: dict[str, Any], language: str):
        self.executor, self.domain = executor, domain
        self.events: list[Event] = [slot_event("language", language)]
        self.said: list[dict[str, Any]] = []

    def say(self, form: str, text: str, entities: dict[str, str] | None = None, **slots: Any):
        """A shopper message inside ``form``, with its entities and slot candidates."""
        if not any(e.get("name") == form and e["event"] == "active_loop" for e in self.events):
            self.events += [action_event(form), {"event": "active_loop", "name": form}]
        parse = {
            "intent": {"name": "inform", "confidence": 1.0},
            "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        }
        self.events += [action_event("action_listen"), user_event(text, parse, "rest")]
        self.events += [slot_event(name, value) for name, value in slots.items()]

    def press(self, form: str, button: dict[str, Any]) -> None:
        """The shopper taps ``button``: its payload, read as the bot's NLU reads it."""
        payload = str(button["payload"])
        entities = json.loads(payload[payload.index("{") :]) if "{" in payload else {}
        self.say(form, payload, entities)

    async def run(self, action: str) -> list[dict[str, Any]]:
        tracker = TrackerView.replay(
            ConversationId("shopper"), self.events, list(self.domain["slots"])
        )
        result = await self.executor.run(action, tracker, self.domain)
        self.events += [action_event(action), *result.events]
        self.said += result.responses
        return list(result.responses)

    def slot(self, name: str) -> Any:
        return TrackerView.replay(ConversationId("s"), self.events).slots.get(name)


def shop_words(shop: SQLiteShopBackend, customer: Customer) -> list[str]:
    """What the shop's catalogue and records write, which no translation changes."""
    words = {customer.full_name, customer.email}
    for product in shop.list_products():
        words |= {product.name, product.category or ""}
        words |= {v for variant in product.variants for v in variant.options.values()}
    for order in shop.list_orders(customer.user_id):
        for shipment in order.fulfillments:
            words |= {shipment.carrier or "", *shipment.tracking_ids}
        words |= {order.address.address1, order.address.address2, order.address.city}
    return sorted((w for w in words if w), key=len, reverse=True)


def assert_worded_in(language: str, said: list[dict[str, Any]], keep: list[str]) -> None:
    texts = [r.get("text") or "" for r in said] + [
        str(b["title"]) for r in said for b in r.get("buttons") or []
    ]
    assert any(texts)
    for text in texts:
        bare = text
        for word in keep:
            # Latin word bounds: a Chinese character next to a name is no part of it.
            bare = re.sub(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", " ", bare)
        assert not ENGLISH_WORDS.search(bare), (language, text)
        assert not ENGLISH_DATE.search(bare), (language, text)
        assert not re.search(r"(?<!US)\$\d", bare), (language, text)  # "$62.11" is English
        if language == "zh":
            assert set(re.findall(r"[A-Za-z]{2,}", bare)) <= ALLOWED_LATIN, text
    if language == "zh":  # every sentence is Chinese (a button may be a name and a price)
        assert all(re.search(r"[\u4e00-\u9fff]", r["text"]) for r in said if r.get("text"))


def customer_with(shop: SQLiteShopBackend, wanted: Any) -> tuple[Customer, Order]:
    """The first demo customer with an order for which ``wanted(order)`` holds."""
    users = json.loads((SHOP_DIR / "users.json").read_text())
    for user_id in users:
        customer = shop.get_customer(user_id)
        for order in shop.list_orders(user_id) if customer else ():
            if wanted(order):
                assert customer is not None
                return customer, order
    raise AssertionError("no such order in the demo shop")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_order_status_conversation(
    language: str, shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    customer, _ = customer_with(shop, lambda o: len(shop.list_orders(o.user_id)) > 1)
    talk = Conversation(executor, domain, language)
    talk.say("order_status_form", "…", email=customer.email)
    await talk.run("validate_order_status_form")
    assert talk.slot("requested_slot") == "order_id"
    asked = await talk.run("action_ask_order_id")
    orders = shop.list_orders(customer.user_id)[:5]
    assert [b["payload"] for b in asked[0]["buttons"]] == [
        f'/inform{{"order_id":"{o.order_id}"}}' for o in orders
    ]
    assert asked[0]["custom"]["orders"][0]["status"] == orders[0].status  # the code stays
    for order in orders:
        talk.say("order_status_form", order.order_id, order_id=order.order_id)
        await talk.run("validate_order_status_form")
        described = await talk.run("action_order_status")
        assert order.order_id in described[0]["text"]
    listed = await talk.run("action_list_orders")
    assert listed[0]["buttons"]
    assert_worded_in(language, talk.said, shop_words(shop, customer))


@pytest.mark.parametrize("status", ["processed", "delivered", "cancelled", "return requested"])
@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_status_is_described_in_the_language(
    language: str, status: str, shop: SQLiteShopBackend, executor: Any, domain: Any
) -> None:
    customer, order = customer_with(shop, lambda o: o.status == status)
    talk = Conversation(executor, domain, language)
    talk.events += [slot_event("customer_id", customer.user_id)]
    talk.say("order_status_form", order.order_id, order_id=order.order_id)
    await talk.run("action_order_status")
    assert_worded_in(language, talk.said, shop_words(shop, customer))


@pytest.mark.parametrize("language", LANGUAGES)
async def test_return_conversation(
    language: str, shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    customer, order = customer_with(shop, lambda o: o.status == "delivered" and len(o.items) > 1)
    talk = Conversation(executor, domain, language)
    talk.say("return_form", "…", email=customer.email, order_id=order.order_id)
    await talk.run("validate_return_form")
    assert talk.slot("requested_slot") == "item_ids"
    asked = await talk.run("action_ask_item_ids")
    every = asked[0]["buttons"][-1]
    assert every["payload"] == '/inform{"item_id":"all"}'
    talk.press("return_form", every)
    await talk.run("validate_return_form")
    assert talk.slot("item_ids") == [item.item_id for item in order.items]
    if talk.slot("requested_slot") == "payment_method_id":
        methods = await talk.run("action_ask_payment_method_id")
        talk.press("return_form", methods[0]["buttons"][0])
        await talk.run("validate_return_form")
        assert talk.slot("payment_method_id") is not None
    assert talk.slot("requested_slot") == "confirmed"
    confirm = await talk.run("action_ask_confirmed")
    assert [b["payload"] for b in confirm[0]["buttons"]] == ["/affirm", "/deny"]
    talk.say("return_form", "sí", confirmed=True)
    await talk.run("validate_return_form")
    done = await talk.run("action_return_items")
    after = shop.get_order(order.order_id)
    assert after is not None
    assert after.status == "return requested"
    assert order.order_id in done[0]["text"]
    assert_worded_in(language, talk.said, shop_words(shop, customer))


@pytest.mark.parametrize("language", LANGUAGES)
async def test_cancel_conversation_reads_the_reason_button(
    language: str, shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    customer, order = customer_with(shop, lambda o: o.status == "pending")
    talk = Conversation(executor, domain, language)
    talk.say("cancel_order_form", "…", email=customer.email, order_id=order.order_id)
    await talk.run("validate_cancel_order_form")
    assert talk.slot("requested_slot") == "cancel_reason"
    asked = await talk.run("action_ask_cancel_reason")
    payloads = [b["payload"] for b in asked[0]["buttons"]]
    assert payloads == [
        '/inform{"cancel_reason":"no longer needed"}',
        '/inform{"cancel_reason":"ordered by mistake"}',
    ]
    talk.press("cancel_order_form", asked[0]["buttons"][1])
    await talk.run("validate_cancel_order_form")
    assert talk.slot("cancel_reason") == "ordered by mistake"
    confirm = await talk.run("action_ask_confirmed")
    # The reason is named in the language, as the button said it.
    assert asked[0]["buttons"][1]["title"].lower()[:4] in confirm[0]["text"].lower()
    talk.say("cancel_order_form", "oui", confirmed=True)
    await talk.run("validate_cancel_order_form")
    await talk.run("action_cancel_order")
    after = shop.get_order(order.order_id)
    assert after is not None
    assert after.status == "cancelled"
    assert_worded_in(language, talk.said, shop_words(shop, customer))


async def test_an_unknown_language_gets_english(
    shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    customer, order = customer_with(shop, lambda o: o.status == "pending")
    talk = Conversation(executor, domain, "pt")
    talk.say("cancel_order_form", "…", email=customer.email, order_id=order.order_id)
    await talk.run("validate_cancel_order_form")
    asked = await talk.run("action_ask_cancel_reason")
    assert asked[0]["text"] == "Why would you like to cancel it?"
    talk.press("cancel_order_form", asked[0]["buttons"][0])
    await talk.run("validate_cancel_order_form")
    confirm = await talk.run("action_ask_confirmed")
    assert confirm[0]["text"].endswith("Shall I go ahead?")
    assert "(reason: no longer needed)" in confirm[0]["text"]


def form_started(
    executor: InProcessActionExecutor,
    domain: Any,
    language: str,
    *,
    form: str,
    intent: str,
    text: str,
    email: str,
    entities: list[dict[str, Any]] | None = None,
) -> Conversation:
    """A conversation whose latest message started ``form`` and named the shopper's email."""
    talk = Conversation(executor, domain, language)
    parse = {"intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    talk.events += [action_event("action_listen"), user_event(text, parse, "rest")]
    talk.events += [action_event(form), {"event": "active_loop", "name": form}]
    talk.events += [slot_event("email", email)]
    return talk


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_domains_question_is_asked_in_the_language(
    language: str, shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    # Nobody identified: the order question is the domain's response, in the language.
    talk = Conversation(executor, domain, language)
    talk.say("order_status_form", "…")
    asked = await talk.run("action_ask_order_id")
    variants = domain["responses"]["utter_ask_order_id"]
    expected = next(
        v["text"] for v in variants if v.get("condition", [{}])[0].get("value") == language
    )
    assert asked[0]["text"] == expected


async def test_an_order_named_by_its_items_in_the_first_message_stays_chosen(
    shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    # "change the address on my tent order, it's <email>": the form starts on this message,
    # the shopper is identified and the order chosen by its items; the form's clean-up at its
    # start must not clear that choice.
    def noun(name: str) -> str:
        return [w for w in re.findall(r"[a-z]+", name.lower()) if len(w) > 2][-1]

    users = json.loads((SHOP_DIR / "users.json").read_text())
    for user_id in users:
        pending = [o for o in shop.list_orders(user_id) if o.status == "pending"]
        nouns = [noun(o.items[0].name) for o in pending]
        unique = [o for o, n in zip(pending, nouns, strict=True) if nouns.count(n) == 1]
        if len(pending) > 1 and unique and len(unique[0].items) == 1:
            customer, order = shop.get_customer(user_id), unique[0]
            break
    assert customer is not None
    text = f"need to change the address on my {noun(order.items[0].name)} order, {customer.email}"
    talk = form_started(
        executor, domain, "en", form="change_address_form",
        intent="change_shipping_address", text=text, email=customer.email,
    )  # fmt: skip
    await talk.run("validate_change_address_form")
    assert talk.slot("order_id") == order.order_id
    assert talk.slot("requested_slot") == "new_address"


async def test_the_only_order_a_flow_can_change_is_chosen_without_asking(
    shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    # "can you send my current order to <address>?" from a shopper with one pending order:
    # that order is the one, and the confirmation shows it before anything changes. A shopper
    # with two is asked which.
    users = json.loads((SHOP_DIR / "users.json").read_text())

    def pending(user_id: str) -> list[Any]:
        return [o for o in shop.list_orders(user_id) if o.status == "pending"]

    def run_form(user_id: str) -> Conversation:
        customer = shop.get_customer(user_id)
        assert customer is not None
        text = f"can you send my current order to another address? {customer.email}"
        return form_started(
            executor, domain, "en", form="change_address_form",
            intent="change_shipping_address", text=text, email=customer.email,
        )  # fmt: skip

    one = next(u for u in users if len(pending(u)) == 1)
    talk = run_form(one)
    await talk.run("validate_change_address_form")
    assert talk.slot("order_id") == pending(one)[0].order_id
    assert talk.slot("requested_slot") == "new_address"

    two = next(u for u in users if len(pending(u)) == 2)
    talk = run_form(two)
    await talk.run("validate_change_address_form")
    assert talk.slot("order_id") is None
    assert talk.slot("requested_slot") == "order_id"


@pytest.mark.parametrize("extractor", ["CatalogExtractor", "context"])
async def test_items_named_in_the_shoppers_language_are_the_items_chosen(
    shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any, extractor: str
) -> None:
    # "je voudrais renvoyer le bonnet": the English item names do not match, the product the
    # NLU read through the shop's glossary does; the form asked which items. A product the bot
    # filled in from the conversation (extractor "context": the product last shown) was not
    # written by the shopper and names no item.
    users = json.loads((SHOP_DIR / "users.json").read_text())
    customer, order = next(
        (shop.get_customer(u), o)
        for u in users
        for o in shop.list_orders(u)
        if o.status == "delivered" and len({i.name for i in o.items}) > 1
    )
    assert customer is not None
    item = order.items[-1]
    text = f"je voudrais renvoyer le truc de la commande {order.order_id}, {customer.email}"
    talk = form_started(
        executor, domain, "fr", form="return_form", intent="return_item", text=text,
        email=customer.email,
        entities=[
            {"entity": "product", "value": item.name, "start": 0, "end": 0, "extractor": extractor}
        ],
    )  # fmt: skip
    talk.events += [slot_event("order_id", order.order_id)]
    await talk.run("validate_return_form")
    chosen = talk.slot("item_ids")
    if extractor == "context":
        assert chosen is None
        assert talk.slot("requested_slot") == "item_ids"
    else:
        assert chosen == [i.item_id for i in order.items if i.name == item.name], chosen


def test_the_actions_know_the_bots_mark_on_entities_it_filled_in() -> None:
    # The actions tell a product the shopper wrote from one the bot took from the conversation
    # by this name; the bot's NLU writes it (the two packages share no code).
    from actions.base import CONTEXT_EXTRACTOR as READ_BY_ACTIONS
    from bot.nlu.entities import CONTEXT_EXTRACTOR as WRITTEN_BY_BOT

    assert READ_BY_ACTIONS == WRITTEN_BY_BOT


async def test_an_order_named_by_its_items_beats_the_one_taken_from_the_conversation(
    shop: SQLiteShopBackend, executor: InProcessActionExecutor, domain: Any
) -> None:
    # After one order was shown, "and the one with the <item>?" reaches the form with the
    # shown order as a context entity; the items it names choose the other order. A number the
    # shopper wrote is kept whatever items the message names.
    users = json.loads((SHOP_DIR / "users.json").read_text())
    customer, shown, other, item = next(
        (shop.get_customer(u), a, b, b.items[0].name)
        for u in users
        for a in shop.list_orders(u)
        for b in shop.list_orders(u)
        if a.order_id != b.order_id
        and b.items[0].name not in {i.name for o in shop.list_orders(u) if o != b for i in o.items}
    )
    assert customer is not None

    def asked(extractor: str) -> Conversation:
        talk = form_started(
            executor, domain, "en", form="order_status_form", intent="track_order",
            text=f"ok and the one with the {item}?", email=customer.email,
            entities=[
                {"entity": "order_id", "value": shown.order_id, "start": 0, "end": 0,
                 "extractor": extractor},
            ],
        )  # fmt: skip
        talk.events += [slot_event("order_id", shown.order_id)]
        return talk

    talk = asked("context")
    await talk.run("validate_order_status_form")
    assert talk.slot("order_id") == other.order_id
    talk = asked("RegexEntityExtractor")
    await talk.run("validate_order_status_form")
    assert talk.slot("order_id") == shown.order_id
