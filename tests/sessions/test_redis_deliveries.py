"""What only the Redis adapter promises about claimed deliveries: key layout, bound, expiry."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from redis.crc import key_slot

from bot.domain import ConversationId
from bot.sessions import RedisSessionStore
from bot.sessions.base import MAX_DELIVERIES
from bot.sessions.redis_keys import KeyLayout

from .conftest import delete_prefix
from .test_contract import ODD_IDS, ev


@pytest.fixture
def prefix() -> str:
    return f"concierge-test-{uuid.uuid4().hex}"


@pytest.fixture
async def raw(redis_url: str, prefix: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()
        await delete_prefix(redis_url, prefix)


@pytest.fixture
async def store(redis_url: str, prefix: str) -> AsyncIterator[RedisSessionStore]:
    made = RedisSessionStore(redis_url, key_prefix=prefix, ttl_s=100)
    try:
        yield made
    finally:
        await made.aclose()


@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda s: repr(s)[:20])
def test_the_deliveries_key_shares_the_conversations_slot(odd: str) -> None:
    keys = KeyLayout("concierge").conversation(odd)
    assert key_slot(keys.deliveries) == key_slot(keys.events)
    assert keys.deliveries.endswith(b":deliveries")


async def test_claims_are_one_bounded_sorted_set_with_the_store_ttl(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    cid = ConversationId("telegram:1")
    key = KeyLayout(prefix).conversation(cid).deliveries
    for n in range(MAX_DELIVERIES + 25):
        await store.claim_delivery(cid, str(n))
    assert await raw.zcard(key) == MAX_DELIVERIES
    assert 99_000 < await raw.pttl(key) <= 100_000
    # The oldest went first.
    assert await raw.zscore(key, b"0") is None
    assert await raw.zscore(key, str(MAX_DELIVERIES + 24).encode()) is not None


async def test_delete_removes_the_deliveries_key(
    store: RedisSessionStore, raw: redis.asyncio.Redis, prefix: str
) -> None:
    cid = ConversationId("whatsapp:1555")
    keys = KeyLayout(prefix).conversation(cid)
    await store.append(cid, [ev(0)])
    await store.claim_delivery(cid, "wamid.A")
    assert await raw.exists(keys.deliveries) == 1
    assert await store.delete(cid)
    assert await raw.exists(keys.deliveries, keys.events, keys.meta) == 0
