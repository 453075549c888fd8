"""Erasure contract: a conversation, or a shopper's conversations, leave every store.

Runs on the memory and the real Redis session store, each with a SQLite and a PostgreSQL
console database. What one erasure removes is checked store by store, and so is what it must
leave alone (another shopper's conversation).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.console.recorder import Recorder, RecordingSessionStore
from bot.console.store import AgentAccount, AgentId, AnalyticsEvent, ConsoleStore, CsatCopy
from bot.domain import ConversationId
from bot.errors import ConversationBusy
from bot.privacy.erase import Eraser
from bot.sessions import SessionStore

NOW = time.time()
TABLES = {"handoffs", "notes", "csat", "analytics_events", "customer_conversations"}
AGENT = AgentAccount(AgentId("a-maya"), "maya@shop.example", "Maya", "agent", "hash")


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": NOW,
            "parse_data": {"intent": {"name": "track_order"}}}  # fmt: skip


def slot(name: str, value: str) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": NOW}


async def seed(sessions: SessionStore, db: ConsoleStore, cid: str, *events: dict[str, Any]) -> None:
    """A conversation with data in both stores: events, a handoff, a note, CSAT, analytics."""
    conversation = ConversationId(cid)
    await sessions.append(conversation, [user("where is my order"), *events])
    await sessions.claim_delivery(conversation, "telegram-update-1")
    await db.open_handoff(cid, "asked", "rest", "en", NOW)
    await db.add_note(cid, AGENT, "called back", NOW)
    await db.add_csat(CsatCopy(cid, 5, "great", NOW))
    await db.log_events([AnalyticsEvent("conversation", cid, NOW),
                         AnalyticsEvent("user", cid, NOW, {"intent": "track_order"})])  # fmt: skip
    for event in events:
        if event.get("name") == "customer_id":
            await db.link_customer(cid, event["value"], NOW)


async def assert_gone(sessions: SessionStore, db: ConsoleStore, cid: str) -> None:
    conversation = ConversationId(cid)
    assert await sessions.events(conversation) == []
    assert await sessions.export(conversation) is None
    listed, _ = await sessions.list_conversations(limit=1000)
    assert cid not in {s.id for s in listed}
    # The delivery claim was forgotten: the same id is new again.
    assert await sessions.claim_delivery(conversation, "telegram-update-1")
    await sessions.delete(conversation)
    assert await db.handoffs_of(cid) == []
    assert await db.notes(cid) == []
    assert cid not in {c.conversation_id for c in await db.csat_since(0)}
    assert cid not in {e.conversation_id for e in await db.events_since(0)}
    assert await db.customer_of(cid) is None


async def assert_kept(sessions: SessionStore, db: ConsoleStore, cid: str) -> None:
    assert len(await sessions.events(ConversationId(cid))) >= 1
    assert len(await db.handoffs_of(cid)) == 1
    assert len(await db.notes(cid)) == 1
    assert cid in {e.conversation_id for e in await db.events_since(0)}


async def test_a_conversation_is_erased_everywhere_and_reported(
    sessions: SessionStore, console_store: ConsoleStore
) -> None:
    await seed(sessions, console_store, "rest:maya", slot("customer_id", "maya_lind_1234"))
    await seed(sessions, console_store, "rest:noah")
    forgotten: list[str] = []

    def forget(texts: Any) -> int:
        forgotten.extend(texts)
        return len(texts)

    eraser = Eraser(sessions, console_store, forget=forget)
    report = await eraser.erase_conversation("rest:maya")
    assert report.found
    assert report.to_dict() == {
        "conversations": ["rest:maya"],
        "session_store": 1,
        "console": {"handoffs": 1, "notes": 1, "csat": 1, "analytics_events": 2,
                    "customer_conversations": 1},
        "cached_texts": 1,
    }  # fmt: skip
    assert forgotten == ["where is my order"]
    await assert_gone(sessions, console_store, "rest:maya")
    await assert_kept(sessions, console_store, "rest:noah")
    again = await eraser.erase_conversation("rest:maya")
    assert not again.found
    assert set(again.console) == TABLES
    assert not any(again.console.values())


async def test_a_shopper_is_found_by_email_customer_and_queue_email(
    sessions: SessionStore, console_store: ConsoleStore
) -> None:
    # Maya gave her email in one conversation, was identified by name and zip in another
    # (same customer id), and left her email while waiting in a third; Noah is someone else.
    await seed(sessions, console_store, "telegram:111", slot("email", "Maya@Example.com"),
               slot("customer_id", "maya_lind_1234"))  # fmt: skip
    await seed(sessions, console_store, "whatsapp:4915112345678",
               slot("customer_id", "maya_lind_1234"))  # fmt: skip
    await seed(sessions, console_store, "webchat:abc")
    await console_store.set_email("webchat:abc", "maya@example.com")
    await seed(sessions, console_store, "rest:noah", slot("email", "noah@example.com"),
               slot("customer_id", "noah_k_9"))  # fmt: skip
    eraser = Eraser(sessions, console_store)
    expected = ["telegram:111", "webchat:abc", "whatsapp:4915112345678"]
    assert await eraser.conversations_of("maya@example.com") == expected
    # Named by any one of her conversations, the same person is found.
    assert await eraser.conversations_of("whatsapp:4915112345678") == expected
    report = await eraser.erase_shopper("MAYA@example.com")
    assert sorted(report.conversations) == expected
    assert report.session_store == 3
    assert report.console["handoffs"] == 3
    assert report.console["customer_conversations"] == 2
    for cid in expected:
        await assert_gone(sessions, console_store, cid)
    await assert_kept(sessions, console_store, "rest:noah")
    assert not (await eraser.erase_shopper("maya@example.com")).found


async def test_nothing_queued_for_analytics_comes_back_after_the_erasure(
    sessions: SessionStore, console_store: ConsoleStore
) -> None:
    recorder = Recorder(console_store, sessions)
    recording = RecordingSessionStore(sessions, recorder)
    cid = ConversationId("rest:quick")
    await recording.append(cid, [user("hi"), slot("customer_id", "c-1")])
    # The recorder has not run yet: the erasure waits for it, then deletes what it wrote.
    eraser = Eraser(recording, console_store, flush_recorder=recorder.flush)
    report = await eraser.erase_conversation(cid)
    assert report.console["customer_conversations"] == 1
    await asyncio.sleep(0.05)
    assert cid not in {e.conversation_id for e in await console_store.events_since(0)}
    assert await console_store.customer_of(cid) is None
    await recorder.aclose()


async def test_a_turn_in_flight_finishes_before_the_erasure(
    sessions: SessionStore, console_store: ConsoleStore
) -> None:
    cid = ConversationId("rest:busy")
    await sessions.append(cid, [user("hi")])
    impatient = Eraser(sessions, console_store, lock_wait_s=0.05)
    patient = Eraser(sessions, console_store, lock_wait_s=5)
    async with sessions.lock(cid, ttl_s=5, wait_s=0):
        with pytest.raises(ConversationBusy):
            await impatient.erase_conversation(cid)
        erasing = asyncio.create_task(patient.erase_conversation(cid))
        await asyncio.sleep(0.05)
        assert not erasing.done()
        await sessions.append(cid, [user("the turn's last words")])
    report = await erasing
    assert report.session_store == 1
    assert await sessions.events(cid) == []
