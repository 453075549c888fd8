"""Bad input, service endpoints, concurrency and failure of the action server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from bot.config import Settings
from bot.domain import ConversationId
from bot.sessions.memory import MemorySessionStore

from .conftest import AppClient, free_port, say, texts

pytestmark = pytest.mark.slow
WEBHOOK = "/webhooks/rest/webhook"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"", 400, "empty"),
        (b"   ", 400, "empty"),
        (b"\xff\xfe\x00garbage", 400, "UTF-8"),
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "object"),
        (b'{"sender": "a"}', 400, "message"),
        (b'{"sender": "a", "message": "   "}', 400, "empty"),
        (b'{"sender": "a", "message": 42}', 400, "string"),
        (b'{"sender": {"x": 1}, "message": "hi"}', 400, "sender"),
        (b'{"sender": "a", "message": "hi", "metadata": [1]}', 400, "metadata"),
        (b'{"sender": "", "message": "hi"}', 400, "sender"),
    ],
)
async def test_bad_bodies_get_a_clear_4xx(
    make_client: AppClient, body: bytes, status: int, needle: str
) -> None:
    client = await make_client()
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == status
    payload = await response.json()
    assert needle.lower() in payload["error"].lower()


async def test_huge_body_is_413(make_client: AppClient) -> None:
    client = await make_client()
    huge = b'{"sender": "a", "message": "' + b"x" * 70_000 + b'"}'
    response = await client.post(WEBHOOK, data=huge)
    assert response.status == 413
    assert "error" in await response.json()
    exactly = b'{"sender":"a","message":"' + b"y" * (65_536 - 27) + b'"}'
    assert len(exactly) == 65_536
    assert (await client.post(WEBHOOK, data=exactly)).status == 413


async def test_long_message_under_the_body_limit_is_413(make_client: AppClient) -> None:
    client = await make_client()
    response = await client.post(WEBHOOK, json={"sender": "a", "message": "z" * 5000})
    assert response.status == 413


async def test_unicode_emoji_and_numeric_senders(make_client: AppClient) -> None:
    store = MemorySessionStore()
    client = await make_client(store=store)
    replies = await say(client, "señor-🙂-{tag}", "where's my order? 📦 🙂")
    assert "email" in texts(replies).lower()
    assert await say(client, "señor-🙂-{tag}", "ça va? 你好 \u0000 👋🏽")  # any sensible reply
    events = await store.events(ConversationId("señor-🙂-{tag}"))
    assert [e["text"] for e in events if e["event"] == "user"][1] == "ça va? 你好 \u0000 👋🏽"
    response = await client.post(WEBHOOK, json={"sender": 12345, "message": "hi"})
    assert response.status == 200
    assert (await response.json())[0]["recipient_id"] == "12345"


async def test_concurrent_messages_for_one_conversation_lose_nothing(
    make_client: AppClient,
) -> None:
    store = MemorySessionStore()
    client = await make_client(store=store)
    messages = [f"hello number {i}" for i in range(12)]
    results = await asyncio.gather(*(say(client, "busy", m) for m in messages))
    assert all(results)
    events = await store.events(ConversationId("busy"))
    user_texts = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(user_texts) == sorted(messages)  # each once: none lost, none duplicated
    # Turns never interleave: every user event is followed by its own replies and a listen.
    starts = [i for i, e in enumerate(events) if e["event"] == "user"]
    for begin, end in zip(starts, [*starts[1:], len(events)], strict=True):
        assert events[end - 1]["name"] == "action_listen"
        assert all(e["event"] != "user" for e in events[begin + 1 : end])


async def test_parse_endpoint_matches_rasa_shape(make_client: AppClient) -> None:
    client = await make_client()
    response = await client.post("/model/parse", json={"text": "where is order #1234567?"})
    assert response.status == 200
    result = await response.json()
    assert set(result) >= {"text", "intent", "intent_ranking", "entities"}
    assert result["intent"]["name"] == "track_order"
    assert 0 < result["intent"]["confidence"] <= 1
    assert any(e["entity"] == "order_id" and e["value"] == "#1234567" for e in result["entities"])
    assert (await client.post("/model/parse", json={"text": ""})).status == 400


async def test_health_and_ready(make_client: AppClient) -> None:
    client = await make_client()
    assert (await client.get("/health")).status == 200
    ready = await client.get("/ready")
    assert ready.status == 200, await ready.text()
    assert (await ready.json())["checks"] == {
        "models": True,
        "sessions": True,
        "action_server": True,
    }
    await asyncio.gather(*(say(client, f"stats-{i}", "hello") for i in range(8)))
    stats = await (await client.get("/stats")).json()
    assert stats["encoder_texts"] >= 8
    assert stats["encoder_batches"] <= stats["encoder_texts"]


async def test_action_server_down_apologises_and_offers_a_person(
    make_client: AppClient, settings: Settings
) -> None:
    down = replace(
        settings,
        action_server=replace(
            settings.action_server, url=f"http://127.0.0.1:{free_port()}", attempts=2
        ),
    )
    client = await make_client(down)
    await say(client, "d1", "where is my order?")
    replies = await say(client, "d1", "someone@example.com")
    assert "can't reach" in texts(replies).lower()
    assert any(
        b["payload"] == "/contact_human_agent" for r in replies for b in r.get("buttons", [])
    )
    ready = await client.get("/ready")
    assert ready.status == 503
    assert (await ready.json())["checks"]["action_server"] is False


async def test_conversation_admin_api(make_client: AppClient, settings: Settings) -> None:
    client = await make_client()
    await say(client, "admin-1", "hi")
    auth = {"Authorization": "Bearer secret-token"}
    assert (await client.get("/conversations")).status == 401
    listed = await (await client.get("/conversations", headers=auth)).json()
    assert "admin-1" in [c["id"] for c in listed["conversations"]]
    exported: dict[str, Any] = await (
        await client.get("/conversations/admin-1", headers=auth)
    ).json()
    assert [e["text"] for e in exported["events"] if e["event"] == "user"] == ["hi"]
    # A greeting fills nothing but the bot's own bookkeeping: the language and its state.
    assert set(exported["slots"]) == {"language", "dialogue_state"}
    assert exported["slots"]["language"] == "en"
    mode = await client.put("/conversations/admin-1/mode", json={"mode": "human"}, headers=auth)
    assert mode.status == 200
    bad = await client.put("/conversations/admin-1/mode", json={"mode": "robot"}, headers=auth)
    assert bad.status == 400
    assert (await client.delete("/conversations/admin-1", headers=auth)).status == 200
    assert (await client.get("/conversations/admin-1", headers=auth)).status == 404
    closed = replace(settings, server=replace(settings.server, api_token=""))
    assert (await (await make_client(closed)).get("/conversations")).status == 403


async def test_the_export_shows_what_the_bot_knows_of_the_shopper(
    make_client: AppClient, shop: dict[str, Any]
) -> None:
    user = next(u for u in shop["users"].values() if len(u["orders"]) > 1)
    client = await make_client()
    await say(client, "known-1", "where is my order?")
    await say(client, "known-1", user["email"])
    auth = {"Authorization": "Bearer secret-token"}
    exported = await (await client.get("/conversations/known-1", headers=auth)).json()
    slots = exported["slots"]
    assert slots["email"] == user["email"].lower()
    assert slots["customer_id"]
    assert slots["customer_profile"]["orders"] >= 1
    assert slots["customer_profile"]["summary"].startswith(
        f"{slots['customer_profile']['orders']} order"
    )
