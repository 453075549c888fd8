"""One contract for both console stores: SQLite (embedded) and PostgreSQL, on real databases."""

from __future__ import annotations

import asyncio

import pytest

from bot.console.factory import create_console_store
from bot.console.store import (
    AgentExists,
    AgentId,
    AgentSession,
    AnalyticsEvent,
    ConsoleStore,
    CsatCopy,
)

NOW = 1_765_400_000.0


async def add(store: ConsoleStore, email: str = "Maya@Shop.example", name: str = "Maya") -> AgentId:
    agent_id = AgentId(f"a-{name.lower()}")
    await store.add_agent(agent_id, email, name, "agent", "hash", NOW)
    return agent_id


async def test_agents_are_kept_with_lower_cased_unique_emails(console_store: ConsoleStore) -> None:
    maya = await add(console_store)
    found = await console_store.find_agent("maya@shop.EXAMPLE")
    assert found is not None
    assert found.id == maya
    assert found.email == "maya@shop.example"
    assert found.role == "agent"
    assert not found.disabled
    assert found.created == NOW
    with pytest.raises(AgentExists):
        await console_store.add_agent(AgentId("a-2"), "MAYA@shop.example", "M", "admin", "h", NOW)
    await add(console_store, "ben@shop.example", "Ben")
    assert [a.name for a in await console_store.list_agents()] == ["Ben", "Maya"]
    assert await console_store.get_agent(AgentId("nobody")) is None


async def test_disabling_signs_the_agent_out(console_store: ConsoleStore) -> None:
    maya = await add(console_store)
    await console_store.create_session(AgentSession("t1", maya, "csrf", NOW, NOW + 60))
    assert await console_store.get_session("t1", NOW) is not None
    assert await console_store.set_disabled(maya, True)
    account = await console_store.get_agent(maya)
    assert account is not None
    assert account.disabled
    assert await console_store.get_session("t1", NOW) is None
    assert not await console_store.set_disabled(AgentId("nobody"), True)


async def test_sessions_expire_and_end(console_store: ConsoleStore) -> None:
    maya = await add(console_store)
    await console_store.create_session(AgentSession("t1", maya, "c1", NOW, NOW + 60))
    await console_store.create_session(AgentSession("t2", maya, "c2", NOW, NOW + 10))
    session = await console_store.get_session("t1", NOW + 30)
    assert session is not None
    assert session.csrf_token == "c1"
    assert session.agent_id == maya
    assert await console_store.get_session("t2", NOW + 30) is None
    assert await console_store.delete_expired_sessions(NOW + 30) == 1
    await console_store.delete_session("t1")
    assert await console_store.get_session("t1", NOW) is None


async def test_wrong_passwords_lock_the_account_after_the_limit(
    console_store: ConsoleStore,
) -> None:
    maya = await add(console_store)
    for count in (1, 2):
        account = await console_store.login_failed(maya, max_failures=3, lock_s=60, now=NOW)
        assert account is not None
        assert account.failed_logins == count
        assert not account.locked(NOW)
    account = await console_store.login_failed(maya, max_failures=3, lock_s=60, now=NOW)
    assert account is not None
    assert account.locked(NOW)
    assert not account.locked(NOW + 61)
    await console_store.login_succeeded(maya)
    account = await console_store.get_agent(maya)
    assert account is not None
    assert account.failed_logins == 0
    assert account.locked_until is None


async def test_concurrent_wrong_passwords_are_all_counted(console_store: ConsoleStore) -> None:
    maya = await add(console_store)
    await asyncio.gather(
        *(console_store.login_failed(maya, max_failures=50, lock_s=60, now=NOW) for _ in range(8))
    )
    account = await console_store.get_agent(maya)
    assert account is not None
    assert account.failed_logins == 8


async def test_notes_csat_and_analytics(console_store: ConsoleStore) -> None:
    maya = await add(console_store)
    account = await console_store.get_agent(maya)
    assert account is not None
    first = await console_store.add_note("web-1", account, "Asked for a refund", NOW)
    await console_store.add_note("web-1", account, "Sent label ✓", NOW + 1)
    await console_store.add_note("web-2", account, "other", NOW)
    notes = await console_store.notes("web-1")
    assert [n.text for n in notes] == ["Asked for a refund", "Sent label ✓"]
    assert notes[0].id == first.id
    assert notes[0].agent_name == "Maya"
    await console_store.add_csat(CsatCopy("web-1", 4, "quick", NOW, maya))
    await console_store.add_csat(CsatCopy("web-2", 2, None, NOW - 100))
    assert [(c.score, c.agent_id) for c in await console_store.csat_since(NOW - 10)] == [(4, maya)]
    await console_store.log_events(
        [
            AnalyticsEvent("user", "web-1", NOW, {"intent": "track_order"}),
            AnalyticsEvent("handoff", "web-1", NOW + 1, {"reason": "asked"}),
            AnalyticsEvent("user", "web-2", NOW - 100, {"intent": "greet"}),
        ]
    )
    recent = await console_store.events_since(NOW - 10)
    assert [(e.kind, e.data) for e in recent] == [
        ("user", {"intent": "track_order"}),
        ("handoff", {"reason": "asked"}),
    ]
    assert [e.kind for e in await console_store.events_since(0, ["handoff"])] == ["handoff"]
    assert await console_store.events_since(0, []) == []


async def test_customers_conversations(console_store: ConsoleStore) -> None:
    await console_store.link_customer("web-1", "u1", NOW)
    await console_store.link_customer("web-1", "u1", NOW + 5)  # idempotent
    await console_store.link_customer("telegram:9", "u1", NOW + 10)
    await console_store.link_customer("web-3", "u2", NOW)
    assert await console_store.conversations_of("u1") == [("telegram:9", NOW + 10), ("web-1", NOW)]


async def test_a_conversation_is_queued_once_while_open(console_store: ConsoleStore) -> None:
    handoff, new = await console_store.open_handoff("web-1", "asked", "webchat", "en", NOW)
    assert new
    assert handoff.status == "waiting"
    assert handoff.reason == "asked"
    again, new = await console_store.open_handoff("web-1", "frustration", "webchat", "en", NOW + 1)
    assert not new
    assert again.id == handoff.id
    assert again.reason == "asked"
    other, _ = await console_store.open_handoff(
        "telegram:5", "misunderstood", "telegram", None, NOW
    )
    assert [h.conversation_id for h in await console_store.handoffs()] == ["web-1", "telegram:5"]
    assert await console_store.finish(handoff.id, "closed", NOW + 2)
    assert not await console_store.finish(handoff.id, "closed", NOW + 3)
    assert await console_store.open_handoff_of("web-1") is None
    fresh, new = await console_store.open_handoff("web-1", "asked", "webchat", "en", NOW + 4)
    assert new
    assert fresh.id != handoff.id
    assert [h.status for h in await console_store.handoffs_of("web-1")] == ["closed", "waiting"]
    assert [h.id for h in await console_store.handoffs(("closed",))] == [handoff.id]
    assert other.language is None


async def test_claim_transfer_and_first_response(console_store: ConsoleStore) -> None:
    maya, ben = await add(console_store), await add(console_store, "ben@x.example", "Ben")
    handoff, _ = await console_store.open_handoff("web-1", "asked", "webchat", "en", NOW)
    assert await console_store.claim(handoff.id, maya, NOW + 5)
    assert not await console_store.claim(handoff.id, ben, NOW + 6)
    assert not await console_store.transfer(handoff.id, ben, ben)  # Ben does not hold it
    assert await console_store.transfer(handoff.id, maya, ben)
    assert await console_store.first_response(handoff.id, NOW + 7)
    assert not await console_store.first_response(handoff.id, NOW + 8)
    assert await console_store.set_email("web-1", "shopper@example.com")
    got = await console_store.get_handoff(handoff.id)
    assert got is not None
    assert (got.status, got.agent_id, got.claimed_at, got.first_response_at, got.email) == (
        "claimed",
        ben,
        NOW + 5,
        NOW + 7,
        "shopper@example.com",
    )
    assert await console_store.finish(handoff.id, "handed_back", NOW + 9)
    assert not await console_store.set_email("web-1", "late@example.com")


async def test_two_agents_claiming_at_once_exactly_one_wins(
    console_store: ConsoleStore, console_database: str
) -> None:
    """Two stores (two workers' connections) race for each of 20 handoffs."""
    other = create_console_store(console_database)
    try:
        maya, ben = await add(console_store), await add(console_store, "b@x.example", "Ben")
        ids = [
            (await console_store.open_handoff(f"web-{i}", "asked", "webchat", "en", NOW))[0].id
            for i in range(20)
        ]
        results = await asyncio.gather(
            *(s.claim(i, a, NOW) for i in ids for s, a in ((console_store, maya), (other, ben)))
        )
        for index in range(0, len(results), 2):
            assert results[index] != results[index + 1]
        holders = {h.agent_id for h in await console_store.handoffs()}
        assert holders <= {maya, ben}
    finally:
        await other.aclose()


async def test_ping(console_store: ConsoleStore) -> None:
    assert await console_store.ping()
