"""Contract: the per-conversation lock, for every SessionStore adapter."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.domain import ConversationId
from bot.errors import ConversationBusy, LockLost
from bot.sessions import SessionStore

from .conftest import Backend
from .test_contract import ev


async def test_lock_excludes_a_second_holder_until_wait_runs_out(
    store: SessionStore, cid: ConversationId
) -> None:
    async with store.lock(cid, ttl_s=10, wait_s=0):
        started = time.monotonic()
        with pytest.raises(ConversationBusy) as caught:
            async with store.lock(cid, ttl_s=10, wait_s=0.2):
                pytest.fail("second holder got the lock")
        assert 0.2 <= time.monotonic() - started < 2
        assert caught.value.conversation_id == cid
    # Released: taking it again does not wait.
    async with store.lock(cid, ttl_s=10, wait_s=0):
        pass


async def test_lock_waiter_gets_it_when_the_holder_releases(
    store: SessionStore, cid: ConversationId
) -> None:
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with store.lock(cid, ttl_s=10, wait_s=0):
            first_in.set()
            await asyncio.sleep(0.2)
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with store.lock(cid, ttl_s=10, wait_s=5):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first out", "second in"]


async def test_lock_serialises_turns(store: SessionStore, cid: ConversationId) -> None:
    inside = 0
    most_inside = 0

    async def turn(n: int) -> None:
        nonlocal inside, most_inside
        async with store.lock(cid, ttl_s=10, wait_s=10):
            inside += 1
            most_inside = max(most_inside, inside)
            seen = len(await store.events(cid))
            await asyncio.sleep(0.005)
            assert await store.append(cid, [ev(n)]) == seen + 1
            inside -= 1

    await asyncio.gather(*(turn(n) for n in range(12)))
    assert most_inside == 1
    assert len(await store.events(cid)) == 12


async def test_lock_is_released_when_the_turn_fails(
    store: SessionStore, cid: ConversationId
) -> None:
    with pytest.raises(RuntimeError, match="turn failed"):
        async with store.lock(cid, ttl_s=10, wait_s=0):
            raise RuntimeError("turn failed")
    async with store.lock(cid, ttl_s=10, wait_s=0):
        pass


async def test_expired_lock_goes_to_the_next_holder_and_the_old_one_cannot_release_it(
    backend: Backend, store: SessionStore, cid: ConversationId, caplog: pytest.LogCaptureFixture
) -> None:
    stale = store.lock(cid, ttl_s=0.3, wait_s=0, raise_on_lost=True)
    await stale.__aenter__()
    await backend.advance(0.5)
    async with store.lock(cid, ttl_s=10, wait_s=0):
        # The first holder comes back late: it must not free the second holder's lock.
        with pytest.raises(LockLost):
            await stale.__aexit__(None, None, None)
        with pytest.raises(ConversationBusy):
            async with store.lock(cid, ttl_s=10, wait_s=0.05):
                pass
    quiet = store.lock(cid, ttl_s=0.3, wait_s=0)
    await quiet.__aenter__()
    await backend.advance(0.5)
    with caplog.at_level(logging.WARNING):
        await quiet.__aexit__(None, None, None)  # default: a warning, no exception
    assert "lost" in caplog.text or "expired" in caplog.text


async def test_lock_arguments_are_checked(store: SessionStore, cid: ConversationId) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        async with store.lock(cid, ttl_s=0, wait_s=1):
            pass
    with pytest.raises(ValueError, match="wait_s"):
        async with store.lock(cid, ttl_s=1, wait_s=-1):
            pass


# --- expiry ----------------------------------------------------------------------------------
