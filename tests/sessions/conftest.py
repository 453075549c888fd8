"""Fixtures for the session store contract: one `backend` per adapter.

The Redis backend runs against the real server from `redis_url`, under a key prefix unique to
the test, and deletes every key with that prefix afterwards; `redis-cluster` runs the same
adapter in cluster mode against the local 3-master cluster of `redis_cluster`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
import redis.asyncio

from bot.domain import ConversationId
from bot.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from bot.sessions.base import DEFAULT_TTL_S
from tests.redis_cluster import LocalCluster


class FakeClock:
    """A wall clock that moves only when told to."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    """How a contract test makes stores of one adapter and lets time pass for them."""

    name: str
    clock: FakeClock
    factory: Callable[[float], SessionStore]
    opened: list[SessionStore] = field(default_factory=list)

    def make(self, ttl_s: float = DEFAULT_TTL_S) -> SessionStore:
        """A store over the same data (for Redis: the same prefix, like another worker)."""
        store = self.factory(ttl_s)
        self.opened.append(store)
        return store

    async def advance(self, seconds: float) -> None:
        """Let `seconds` pass for created/updated times and every expiry."""
        self.clock.advance(seconds)
        if self.name.startswith("redis"):
            # Redis expires keys by its own clock, so real time must pass too.
            await asyncio.sleep(seconds)


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    clock = FakeClock()
    if request.param == "memory":
        memory = MemorySessionStore(clock=clock)
        stores: dict[float, MemorySessionStore] = {}

        def make_memory(ttl_s: float) -> SessionStore:
            # One process holds one store; a different ttl needs its own instance.
            if ttl_s == DEFAULT_TTL_S:
                return memory
            return stores.setdefault(ttl_s, MemorySessionStore(ttl_s=ttl_s, clock=clock))

        yield Backend("memory", clock, make_memory)
        return

    cluster: LocalCluster | None = None
    if request.param == "redis-cluster":
        cluster = request.getfixturevalue("redis_cluster")
        url = cluster.url
    else:
        url = request.getfixturevalue("redis_url")
    prefix = f"concierge-test-{uuid.uuid4().hex}"

    def make_redis(ttl_s: float) -> SessionStore:
        return RedisSessionStore(
            url, ttl_s=ttl_s, key_prefix=prefix, clock=clock, cluster=cluster is not None
        )

    made = Backend(request.param, clock, make_redis)
    try:
        yield made
    finally:
        for store in made.opened:
            await store.aclose()
        if cluster is None:
            await delete_prefix(url, prefix)
        else:
            cluster.delete_prefix(prefix)


async def delete_prefix(url: str, prefix: str) -> None:
    """Delete every key the test made (SCAN is fine here: a test db, a unique prefix)."""
    client = redis.asyncio.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def store(backend: Backend) -> SessionStore:
    return backend.make()


@pytest.fixture
def cid() -> ConversationId:
    return ConversationId(f"shopper-{uuid.uuid4().hex[:8]}")
