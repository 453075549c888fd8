"""The console bus on a Redis Cluster: messages and presence cross workers, and a failover of
the master serving the bus channel's slot is followed (listeners are told to reload)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.crc import key_slot

from bot.console.bus import Message, RedisConsoleBus
from tests.redis_cluster import LocalCluster

pytestmark = pytest.mark.redis


@pytest.fixture
def prefix(redis_cluster: LocalCluster) -> Iterator[str]:
    name = f"concierge-bus-{uuid.uuid4().hex[:8]}"
    yield name
    redis_cluster.delete_prefix(name)


@pytest.fixture
async def buses(redis_cluster: LocalCluster, prefix: str) -> AsyncIterator[list[RedisConsoleBus]]:
    made = [RedisConsoleBus(redis_cluster.url, key_prefix=prefix, cluster=True) for _ in "AB"]
    try:
        yield made
    finally:
        for bus in made:
            await bus.aclose()


async def next_of(messages: AsyncIterator[Message], kind: str) -> Message:
    async with asyncio.timeout(10):
        async for message in messages:
            if message["type"] == kind:
                return message
    raise AssertionError("the bus ended")


async def test_messages_and_presence_cross_workers_and_survive_a_failover(
    redis_cluster: LocalCluster, buses: list[RedisConsoleBus], prefix: str
) -> None:
    worker_a, worker_b = buses
    async with worker_b.listen() as messages:
        await worker_a.publish({"type": "queue", "n": 1})
        assert (await next_of(messages, "queue"))["n"] == 1
        await worker_a.heartbeat("maya", ttl_s=60)
        assert await worker_b.online() == {"maya"}

        master = redis_cluster.master_of(key_slot(f"{prefix}:console".encode()))
        await asyncio.to_thread(redis_cluster.fail_over, master)
        # Whatever was published meanwhile may be lost: the listener is told to reload, and
        # the bus is subscribed on the new master from then on.
        await next_of(messages, "resync")
        await worker_a.publish({"type": "queue", "n": 2})
        assert (await next_of(messages, "queue"))["n"] == 2
        assert await worker_b.online() == {"maya"}
        await worker_a.offline("maya")
        assert await worker_b.online() == set()
