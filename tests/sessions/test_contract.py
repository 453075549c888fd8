"""The session store contract, run against every adapter (see `backend` in conftest.py)."""

from __future__ import annotations

import asyncio
import math

import pytest

from bot.domain import ConversationId, Event, slot_event, user_event
from bot.errors import BadRequest
from bot.sessions import SessionStore
from bot.sessions.base import NewEvents

from .conftest import Backend


def ev(n: int, **extra: object) -> Event:
    return {"event": "action", "name": f"step_{n}", **extra}


ODD_IDS = [
    "{",
    "}",
    "{}",
    "a}b{c",
    "%7B",
    "%",
    "%25",
    "with space and\ttab\nnewline",
    "emoji 🛒😀 ünïcödé 中文",
    "\ud800lone surrogate",
    ":events",
    "x" * 1000,
]


# --- append / events -------------------------------------------------------------------------


async def test_append_returns_totals_and_events_keep_order(
    store: SessionStore, cid: ConversationId
) -> None:
    assert await store.append(cid, [ev(0), ev(1)]) == 2
    assert await store.append(cid, [ev(2)]) == 3
    assert await store.events(cid) == [ev(0), ev(1), ev(2)]
    assert await store.events(cid, 1) == [ev(1), ev(2)]
    assert await store.events(cid, 3) == []
    assert await store.events(cid, 99) == []


async def test_unknown_conversation_is_empty_and_empty_append_creates_nothing(
    store: SessionStore, cid: ConversationId
) -> None:
    assert await store.events(cid) == []
    assert await store.append(cid, []) == 0
    assert await store.export(cid) is None
    assert await store.ttl(cid) is None
    assert await store.get_mode(cid) == "bot"


async def test_events_round_trip_through_json(store: SessionStore, cid: ConversationId) -> None:
    event = user_event("hi", {"intent": {"name": "greet", "confidence": 0.9}}, "rest", k=(1, 2))
    await store.append(cid, [event, slot_event("email", None)])
    first, second = await store.events(cid)
    assert first["parse_data"]["intent"] == {"name": "greet", "confidence": 0.9}
    assert first["metadata"] == {"k": [1, 2]}  # a tuple comes back as a list, as JSON has it
    assert second["value"] is None


async def test_unserialisable_event_appends_nothing(
    store: SessionStore, cid: ConversationId
) -> None:
    await store.append(cid, [ev(0)])
    with pytest.raises(ValueError, match="JSON"):
        await store.append(cid, [ev(1), ev(2, value=math.nan)])
    with pytest.raises(TypeError):
        await store.append(cid, [ev(1), ev(2, value=object())])
    assert await store.events(cid) == [ev(0)]


async def test_empty_conversation_id_is_rejected(store: SessionStore) -> None:
    with pytest.raises(BadRequest):
        await store.append(ConversationId(""), [ev(0)])


async def test_concurrent_appends_lose_and_duplicate_nothing(
    store: SessionStore, cid: ConversationId
) -> None:
    tasks, rounds, batch = 40, 10, 3

    async def writer(task: int) -> list[int]:
        totals = []
        for r in range(rounds):
            events = [ev(0, task=task, round=r, part=p) for p in range(batch)]
            totals.append(await store.append(cid, events))
        return totals

    results = await asyncio.gather(*(writer(t) for t in range(tasks)))
    stored = await store.events(cid)
    assert len(stored) == tasks * rounds * batch
    keys = [(e["task"], e["round"], e["part"]) for e in stored]
    assert len(set(keys)) == len(keys)
    # Each append is one block: its events sit next to each other, in order.
    for i in range(0, len(stored), batch):
        block = stored[i : i + batch]
        assert [e["part"] for e in block] == list(range(batch))
        assert len({(e["task"], e["round"]) for e in block}) == 1
    # Every append saw a distinct total, and one writer's rounds stay in order.
    all_totals = [t for totals in results for t in totals]
    assert sorted(all_totals) == list(range(batch, tasks * rounds * batch + 1, batch))
    for task in range(tasks):
        rounds_seen = [e["round"] for e in stored if e["task"] == task and e["part"] == 0]
        assert rounds_seen == list(range(rounds))


@pytest.mark.parametrize("odd", ODD_IDS, ids=lambda s: repr(s)[:20])
async def test_odd_ids_and_texts_are_kept_apart_and_intact(store: SessionStore, odd: str) -> None:
    text = f"{odd} — «quoted» \"double\" 'single' \\ 🛒 \ud83d"
    cid = ConversationId(odd)
    neighbour = ConversationId(odd + "}")
    await store.append(cid, [{"event": "user", "text": text}])
    await store.append(neighbour, [ev(1)])
    assert await store.events(cid) == [{"event": "user", "text": text}]
    assert await store.events(neighbour) == [ev(1)]
    await store.set_mode(cid, "human")
    assert await store.get_mode(cid) == "human"
    assert await store.get_mode(neighbour) == "bot"
    exported = await store.export(cid)
    assert exported is not None
    assert exported.id == odd
    listed, _ = await store.list_conversations(limit=10)
    assert {s.id for s in listed} == {cid, neighbour}
    assert await store.delete(cid)
    assert await store.events(neighbour) == [ev(1)]


async def test_ids_that_escape_alike_do_not_collide(store: SessionStore) -> None:
    ids = [ConversationId(s) for s in ("{", "%7B", "%257B", "}", "%7D")]
    for n, cid in enumerate(ids):
        await store.append(cid, [ev(n)])
    for n, cid in enumerate(ids):
        assert await store.events(cid) == [ev(n)]


# --- mode ------------------------------------------------------------------------------------


async def test_mode_defaults_to_bot_and_can_be_set(
    store: SessionStore, cid: ConversationId
) -> None:
    await store.append(cid, [ev(0)])
    assert await store.get_mode(cid) == "bot"
    await store.set_mode(cid, "human")
    assert await store.get_mode(cid) == "human"
    await store.set_mode(cid, "bot")
    assert await store.get_mode(cid) == "bot"


async def test_snapshot_reads_events_and_mode_together(
    store: SessionStore, cid: ConversationId
) -> None:
    assert await store.snapshot(cid) == ([], "bot")
    await store.append(cid, [ev(0), ev(1)])
    await store.set_mode(cid, "human")
    events, mode = await store.snapshot(cid)
    assert (events, mode) == (await store.events(cid), "human")
    assert len(events) == 2


async def test_set_mode_validates_and_creates_the_conversation(
    store: SessionStore, cid: ConversationId
) -> None:
    with pytest.raises(BadRequest, match="mode"):
        await store.set_mode(cid, "robot")  # type: ignore[arg-type]
    await store.set_mode(cid, "human")
    exported = await store.export(cid)
    assert exported is not None
    assert (exported.mode, exported.events) == ("human", ())
    # Appending later keeps the mode a human agent set.
    await store.append(cid, [ev(0)])
    assert await store.get_mode(cid) == "human"


# --- lock ------------------------------------------------------------------------------------


async def test_ttl_is_set_and_refreshed_by_activity(backend: Backend, cid: ConversationId) -> None:
    store = backend.make(ttl_s=5)
    await store.append(cid, [ev(0)])
    first = await store.ttl(cid)
    assert first is not None
    assert 4 < first <= 5
    await backend.advance(1.2)
    aged = await store.ttl(cid)
    assert aged is not None
    assert aged < 4
    await store.append(cid, [ev(1)])
    refreshed = await store.ttl(cid)
    assert refreshed is not None
    assert refreshed > 4.5
    await backend.advance(1.2)
    await store.set_mode(cid, "human")
    after_mode = await store.ttl(cid)
    assert after_mode is not None
    assert after_mode > 4.5


async def test_inactive_conversation_expires_everywhere(
    backend: Backend, cid: ConversationId
) -> None:
    store = backend.make(ttl_s=0.5)
    await store.append(cid, [ev(0)])
    await store.set_mode(cid, "human")
    await backend.advance(0.7)
    assert await store.events(cid) == []
    assert await store.get_mode(cid) == "bot"
    assert await store.export(cid) is None
    assert await store.ttl(cid) is None
    assert await store.list_conversations() == ([], None)
    # A new message starts a fresh conversation under the same id.
    assert await store.append(cid, [ev(1)]) == 1


# --- listing ---------------------------------------------------------------------------------


async def make_conversations(backend: Backend, store: SessionStore, n: int) -> list[ConversationId]:
    """n conversations, each later than the previous; some share a timestamp (ties)."""
    ids = []
    for i in range(n):
        cid = ConversationId(f"c{i:03d}")
        await store.append(cid, [ev(j) for j in range(i % 3 + 1)])
        if i % 4 != 0:  # every fourth one shares the previous one's time
            backend.clock.advance(1)
        ids.append(cid)
    return ids


async def walk(store: SessionStore, limit: int) -> list[list[ConversationId]]:
    pages, cursor = [], None
    while True:
        page, cursor = await store.list_conversations(cursor=cursor, limit=limit)
        pages.append([s.id for s in page])
        if cursor is None:
            return pages
        assert len(pages) < 100, "cursor does not advance"


async def test_listing_pages_through_everything_once_newest_first(
    backend: Backend, store: SessionStore
) -> None:
    ids = await make_conversations(backend, store, 25)
    pages = await walk(store, limit=7)
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    flat = [cid for page in pages for cid in page]
    assert sorted(flat) == sorted(ids)
    summaries, _ = await store.list_conversations(limit=100)
    assert [s.id for s in summaries] == flat
    updated = [s.updated for s in summaries]
    assert updated == sorted(updated, reverse=True)
    by_id = {s.id: s for s in summaries}
    assert by_id[ConversationId("c004")].event_count == 2
    assert by_id[ConversationId("c004")].mode == "bot"
    assert by_id[ConversationId("c004")].created <= by_id[ConversationId("c004")].updated


async def test_exact_page_fit_ends_without_an_empty_page(
    backend: Backend, store: SessionStore
) -> None:
    await make_conversations(backend, store, 10)
    assert [len(p) for p in await walk(store, limit=5)] == [5, 5]
    assert [len(p) for p in await walk(store, limit=10)] == [10]


async def test_activity_while_paging_never_repeats_a_conversation(
    backend: Backend, store: SessionStore
) -> None:
    ids = await make_conversations(backend, store, 12)
    first, cursor = await store.list_conversations(limit=5)
    backend.clock.advance(1)
    for summary in first[:3]:  # already listed, now active again
        await store.append(summary.id, [ev(99)])
    seen = [s.id for s in first]
    while cursor is not None:
        page, cursor = await store.list_conversations(cursor=cursor, limit=5)
        seen += [s.id for s in page]
    assert sorted(seen) == sorted(ids)


async def test_listing_skips_deleted_and_expired_conversations(backend: Backend) -> None:
    store = backend.make(ttl_s=0.6)
    old = await make_conversations(backend, store, 4)
    await backend.advance(0.3)
    fresh = [ConversationId(f"fresh{i}") for i in range(6)]
    for cid in fresh:
        await store.append(cid, [ev(0)])
        backend.clock.advance(0.001)
    await store.delete(fresh[2])
    await backend.advance(0.4)  # the old ones expire, the fresh ones live on
    listed, _ = await store.list_conversations()
    assert set(old).isdisjoint(s.id for s in listed)
    pages = await walk(store, limit=2)
    assert [cid for page in pages for cid in page] == [
        fresh[5],
        fresh[4],
        fresh[3],
        fresh[1],
        fresh[0],
    ]


async def test_updated_time_never_moves_back_when_worker_clocks_disagree(
    backend: Backend, store: SessionStore
) -> None:
    a, b = ConversationId("a"), ConversationId("b")
    await store.append(b, [ev(0)])
    backend.clock.advance(1)
    await store.append(a, [ev(0)])
    latest = backend.clock()
    backend.clock.advance(-10)  # a worker whose clock is behind serves "a" next
    await store.append(a, [ev(1)])
    listed, _ = await store.list_conversations()
    assert [(s.id, s.updated) for s in listed] == [(a, latest), (b, latest - 1)]


async def test_listing_rejects_bad_arguments(store: SessionStore) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        await store.list_conversations(cursor="not-a-cursor")
    with pytest.raises(BadRequest, match="limit"):
        await store.list_conversations(limit=0)
    with pytest.raises(BadRequest, match="limit"):
        await store.list_conversations(limit=100_000)


# --- delete / export -------------------------------------------------------------------------


async def test_export_and_delete(store: SessionStore, cid: ConversationId) -> None:
    events = [ev(0), {"event": "user", "text": "mon adresse: 12 rue de la Paix"}]
    await store.append(cid, events)
    await store.set_mode(cid, "human")
    exported = await store.export(cid)
    assert exported is not None
    assert exported.id == cid
    assert exported.mode == "human"
    assert exported.events == tuple(events)
    assert exported.created <= exported.updated
    assert exported.to_dict()["events"] == events

    assert await store.delete(cid) is True
    assert await store.delete(cid) is False
    assert await store.events(cid) == []
    assert await store.export(cid) is None
    assert await store.list_conversations() == ([], None)


# --- subscriptions ---------------------------------------------------------------------------


async def test_subscriber_sees_each_append_with_its_position(
    store: SessionStore, cid: ConversationId
) -> None:
    other = ConversationId(cid + "-other")
    await store.append(cid, [ev(0)])
    async with store.subscribe(cid) as feed:
        await store.append(other, [ev(50)])
        await store.append(cid, [ev(1), ev(2)])
        await store.append(cid, [ev(3)])
        received = [await asyncio.wait_for(anext(feed), 5) for _ in range(2)]
    assert received == [
        NewEvents(cid, 1, (ev(1), ev(2))),
        NewEvents(cid, 3, (ev(3),)),
    ]


# --- health ----------------------------------------------------------------------------------


async def test_ping(store: SessionStore) -> None:
    assert await store.ping() is True
