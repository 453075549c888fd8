"""The Redis session store on a Redis Cluster while the cluster changes under it.

The contract suite runs on the cluster too (``redis-cluster`` in conftest.py); these tests
move the slot of a conversation that is being appended to, or fail its master over to the
replica, in the middle of the writes, and check that every event is stored once, in order,
and that a follower of the feed (as a widget follows it) ends up with the same events.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.domain import ConversationId, Event
from bot.errors import ConfigError, SessionStoreError
from bot.sessions import RedisSessionStore
from bot.sessions.redis_keys import APPEND_LUA, KeyLayout
from tests.redis_cluster import LocalCluster

from .conftest import delete_prefix
from .test_contract import ev

pytestmark = pytest.mark.redis
END: Event = {"event": "action", "name": "end_of_writes"}
FILLER_KEYS = 300
"""Other keys in the conversation's slot, so that moving it takes many MIGRATE calls."""


@pytest.fixture
def prefix() -> str:
    return f"concierge-cluster-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def workers(
    redis_cluster: LocalCluster, prefix: str
) -> AsyncIterator[list[RedisSessionStore]]:
    """Two stores on the cluster (two bot workers): one writes, one follows the feed."""
    stores = [
        RedisSessionStore(redis_cluster.url, key_prefix=prefix, ttl_s=600, cluster=True)
        for _ in range(2)
    ]
    try:
        yield stores
    finally:
        for store in stores:
            await store.aclose()
        redis_cluster.delete_prefix(prefix)


async def write_until(
    store: RedisSessionStore, cid: ConversationId, stop: asyncio.Event, going: asyncio.Event
) -> list[float]:
    """Appends ev(0), ev(1)… one append each until ``stop`` (``going`` is set after 20),
    then END; returns the times at which each append returned."""
    done: list[float] = []
    while not stop.is_set():
        total = await store.append(cid, [ev(len(done))])
        assert total == len(done) + 1
        done.append(time.monotonic())
        if len(done) == 20:
            going.set()
    await store.append(cid, [END])
    return done


async def follow(store: RedisSessionStore, cid: ConversationId) -> tuple[list[Event], int]:
    """What a widget does: follow the feed, read what it missed from the store (a gap or a
    broken feed), until END; returns the events seen and how many times the feed broke."""
    seen: list[Event] = []
    breaks = 0
    while True:
        try:
            async with store.subscribe(cid) as feed:
                seen += await store.events(cid, len(seen))
                while not seen or seen[-1] != END:
                    batch = await anext(feed)
                    if batch.start > len(seen):
                        seen += await store.events(cid, len(seen))
                    else:
                        seen += batch.events[len(seen) - batch.start :]
                return seen, breaks
        except SessionStoreError:
            breaks += 1


def fill_slot(cluster: LocalCluster, prefix: str, cid: str) -> int:
    """Puts FILLER_KEYS keys in ``cid``'s slot; returns the slot."""
    slot = key_slot(KeyLayout(prefix).conversation(cid).events)
    with cluster.client(cluster.master_of(slot)) as node:
        pipe = node.pipeline(transaction=False)
        for i in range(FILLER_KEYS):
            pipe.set(f"{prefix}:{{{cid}}}:filler:{i}", "x")
        pipe.execute()
    return slot


async def change_during_writes(
    workers: list[RedisSessionStore],
    cid: ConversationId,
    change: Callable[[], Awaitable[Any]],
) -> tuple[list[float], float, float, int]:
    writer, reader = workers
    await writer.append(cid, [])  # connect both before the writes start
    await reader.ping()
    follower = asyncio.create_task(follow(reader, cid))
    stop, going = asyncio.Event(), asyncio.Event()
    writes = asyncio.create_task(write_until(writer, cid, stop, going))
    await going.wait()
    started = time.monotonic()
    await change()
    ended = time.monotonic()
    await asyncio.sleep(0.2)  # a few writes after the change too
    stop.set()
    done = await writes
    stored = await writer.events(cid)
    assert stored == [ev(i) for i in range(len(done))] + [END]
    async with asyncio.timeout(20):
        seen, breaks = await follower
    assert seen == stored
    return done, started, ended, breaks


async def test_a_slot_migrated_mid_writes_keeps_every_event_once_in_order(
    redis_cluster: LocalCluster, workers: list[RedisSessionStore], prefix: str
) -> None:
    cid = ConversationId(f"moving-{uuid.uuid4().hex[:8]}")
    slot = fill_slot(redis_cluster, prefix, cid)
    before = redis_cluster.master_of(slot)

    async def migrate() -> None:
        await asyncio.to_thread(redis_cluster.migrate_slot, slot, batch=5, pause_s=0.01)

    done, started, ended, _ = await change_during_writes(workers, cid, migrate)
    assert redis_cluster.master_of(slot) != before
    during = [t for t in done if started < t < ended]
    assert len(during) >= 10, f"only {len(during)} appends overlapped the migration"


async def test_a_failover_mid_writes_keeps_every_event_once_in_order(
    redis_cluster: LocalCluster, workers: list[RedisSessionStore], prefix: str
) -> None:
    cid = ConversationId(f"failing-{uuid.uuid4().hex[:8]}")
    slot = key_slot(KeyLayout(prefix).conversation(cid).events)
    before = redis_cluster.master_of(slot)

    async def fail_over() -> None:
        await asyncio.to_thread(redis_cluster.fail_over, before)

    done, started, ended, breaks = await change_during_writes(workers, cid, fail_over)
    assert redis_cluster.master_of(slot) != before
    during = [t for t in done if started < t < ended]
    assert len(during) >= 10, f"only {len(during)} appends overlapped the failover"
    # The old master stops serving the slot, which ends its subscriptions (sunsubscribe): the
    # follower was told and read what it missed from the store.
    assert breaks >= 1


@pytest.mark.parametrize("cluster", [False, True], ids=["redis", "redis-cluster"])
async def test_an_append_whose_reply_was_lost_is_stored_and_published_once(
    request: pytest.FixtureRequest, prefix: str, cluster: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if cluster:
        nodes: LocalCluster = request.getfixturevalue("redis_cluster")
        url = nodes.url
    else:
        url = request.getfixturevalue("redis_url")
    store = RedisSessionStore(url, key_prefix=prefix, cluster=cluster)
    cid = ConversationId("lost-reply")
    real_script = store._script
    lost = []

    async def reply_lost_once(source: str, keys: list[bytes], args: list[Any]) -> Any:
        result = await real_script(source, keys, args)
        if source == APPEND_LUA and not lost:
            lost.append(result)  # the script ran; the caller never hears of it
            raise RedisConnectionError("connection dropped before the reply")
        return result

    monkeypatch.setattr(store, "_script", reply_lost_once)
    try:
        async with store.subscribe(cid) as feed:
            assert await store.append(cid, [ev(0), ev(1)]) == 2
            assert await store.append(cid, [ev(2)]) == 3
            batches = [await anext(feed), await anext(feed)]
        assert lost == [2]
        assert await store.events(cid) == [ev(0), ev(1), ev(2)]
        assert [(b.start, len(b.events)) for b in batches] == [(0, 2), (2, 1)]
    finally:
        await store.aclose()
        if cluster:
            nodes.delete_prefix(prefix)
        else:
            await delete_prefix(url, prefix)


def test_cluster_mode_needs_a_node_url_without_a_db() -> None:
    with pytest.raises(ConfigError, match="Redis Cluster node"):
        RedisSessionStore("unix:///tmp/redis.sock", cluster=True)
    with pytest.raises(ConfigError, match="only db 0"):
        RedisSessionStore("redis://127.0.0.1:7000/15", cluster=True)
    RedisSessionStore("redis://127.0.0.1:7000/0", cluster=True)  # no I/O until first use
