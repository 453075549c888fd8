"""Retention: the console's database forgets what is older than configured, on both databases.

Conversations in the session store expire by their TTL (the session store's own contract
tests); here the rows the console keeps beyond that are purged, and nothing else is.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.console.settings import ConsoleConfig
from bot.console.store import (
    AgentAccount,
    AgentId,
    AgentSession,
    AnalyticsEvent,
    ConsoleStore,
    CsatCopy,
)
from bot.errors import ConfigError
from bot.privacy.retention import DAY_S, purge, purging

NOW = 1_765_400_000.0
AGENT = AgentAccount(AgentId("a-maya"), "maya@shop.example", "Maya", "agent", "hash")


async def conversation(db: ConsoleStore, cid: str, age_days: float, *, close: bool) -> None:
    at = NOW - age_days * DAY_S
    handoff, _ = await db.open_handoff(cid, "asked", "rest", "en", at)
    if close:
        await db.finish(handoff.id, "closed", at + 60)
    await db.add_note(cid, AGENT, "note", at)
    await db.add_csat(CsatCopy(cid, 4, None, at))
    await db.link_customer(cid, f"customer-{cid}", at)
    await db.log_events([AnalyticsEvent("conversation", cid, at)])


async def test_rows_past_retention_go_and_the_rest_stays(console_store: ConsoleStore) -> None:
    await console_store.add_agent(AGENT.id, AGENT.email, AGENT.name, "agent", "h", NOW)
    await conversation(console_store, "old-closed", 200, close=True)
    await conversation(console_store, "old-open", 200, close=False)  # still in the queue
    await conversation(console_store, "recent", 10, close=True)
    await conversation(console_store, "ancient", 500, close=True)
    await console_store.create_session(AgentSession("t-old", AGENT.id, "c", NOW - 99, NOW - 1))
    config = ConsoleConfig(retention_days=180, analytics_retention_days=400)
    deleted = await purge(console_store, config, NOW)
    assert deleted == {
        "notes": 3, "csat": 3, "handoffs": 2, "customer_conversations": 3,
        "analytics_events": 1, "agent_sessions": 1,
    }  # fmt: skip
    assert [h.conversation_id for h in await console_store.handoffs_since(0)] == [
        "old-open",
        "recent",
    ]
    assert [n.conversation_id for n in await console_store.notes("recent")] == ["recent"]
    assert await console_store.notes("old-closed") == []
    assert {c.conversation_id for c in await console_store.csat_since(0)} == {"recent"}
    assert await console_store.customer_of("recent") == "customer-recent"
    assert await console_store.customer_of("old-closed") is None
    # The analytics log keeps 400 days: only the 500-day-old entry went.
    kept = {e.conversation_id for e in await console_store.events_since(0)}
    assert kept == {"old-closed", "old-open", "recent"}
    assert await purge(console_store, config, NOW) == dict.fromkeys(deleted, 0)


async def test_zero_keeps_everything(console_store: ConsoleStore) -> None:
    await conversation(console_store, "ancient", 5000, close=True)
    config = ConsoleConfig(retention_days=0, analytics_retention_days=0)
    assert await purge(console_store, config, NOW) == {"agent_sessions": 0}
    assert len(await console_store.events_since(0)) == 1
    assert len(await console_store.handoffs_since(0)) == 1


async def test_the_background_purge_runs_at_start(console_store: ConsoleStore) -> None:
    await conversation(console_store, "old", 365, close=True)
    config = ConsoleConfig(retention_days=30, purge_interval_hours=1)
    async with purging(console_store, config, lambda: NOW) as task:
        assert task is not None
        for _ in range(100):
            if not await console_store.handoffs_since(0):
                break
            await asyncio.sleep(0.02)
        assert await console_store.handoffs_since(0) == []
    assert task.done()
    async with purging(console_store, ConsoleConfig(purge_interval_hours=0), lambda: NOW) as off:
        assert off is None


def test_retention_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="analytics_retention_days"):
        ConsoleConfig(analytics_days=30, analytics_retention_days=10)
    with pytest.raises(ConfigError, match="retention_days"):
        ConsoleConfig(retention_days=-1)
    assert dataclasses.replace(ConsoleConfig(), analytics_retention_days=0)
