"""What only the Redis adapter promises: sharing between workers, key layout, real expiry."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from redis.crc import key_slot

from bot.domain import ConversationId
from bot.errors import ConfigError, ConversationBusy, SessionStoreError
from bot.retry import Backoff
from bot.sessions import RedisSessionStore
from bot.sessions.base import NewEvents
from bot.sessions.redis_keys import KeyLayout, encode_id

from .conftest import delete_prefix
from .test_contract import ODD_IDS, ev


@pytest.fixture
def prefix() -> str:
    return f"concierge-test-{uuid.uuid4().hex}"


@pytest.fixture
async def raw(redis_url: str, prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A plain client on the test db, to look at what the store wrote; cleans the prefix."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()
        await delete_prefix(redis_url, prefix)


@pytest.fixture
async def workers(redis_url: str, prefix: str) -> AsyncIterator[list[RedisSessionStore]]:
    """Two stores on the same Redis and prefix: two bot workers."""
    stores = [RedisSessionStore(redis_url, key_prefix=prefix, ttl_s=60) for _ in range(2)]
    try:
        yield stores
    finally:
        for store in stores:
            await store.aclose()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_two_workers_share_history_mode_and_listing(
    workers: list[RedisSessionStore], raw: redis.asyncio.Redis
) -> None:
    a, b = workers
    cid = ConversationId("shared")
    await a.append(cid, [ev(0)])
    await b.append(cid, [ev(1)])
    await a.set_mode(cid, "human")
    assert await b.events(cid) == [ev(0), ev(1)]
    assert await b.get_mode(cid) == "human"
    listed, _ = await b.list_conversations()
    assert [(s.id, s.event_count) for s in listed] == [(cid, 2)]


async def test_two_workers_append_concurrently_without_loss(
    workers: list[RedisSessionStore], raw: redis.asyncio.Redis
) -> None:
    cid = ConversationId("busy")
    await asyncio.gather(
        *(workers[n % 2].append(cid, [ev(n, part=p) for p in range(2)]) for n in range(200))
    )
    stored = await workers[0].events(cid)
    assert len(stored) == 400
    assert sorted((e["name"], e["part"]) for e in stored) == sorted(
        (f"step_{n}", p) for n in range(200) for p in range(2)
    )


async def test_lock_excludes_across_workers(
    workers: list[RedisSessionStore], raw: redis.asyncio.Redis
) -> None:
    a, b = workers
    cid = ConversationId("locked")
    async with a.lock(cid, ttl_s=10, wait_s=0):
        with pytest.raises(ConversationBusy):
            async with b.lock(cid, ttl_s=10, wait_s=0.1):
                pass
    async with b.lock(cid, ttl_s=10, wait_s=0):
        pass


async def test_subscriber_on_one_worker_sees_appends_of_another(
    workers: list[RedisSessionStore], raw: redis.asyncio.Redis
) -> None:
    a, b = workers
    cid = ConversationId("watched {by} an agent")
    async with b.subscribe(cid) as feed:
        await a.append(cid, [ev(0), ev(1)])
        batch = await asyncio.wait_for(anext(feed), 5)
    assert batch == NewEvents(cid, 0, (ev(0), ev(1)))


async def test_every_key_has_a_ttl_and_the_lock_keeps_its_own(
    redis_url: str, prefix: str, raw: redis.asyncio.Redis
) -> None:
    store = RedisSessionStore(redis_url, key_prefix=prefix, ttl_s=100)
    cid = ConversationId("ttl")
    keys = KeyLayout(prefix).conversation(cid)
    try:
        await store.append(cid, [ev(0)])
        await store.set_mode(cid, "human")
        for key in (keys.events, keys.meta):
            assert 99_000 < await raw.pttl(key) <= 100_000
        await raw.pexpire(keys.events, 5_000)
        await raw.pexpire(keys.meta, 5_000)
        async with store.lock(cid, ttl_s=3, wait_s=0):
            await store.append(cid, [ev(1)])
            for key in (keys.events, keys.meta):
                assert await raw.pttl(key) > 99_000  # refreshed by the append
            assert 2_000 < await raw.pttl(keys.lock) <= 3_000  # not stretched to the data's ttl
        assert await raw.exists(keys.lock) == 0
    finally:
        await store.aclose()


@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda s: repr(s)[:20])
def test_all_keys_of_a_conversation_share_one_cluster_slot(odd: str) -> None:
    keys = KeyLayout("concierge").conversation(odd)
    slots = {key_slot(k) for k in (keys.events, keys.meta, keys.lock)}
    assert len(slots) == 1
    # The hash tag is the whole encoded id: a brace inside the id did not cut it short.
    assert slots == {key_slot(encode_id(odd))}


def test_prefix_with_a_brace_is_refused() -> None:
    with pytest.raises(ConfigError, match="key_prefix"):
        RedisSessionStore("redis://127.0.0.1:6379/15", key_prefix="a{b}")
    with pytest.raises(ConfigError, match=r"sessions\.url"):
        RedisSessionStore("http://127.0.0.1:6379/15")


async def test_listing_prunes_index_entries_of_expired_conversations(
    redis_url: str, prefix: str, raw: redis.asyncio.Redis
) -> None:
    store = RedisSessionStore(redis_url, key_prefix=prefix, ttl_s=0.3)
    try:
        for n in range(5):
            await store.append(ConversationId(f"gone{n}"), [ev(n)])
        await asyncio.sleep(0.4)
        await store.append(ConversationId("alive"), [ev(0)])
        assert await raw.zcard(KeyLayout(prefix).index) == 6
        listed, cursor = await store.list_conversations(limit=2)
        assert ([s.id for s in listed], cursor) == (["alive"], None)
        assert await raw.zrange(KeyLayout(prefix).index, 0, -1) == [b"alive"]
    finally:
        await store.aclose()


async def test_store_reconnects_after_aclose(redis_url: str, prefix: str, raw: object) -> None:
    store = RedisSessionStore(redis_url, key_prefix=prefix)
    cid = ConversationId("again")
    await store.append(cid, [ev(0)])
    await store.aclose()
    await store.aclose()  # twice is fine
    assert await store.events(cid) == [ev(0)]
    await store.aclose()


async def test_unreachable_redis_raises_store_error_quickly() -> None:
    url = f"redis://127.0.0.1:{unused_port()}/0"
    # No I/O in the constructor: making the store succeeds.
    store = RedisSessionStore(url, retry=Backoff(attempts=2, base_s=0.01), socket_timeout_s=1)
    cid = ConversationId("nobody home")
    started = time.monotonic()
    with pytest.raises(SessionStoreError, match=r"append.*nobody home.*127\.0\.0\.1"):
        await store.append(cid, [ev(0)])
    with pytest.raises(SessionStoreError, match="events"):
        await store.events(cid)
    with pytest.raises(SessionStoreError, match="lock"):
        async with store.lock(cid, ttl_s=1, wait_s=1):
            pass
    with pytest.raises(SessionStoreError, match="subscribe"):
        async with store.subscribe(cid):
            pass
    assert await store.ping() is False
    assert time.monotonic() - started < 3
    await store.aclose()


async def test_password_is_not_leaked_in_errors() -> None:
    url = f"redis://user:s3cret@127.0.0.1:{unused_port()}/0"
    store = RedisSessionStore(url, retry=Backoff(attempts=1))
    with pytest.raises(SessionStoreError) as caught:
        await store.get_mode(ConversationId("x"))
    assert "s3cret" not in str(caught.value)
    await store.aclose()
