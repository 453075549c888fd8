"""What only the memory adapter needs checking: its injected clock drives every expiry."""

from __future__ import annotations

import pytest

from bot.domain import ConversationId
from bot.errors import ConversationBusy
from bot.sessions import MemorySessionStore

from .conftest import FakeClock
from .test_contract import ev


async def test_expiry_follows_the_injected_clock_not_real_time() -> None:
    clock = FakeClock(start=1_000.0)
    store = MemorySessionStore(ttl_s=60, clock=clock)
    cid = ConversationId("c")
    await store.append(cid, [ev(0)])
    clock.advance(59)
    assert await store.events(cid) == [ev(0)]
    await store.append(cid, [ev(1)])  # activity: another 60 s from now
    clock.advance(59)
    assert len(await store.events(cid)) == 2
    clock.advance(1)
    assert await store.events(cid) == []


async def test_lock_expiry_follows_the_injected_clock() -> None:
    clock = FakeClock(start=1_000.0)
    store = MemorySessionStore(clock=clock)
    cid = ConversationId("c")
    holder = store.lock(cid, ttl_s=30, wait_s=0)
    await holder.__aenter__()
    with pytest.raises(ConversationBusy):
        async with store.lock(cid, ttl_s=30, wait_s=0.05):
            pass
    clock.advance(30)
    async with store.lock(cid, ttl_s=30, wait_s=0):
        pass
    await holder.__aexit__(None, None, None)


async def test_subscription_is_removed_on_exit() -> None:
    store = MemorySessionStore()
    cid = ConversationId("c")
    async with store.subscribe(cid), store.subscribe(cid):
        assert len(store._subscribers[cid]) == 2
    assert cid not in store._subscribers
    await store.append(cid, [ev(0)])  # nobody listening: nothing queued, nothing raised
