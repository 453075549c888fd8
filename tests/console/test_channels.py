"""An agent's words reach a shopper on Telegram and on WhatsApp: handed off through the real
webhooks, answered from the console, sent through the app's outbound client to in-process
fake platform APIs (port 0)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.appkeys import TURNS
from bot.sessions import MemorySessionStore
from tests.channels.messaging.conftest import (  # noqa: F401
    APP_SECRET,
    SECRET_TOKEN,
    channel_settings,
    telegram_api,
    whatsapp_api,
)
from tests.channels.messaging.fake_platforms import FakeTelegram, FakeWhatsApp
from tests.channels.messaging.payloads import (
    signed,
    telegram_text,
    wa_text,
    whatsapp_delivery,
    whatsapp_messages,
)
from tests.console.helpers import AgentClient, add_agent, build, console_settings


@pytest.fixture
async def setup(
    aiohttp_server: Any,
    tmp_path: Path,
    telegram_api: FakeTelegram,  # noqa: F811
    whatsapp_api: FakeWhatsApp,  # noqa: F811
) -> AsyncIterator[tuple[Any, AgentClient]]:
    database = f"sqlite:///{tmp_path / 'console.sqlite'}"
    settings = channel_settings(console_settings(database), telegram_api.url, whatsapp_api.url)
    server = await aiohttp_server(build(settings, MemorySessionStore()), host="127.0.0.1")
    await add_agent(database, "maya@shop.example", "Maya")
    agent = AgentClient(str(server.make_url("/")))
    assert (await agent.login("maya@shop.example"))[0] == 200
    try:
        yield server, agent
    finally:
        await agent.close()


async def answer_from_console(server: Any, agent: AgentClient, text: str) -> str:
    await asyncio.wait_for(server.app[TURNS].join(), 10)
    _, queue = await agent.get("/console/api/queue")
    (row,) = queue["handoffs"]
    base = f"/console/api/handoffs/{row['id']}"
    assert (await agent.post(f"{base}/claim"))[0] == 200
    assert (await agent.post(f"{base}/reply", {"text": text}))[0] == 200
    return str(row["conversation_id"])


async def test_a_reply_reaches_telegram(
    setup: tuple[Any, AgentClient],
    telegram_api: FakeTelegram,  # noqa: F811
) -> None:
    server, agent = setup
    async with agent.session.post(
        "/webhooks/telegram/webhook",
        json=telegram_text(1, 4242, "I want to talk to a person"),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN},
    ) as answer:
        assert answer.status == 200
    cid = await answer_from_console(server, agent, "Hello from the team!")
    assert cid == "telegram:4242"
    texts = [r.body.get("text") for r in telegram_api.ok("sendMessage")]
    assert "Maya from our team has joined the chat." in texts
    assert texts[-1] == "Maya: Hello from the team!"
    assert telegram_api.ok("sendMessage")[-1].body["chat_id"] == 4242


async def test_a_reply_reaches_whatsapp(
    setup: tuple[Any, AgentClient],
    whatsapp_api: FakeWhatsApp,  # noqa: F811
) -> None:
    server, agent = setup
    message = whatsapp_messages("15550001111", wa_text("wamid.1", "I want to talk to a person"))
    raw, headers = signed(whatsapp_delivery(message), APP_SECRET)
    async with agent.session.post(
        "/webhooks/whatsapp/webhook", data=raw, headers=headers
    ) as answer:
        assert answer.status == 200
    cid = await answer_from_console(server, agent, "Hi, Maya here.")
    assert cid == "whatsapp:15550001111"
    bodies = [r.body for r in whatsapp_api.ok()]
    assert bodies[-1]["to"] == "15550001111"
    assert bodies[-1]["text"]["body"] == "Maya: Hi, Maya here."
