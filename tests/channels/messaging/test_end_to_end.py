"""Order status over Telegram and over WhatsApp, end to end: the real NLU (MiniLM), policy and
rasa-sdk action server process, the platforms in this process. The shopper types, receives the
bot's order buttons, presses one and reads the tracking number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot.appkeys import TURNS
from bot.composition import build_app
from bot.config import ROOT, load_settings
from bot.nlu.encoder import CachedEncoder, MiniLMEncoder
from tests.integration.conftest import start_action_server, stop_action_server

from .conftest import APP_SECRET, SECRET_TOKEN, channel_settings
from .fake_platforms import FakeTelegram, FakeWhatsApp
from .payloads import (
    signed,
    telegram_callback,
    telegram_text,
    wa_list_reply,
    wa_text,
    whatsapp_delivery,
    whatsapp_messages,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def action_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("shop") / "shop.sqlite"
    log_path = tmp_path_factory.mktemp("action-server") / "stderr.log"
    process, url = start_action_server(database, log_path)
    try:
        yield url
    finally:
        stop_action_server(process)


@pytest.fixture(scope="module")
def minilm() -> CachedEncoder:
    encoder = MiniLMEncoder()
    encoder.load()
    return CachedEncoder(encoder)


@pytest.fixture(scope="module")
def shipped() -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer with several orders and one of their shipped orders (demo shop)."""
    folder = ROOT / "data" / "shop"
    users = json.loads((folder / "users.json").read_text(encoding="utf-8"))
    orders = json.loads((folder / "orders.json").read_text(encoding="utf-8"))
    for user in users.values():
        if len(user["orders"]) < 2:
            continue
        for order_id in user["orders"]:
            order = orders[order_id]
            if order["status"] == "processed" and order["fulfillments"]:
                return user, order
    raise AssertionError("the demo shop has no such customer")


@pytest.fixture
async def bot_client(
    aiohttp_client: Any,
    action_server_url: str,
    minilm: CachedEncoder,
    telegram_api: FakeTelegram,
    whatsapp_api: FakeWhatsApp,
) -> Any:
    base = load_settings(ROOT / "config.yml", env={})
    base = replace(
        base, action_server=replace(base.action_server, url=action_server_url, embedded=False)
    )
    settings = channel_settings(base, telegram_api.url, whatsapp_api.url)
    return await aiohttp_client(build_app(settings, encoder=minilm))


def tracking(order: dict[str, Any]) -> list[str]:
    return [t for f in order["fulfillments"] for t in f["tracking_id"]]


async def test_order_status_over_telegram(
    bot_client: Any, telegram_api: FakeTelegram, shipped: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    user, order = shipped
    chat = 8_000_001
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN}
    turns = bot_client.server.app[TURNS]

    async def send(update: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(telegram_api.ok())
        response = await bot_client.post("/webhooks/telegram/webhook", json=update, headers=headers)
        assert response.status == 200
        await turns.join()
        return [r.body for r in telegram_api.ok()[before:]]

    asked = await send(telegram_text(1, chat, "where is my order?"))
    assert "email" in " ".join(m.get("text", "") for m in asked).lower()

    offered = await send(telegram_text(2, chat, user["email"]))
    keyboards = [m["reply_markup"]["inline_keyboard"] for m in offered if "reply_markup" in m]
    buttons = [row[0] for keyboard in keyboards for row in keyboard]
    chosen = next(b for b in buttons if order["order_id"] in b["text"])
    assert len(chosen["callback_data"].encode()) <= 64

    answered = await send(telegram_callback(3, chat, chosen["callback_data"]))
    assert answered[0] == {"callback_query_id": "4382bfdwdsb323b2d3"}
    text = "\n".join(m.get("text", "") for m in answered[1:])
    assert all(t in text for t in tracking(order)), text
    assert all(m["chat_id"] == chat for m in answered[1:])


async def test_order_status_over_whatsapp(
    bot_client: Any, whatsapp_api: FakeWhatsApp, shipped: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    user, order = shipped
    wa_id = "447700900777"
    turns = bot_client.server.app[TURNS]

    async def send(message: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(whatsapp_api.ok())
        raw, headers = signed(whatsapp_delivery(whatsapp_messages(wa_id, message)), APP_SECRET)
        response = await bot_client.post("/webhooks/whatsapp/webhook", data=raw, headers=headers)
        assert response.status == 200
        await turns.join()
        return [r.body for r in whatsapp_api.ok()[before:]]

    asked = await send(wa_text("wamid.E2E1", "where is my order?"))
    assert "email" in json.dumps(asked).lower()

    offered = await send(wa_text("wamid.E2E2", user["email"]))
    [choices] = [m["interactive"] for m in offered if m["type"] == "interactive"]
    # Order titles are longer than a reply button's 20 characters: a list.
    assert choices["type"] == "list"
    rows = choices["action"]["sections"][0]["rows"]
    chosen = next(r for r in rows if order["order_id"] in r["title"])

    answered = await send(wa_list_reply("wamid.E2E3", chosen["id"], chosen["title"]))
    text = "\n".join(m["text"]["body"] for m in answered if m["type"] == "text")
    assert all(t in text for t in tracking(order)), text
    assert all(m["to"] == wa_id for m in answered)


async def test_product_cards_over_telegram_and_their_button(
    bot_client: Any, telegram_api: FakeTelegram
) -> None:
    chat = 8_000_002
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN}
    turns = bot_client.server.app[TURNS]

    async def send(update: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(telegram_api.ok())
        response = await bot_client.post("/webhooks/telegram/webhook", json=update, headers=headers)
        assert response.status == 200
        await turns.join()
        return [r.body for r in telegram_api.ok()[before:]]

    shown = await send(telegram_text(1, chat, "can you recommend me something?"))
    # The text list, then one message per card with its "Tell me more" button.
    intro, *cards = shown
    assert "reply_markup" not in intro
    assert len(cards) == 3
    for card in cards:
        title = card["text"].splitlines()[0]
        assert title in intro["text"]
        assert card["text"].splitlines()[1].startswith("from $")
        [[more]] = card["reply_markup"]["inline_keyboard"]
        assert more["text"] == "Tell me more"

    title = cards[0]["text"].splitlines()[0]
    more = cards[0]["reply_markup"]["inline_keyboard"][0][0]
    answered = await send(telegram_callback(2, chat, more["callback_data"]))
    assert answered[0]["callback_query_id"]
    assert title in "\n".join(m.get("text", "") for m in answered[1:])
