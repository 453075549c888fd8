"""A widget message sent again is recognised by its stored user event, under the turn's lock.

Nothing is claimed before the turn (bot/deliveries.py): a claim that the store applied late, or
one left by a worker that died mid-turn, made the message look handled while nothing was
stored, and the widget was told ``duplicate: true`` for a message nobody answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from bot.domain import ConversationId, Event
from bot.errors import SessionStoreError
from bot.sessions import MemorySessionStore, SessionStore
from tests.webchat.conftest import Factory, Widget, build


async def _user_events(store: SessionStore, cid: str) -> list[Event]:
    return [e for e in await store.events(ConversationId(cid)) if e["event"] == "user"]


async def test_a_claim_left_without_a_stored_message_does_not_drop_it(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    cid = welcome["conversation_id"]
    # The claim the server wrote before its turn until now, left with nothing stored.
    assert await store.claim_delivery(ConversationId(cid), "webchat:lost-message-1")
    await widget.say("hello", cmid="lost-message-1")
    frames = await widget.until("typing", on=False)
    assert frames[0] == {"type": "ack", "client_message_id": "lost-message-1", "duplicate": False}
    assert [f["type"] for f in frames if "event" in f] == ["user", "message"]
    [user] = await _user_events(store, cid)
    assert user["metadata"]["client_message_id"] == "lost-message-1"
    assert user["metadata"]["message_id"] == "webchat:lost-message-1"


class FailingAppends(MemorySessionStore):
    """The first append of a turn fails, as Redis does while it restarts."""

    failures = 1

    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        if self.failures and any(e.get("event") == "user" for e in events):
            self.failures -= 1
            raise SessionStoreError("session store: append failed: Connection refused")
        return await super().append(cid, events)


async def test_a_message_whose_turn_stored_nothing_runs_when_sent_again(
    aiohttp_client: Any, settings: Any
) -> None:
    store = FailingAppends()
    client = await aiohttp_client(build(settings, store))
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    cid = welcome["conversation_id"]
    await widget.say("hello", cmid="retry-message-1")
    failed = await widget.until("typing", on=False)
    assert [f["type"] for f in failed] == ["ack", "typing", "error", "typing"]
    assert failed[2]["code"] == "unavailable"
    assert failed[2]["client_message_id"] == "retry-message-1"
    assert await store.events(ConversationId(cid)) == []
    # The widget offers to retry; the same message then runs, once.
    await widget.say("hello", cmid="retry-message-1")
    frames = await widget.until("typing", on=False)
    assert frames[0] == {"type": "ack", "client_message_id": "retry-message-1", "duplicate": False}
    assert [f["type"] for f in frames if "event" in f] == ["user", "message"]
    assert len(await _user_events(store, cid)) == 1


async def _shown_and_ack(widget: Widget) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Frames until this socket has the ack and the stored reply, then whatever is late."""
    ack: dict[str, Any] | None = None
    shown: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while ack is None or not any(f["type"] == "message" for f in shown):
            frame = await widget.next()
            if frame["type"] == "ack":
                assert ack is None
                ack = frame
            elif "event" in frame:
                shown.append(frame)
    # Nothing further: no second ack and no second copy of anything.
    with pytest.raises(TimeoutError):
        await _late_frames(widget, shown)
    return ack, shown


async def _late_frames(widget: Widget, shown: list[dict[str, Any]]) -> None:
    while True:
        frame = await widget.next(wait_s=0.5)
        if "event" in frame:
            shown.append(frame)
        if frame["type"] == "ack":
            raise AssertionError(f"a second ack: {frame}")


async def test_one_message_sent_from_two_sockets_at_once_runs_once_and_shows_once_on_each(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client()
    first = await Widget.open(client)
    welcome, _ = await first.welcome()
    cid = welcome["conversation_id"]
    second = await Widget.open(client, conversation_id=cid)
    await second.welcome()
    # A reload raced the old socket: both send the waiting message.
    await asyncio.gather(
        first.say("hello", cmid="both-message-1"), second.say("hello", cmid="both-message-1")
    )
    (ack_1, shown_1), (ack_2, shown_2) = await asyncio.gather(
        _shown_and_ack(first), _shown_and_ack(second)
    )
    assert sorted([ack_1["duplicate"], ack_2["duplicate"]]) == [False, True]
    for shown in (shown_1, shown_2):
        assert [f["type"] for f in shown] == ["user", "message"]
        assert shown[0]["client_message_id"] == "both-message-1"
    assert [f["event"] for f in shown_1] == [f["event"] for f in shown_2]
    assert len(await _user_events(store, cid)) == 1
