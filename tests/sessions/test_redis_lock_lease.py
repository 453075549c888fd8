"""The Redis lock's lease: renewed while its holder lives, gone soon after the holder dies.

benchmarks/chaos.py found it: a bot worker SIGKILLed mid-turn left its conversations locked
for the whole ``sessions.lock_ttl_s`` (30 s), and every retry in the meantime waited and got
409. The lock is now taken for a short lease that its holder renews while the turn runs.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.domain import ConversationId
from bot.errors import ConversationBusy
from bot.sessions import RedisSessionStore

from .conftest import delete_prefix

pytestmark = pytest.mark.redis

HOLDER = """
import asyncio, sys
from bot.domain import ConversationId
from bot.sessions import RedisSessionStore

async def main() -> None:
    store = RedisSessionStore(sys.argv[1], key_prefix=sys.argv[2], lock_lease_s=0.5)
    async with store.lock(ConversationId(sys.argv[3]), ttl_s=30, wait_s=1):
        print("held", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.fixture
async def stores(redis_url: str) -> AsyncIterator[tuple[str, list[RedisSessionStore]]]:
    prefix = f"concierge-test-{uuid.uuid4().hex}"
    made: list[RedisSessionStore] = []
    try:
        yield prefix, made
    finally:
        for store in made:
            await store.aclose()
        await delete_prefix(redis_url, prefix)


def _store(
    redis_url: str, prefix: str, made: list[RedisSessionStore], lease_s: float
) -> RedisSessionStore:
    store = RedisSessionStore(redis_url, key_prefix=prefix, lock_lease_s=lease_s)
    made.append(store)
    return store


def _start_holder(redis_url: str, prefix: str, cid: str) -> subprocess.Popen[bytes]:
    """Another worker process that takes the lock with a 0.5 s lease and keeps it."""
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url, prefix, cid],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )


async def test_a_live_holder_keeps_the_lock_past_its_lease_until_it_releases(
    redis_url: str, stores: tuple[str, list[RedisSessionStore]]
) -> None:
    prefix, made = stores
    holder, other = _store(redis_url, prefix, made, 0.3), _store(redis_url, prefix, made, 0.3)
    cid = ConversationId("lease-live")
    async with holder.lock(cid, ttl_s=30, wait_s=0):
        await asyncio.sleep(1.0)  # three leases
        with pytest.raises(ConversationBusy):
            async with other.lock(cid, ttl_s=30, wait_s=0):
                pass
    async with other.lock(cid, ttl_s=30, wait_s=0):
        pass


async def test_a_turn_longer_than_ttl_still_loses_the_lock(
    redis_url: str, stores: tuple[str, list[RedisSessionStore]]
) -> None:
    prefix, made = stores
    holder, other = _store(redis_url, prefix, made, 0.2), _store(redis_url, prefix, made, 0.2)
    cid = ConversationId("lease-ttl")
    async with holder.lock(cid, ttl_s=0.6, wait_s=0):
        await asyncio.sleep(1.0)
        async with other.lock(cid, ttl_s=30, wait_s=0):
            pass


async def test_a_killed_holder_frees_the_conversation_within_its_lease(
    redis_url: str, stores: tuple[str, list[RedisSessionStore]]
) -> None:
    prefix, made = stores
    cid = "lease-killed"
    process = _start_holder(redis_url, prefix, cid)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 30)
        assert line.strip() == b"held"
        os.killpg(process.pid, signal.SIGKILL)  # no release, no clean-up: a dead worker
        process.wait()
        other = _store(redis_url, prefix, made, 5.0)
        started = time.monotonic()
        async with other.lock(ConversationId(cid), ttl_s=30, wait_s=10):
            waited = time.monotonic() - started
        assert waited < 1.5  # the 0.5 s lease, not the 30 s ttl
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


async def test_a_lock_is_let_go_as_soon_as_its_turn_ends(
    redis_url: str, stores: tuple[str, list[RedisSessionStore]]
) -> None:
    # The renewal was first stopped by cancelling it, and a cancellation landing inside a
    # redis-py call could be lost: the turn then waited for the renewal to run on to the
    # lock's ttl (7.8 s here for 7 to 10 of 300 locks; 30 s stalls in benchmarks/chaos.py).
    prefix, made = stores
    store = _store(redis_url, prefix, made, 0.15)  # renewed every 50 ms: often mid-call
    rng = random.Random(0)
    exits: list[float] = []

    async def turn(number: int) -> None:
        async with store.lock(ConversationId(f"turn-{number}"), ttl_s=8, wait_s=1):
            await asyncio.sleep(rng.uniform(0, 2))
            ended = time.monotonic()
        exits.append(time.monotonic() - ended)

    await asyncio.gather(*(turn(n) for n in range(300)))
    # The defect waits for the ttl (8 s); a loaded 2-core machine (the full suite beside other
    # work) was seen taking 1.1 s to let go of one of 300, so the bar sits well between.
    assert max(exits) < 4.0
