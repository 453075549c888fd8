"""The Redis feeds of one process share one pub/sub connection (bot/sessions/redis_hub.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from bot.domain import ConversationId
from bot.errors import SessionStoreError
from bot.sessions import RedisSessionStore
from bot.sessions.base import NewEvents
from bot.sessions.redis_keys import KeyLayout

from .test_contract import ev
from .test_redis import prefix, raw  # noqa: F401 - fixtures

pytestmark = pytest.mark.redis


@pytest.fixture
async def store(redis_url: str, prefix: str) -> AsyncIterator[RedisSessionStore]:  # noqa: F811
    worker = RedisSessionStore(redis_url, key_prefix=prefix, ttl_s=60)
    try:
        yield worker
    finally:
        await worker.aclose()


async def feed_connections(raw: redis.asyncio.Redis, channels: int) -> list[str]:  # noqa: F811
    """Ids of the pub/sub clients following exactly ``channels`` channels (the Redis server
    is shared, so a test finds its own connection by an unusual count, never kills others)."""
    listed = await raw.client_list(_type="pubsub")
    return [c["id"] for c in listed if int(c.get("sub", 0)) == channels]


async def test_many_followers_share_one_connection_and_get_only_their_batches(
    store: RedisSessionStore,
    raw: redis.asyncio.Redis,  # noqa: F811
) -> None:
    cids = [ConversationId(f"shopper-{i}") for i in range(150)]  # beyond the pool's 100
    async with contextlib.AsyncExitStack() as stack:
        feeds = [await stack.enter_async_context(store.subscribe(cid)) for cid in cids]
        assert len(await feed_connections(raw, 150)) == 1  # all of them on one connection
        for i, cid in enumerate(cids):
            await store.append(cid, [ev(i)])
        batches = [await asyncio.wait_for(anext(feed), 5) for feed in feeds]
    assert batches == [NewEvents(cid, 0, (ev(i),)) for i, cid in enumerate(cids)]


async def test_followers_arriving_at_once_on_a_fresh_store_are_all_confirmed(
    store: RedisSessionStore,
    raw: redis.asyncio.Redis,  # noqa: F811
) -> None:
    # Widgets that open in the same instant: the first subscription opens the shared
    # connection while the others are already on their way (found by benchmarks/console.py,
    # where 1 of 4 sockets opened together timed out waiting for its confirmation).
    cids = [ConversationId(f"together-{i}") for i in range(40)]
    async with contextlib.AsyncExitStack() as stack:

        async def follow(cid: ConversationId) -> AsyncIterator[NewEvents]:
            return await stack.enter_async_context(store.subscribe(cid))

        feeds = await asyncio.gather(*(follow(cid) for cid in cids))
        assert len(await feed_connections(raw, 40)) == 1
        for i, cid in enumerate(cids):
            await store.append(cid, [ev(i)])
        batches = [await asyncio.wait_for(anext(feed), 5) for feed in feeds]
    assert batches == [NewEvents(cid, 0, (ev(i),)) for i, cid in enumerate(cids)]


async def test_a_channel_is_left_when_its_last_follower_goes(
    store: RedisSessionStore,
    raw: redis.asyncio.Redis,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    cid = ConversationId("two tabs")
    channel = KeyLayout(prefix).conversation(cid).feed
    async with store.subscribe(cid) as first:
        async with store.subscribe(cid) as second:
            await store.append(cid, [ev(0)])
            assert await asyncio.wait_for(anext(first), 5) == NewEvents(cid, 0, (ev(0),))
            assert await asyncio.wait_for(anext(second), 5) == NewEvents(cid, 0, (ev(0),))
        await store.append(cid, [ev(1)])
        assert await asyncio.wait_for(anext(first), 5) == NewEvents(cid, 1, (ev(1),))
        assert dict(await raw.pubsub_numsub(channel)) == {channel: 1}
    for _ in range(50):  # the UNSUBSCRIBE is sent as the follower leaves
        if dict(await raw.pubsub_numsub(channel)) == {channel: 0}:
            break
        await asyncio.sleep(0.02)
    assert dict(await raw.pubsub_numsub(channel)) == {channel: 0}


async def test_a_broken_connection_breaks_every_feed_and_the_next_follower_reconnects(
    store: RedisSessionStore,
    raw: redis.asyncio.Redis,  # noqa: F811
) -> None:
    cid = ConversationId("dropped")
    others = [ConversationId(f"also followed {i}") for i in range(6)]
    async with contextlib.AsyncExitStack() as stack:
        feed = await stack.enter_async_context(store.subscribe(cid))
        for other in others:
            await stack.enter_async_context(store.subscribe(other))
        (ours,) = await feed_connections(raw, 7)
        await raw.client_kill_filter(_id=ours)
        with pytest.raises(SessionStoreError, match="broke"):
            await asyncio.wait_for(anext(feed), 5)
    async with store.subscribe(cid) as again:
        await store.append(cid, [ev(0)])
        assert await asyncio.wait_for(anext(again), 5) == NewEvents(cid, 0, (ev(0),))
