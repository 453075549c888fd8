"""Retried deliveries across channels and workers: the REST ``message_id``, Redis-shared claims."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.domain import ConversationId
from bot.sessions import RedisSessionStore

from .conftest import Bot, MakeBot
from .payloads import telegram_text, wa_text, whatsapp_delivery, whatsapp_messages

REST = "/webhooks/rest/webhook"


async def test_a_repeated_rest_message_id_gets_the_stored_replies_and_runs_nothing(
    make_bot: MakeBot,
) -> None:
    bot = await make_bot()
    body = {"sender": "web-1", "message": "hi", "message_id": "m-1"}
    first = await bot.client.post(REST, json=body)
    assert first.status == 200
    replies = await first.json()
    assert "assistant" in replies[0]["text"]
    # The client never saw that answer (a broken connection) and sends the message again.
    again = await bot.client.post(REST, json=body)
    assert again.status == 200
    assert await again.json() == replies
    assert await _user_events(bot, "web-1") == ["m-1"]
    # Numbers are ids too; another id or no id at all runs.
    for extra in ({"message_id": 2}, {"message_id": "m-2"}, {}):
        response = await bot.client.post(REST, json={"sender": "web-1", "message": "hi", **extra})
        assert len(await response.json()) == 1
    assert await _user_events(bot, "web-1") == ["m-1", "2", "m-2", None]


async def _user_events(bot: Bot, sender: str) -> list[object]:
    events = await bot.store.events(ConversationId(sender))
    return [e["metadata"].get("message_id") for e in events if e["event"] == "user"]


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


async def test_a_claim_left_behind_by_a_killed_worker_does_not_drop_the_retry(
    make_bot: MakeBot,
) -> None:
    # benchmarks/chaos.py: a worker SIGKILLed mid-turn, or a claim that Redis applied after
    # its reply had timed out, left the id claimed with nothing stored; the retry was then
    # answered [] and the message was lost. What counts is what the conversation stored.
    bot = await make_bot()
    await bot.store.claim_delivery(ConversationId("web-3"), "m-7")
    retried = await bot.client.post(
        REST, json={"sender": "web-3", "message": "hi", "message_id": "m-7"}
    )
    assert retried.status == 200
    assert len(await retried.json()) == 1
    assert await _user_events(bot, "web-3") == ["m-7"]


async def test_two_workers_on_one_redis_run_a_retried_rest_message_once(
    make_bot: MakeBot, redis_store: Callable[[], RedisSessionStore]
) -> None:
    first = await make_bot(store=redis_store())
    second = await make_bot(store=redis_store())
    body = {"sender": "web-4", "message": "hi", "message_id": "m-4"}
    answers = await asyncio.gather(
        *(bot.client.post(REST, json=body) for bot in (first, second, first, second))
    )
    assert [a.status for a in answers] == [200] * 4
    texts = [[r["text"] for r in await a.json()] for a in answers]
    assert all(t == texts[0] and len(t) == 1 for t in texts)
    assert await _user_events(first, "web-4") == ["m-4"]


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
