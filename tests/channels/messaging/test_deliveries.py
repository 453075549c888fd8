"""Retried deliveries across channels and workers: the REST ``message_id``, Redis-shared claims."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.domain import ConversationId
from bot.sessions import RedisSessionStore

from .conftest import MakeBot
from .payloads import telegram_text, wa_text, whatsapp_delivery, whatsapp_messages

REST = "/webhooks/rest/webhook"


async def test_a_repeated_rest_message_id_answers_an_empty_list_and_runs_nothing(
    make_bot: MakeBot,
) -> None:
    bot = await make_bot()
    body = {"sender": "web-1", "message": "hi", "message_id": "m-1"}
    first = await bot.client.post(REST, json=body)
    assert first.status == 200
    assert "assistant" in (await first.json())[0]["text"]
    again = await bot.client.post(REST, json=body)
    assert again.status == 200
    assert await again.json() == []
    assert len(bot.turns.received) == 1
    # Numbers are ids too; another id or no id at all runs.
    for extra in ({"message_id": 2}, {"message_id": "m-2"}, {}):
        response = await bot.client.post(REST, json={"sender": "web-1", "message": "hi", **extra})
        assert len(await response.json()) == 1
    assert len(bot.turns.received) == 4


@pytest.mark.parametrize("message_id", ["", "x" * 257, True, 1.5, ["m"]])
async def test_a_bad_message_id_is_400(make_bot: MakeBot, message_id: object) -> None:
    bot = await make_bot()
    response = await bot.client.post(
        REST, json={"sender": "web-1", "message": "hi", "message_id": message_id}
    )
    assert response.status == 400
    assert "message_id" in (await response.json())["error"]
    assert bot.turns.received == []


async def test_a_failed_rest_turn_releases_its_message_id(make_bot: MakeBot) -> None:
    bot = await make_bot(edit=lambda s: replace(s, sessions=replace(s.sessions, lock_wait_s=0.1)))
    body = {"sender": "web-2", "message": "hi", "message_id": "m-9"}
    # Another turn holds the conversation longer than a message waits: 409, nothing stored.
    async with bot.store.lock(ConversationId("web-2"), ttl_s=30, wait_s=0):
        busy = await bot.client.post(REST, json=body)
    assert busy.status == 409
    assert await bot.store.events(ConversationId("web-2")) == []
    # The client's retry of the same id runs.
    retried = await bot.client.post(REST, json=body)
    assert retried.status == 200
    assert len(await retried.json()) == 1


async def test_two_workers_on_one_redis_handle_a_redelivery_once(
    make_bot: MakeBot, redis_store: Callable[[], RedisSessionStore]
) -> None:
    first = await make_bot(store=redis_store())
    second = await make_bot(store=redis_store())
    update = telegram_text(4000, 777, "hi")
    statuses = await asyncio.gather(
        *(bot.telegram_update(update) for bot in (first, second, first, second))
    )
    assert statuses == [200, 200, 200, 200]
    body = whatsapp_delivery(whatsapp_messages("1555", wa_text("wamid.R1", "hi")))
    statuses = await asyncio.gather(*(bot.whatsapp_delivery(body) for bot in (first, second)))
    assert statuses == [200, 200]
    await first.settle()
    await second.settle()
    handled = [m.sender for bot in (first, second) for m in bot.turns.received]
    assert sorted(handled) == ["telegram:777", "whatsapp:1555"]
    # Both workers' replies went to the same fake platforms: one reply each.
    assert len(first.telegram.ok("sendMessage")) == 1
    assert len(first.whatsapp.ok()) == 1
