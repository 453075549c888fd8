"""The widget protocol end to end: turns, streaming, replay, once-only delivery, agents, ratings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.channels.webchat_events import Agent, agent_event
from bot.domain import ConversationId
from bot.sessions import SessionStore
from tests.generation.scripted import ScriptedGenerator
from tests.webchat.conftest import Factory, Widget, other_worker

GOOD = "You can return items within 30 days of delivery. Later returns get store credit."


def shown(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if "event" in f]


async def test_a_new_widget_gets_an_unguessable_conversation(make_client: Factory) -> None:
    client = await make_client()
    widget = await Widget.open(client, conversation_id="alice")  # a REST sender: not joinable
    welcome, history = await widget.welcome()
    assert welcome["conversation_id"].startswith("web-")
    assert len(welcome["conversation_id"]) == 26
    assert welcome["resumed"] is False
    assert welcome["shop_name"] == "Northwind Outfitters"
    assert history["items"] == []


async def test_a_turn_acks_types_and_shows_each_stored_event_once(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client()
    widget = await Widget.open(client, locale="de-AT")
    welcome, _ = await widget.welcome()
    cid = ConversationId(welcome["conversation_id"])
    cmid = await widget.say("where is my order")
    frames = await widget.until("typing", on=False)
    kinds = [f["type"] for f in frames]
    assert kinds[:2] == ["ack", "typing"]
    assert frames[0] == {"type": "ack", "client_message_id": cmid, "duplicate": False}
    user = next(f for f in frames if f["type"] == "user")
    assert user["client_message_id"] == cmid
    assert user["text"] == "where is my order"
    bot = [f for f in frames if f["type"] == "message"]
    assert "email" in bot[0]["text"]
    events = await store.events(cid)
    for frame in shown(frames):  # the index is the stored event's index
        assert events[frame["event"]]["event"] == ("user" if frame["type"] == "user" else "bot")
    indices = [f["event"] for f in shown(frames)]
    assert indices == sorted(set(indices))
    stored_user = events[user["event"]]
    assert stored_user["metadata"]["language"] == "de"  # the NLU's language hint
    assert stored_user["input_channel"] == "webchat"


async def test_a_button_sends_its_payload_and_shows_its_title(make_client: Factory) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    await widget.welcome()
    await widget.send(
        {"type": "message", "client_message_id": "button-0001", "payload": "/greet", "title": "Hi!"}
    )
    frames = await widget.until("typing", on=False)
    user = next(f for f in frames if f["type"] == "user")
    assert user["text"] == "Hi!"
    assert "assistant" in next(f for f in frames if f["type"] == "message")["text"]


async def test_an_answer_streams_as_deltas_then_arrives_whole(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client(generator=ScriptedGenerator(GOOD))
    widget = await Widget.open(client)
    await widget.welcome()
    cmid = await widget.say("how many days do I have to return items")
    frames = await widget.until("typing", on=False)
    deltas = [f for f in frames if f["type"] == "delta"]
    assert len(deltas) == 2  # sentence by sentence, as each passes the guard
    assert all(d["reply_to"] == cmid and "event" not in d for d in deltas)
    assert "".join(d["text"] for d in deltas).strip() == GOOD
    final = [f for f in frames if f["type"] == "message"]
    assert final[0]["text"] == GOOD
    assert frames.index(deltas[-1]) < frames.index(final[0])


async def test_a_reconnect_replays_what_was_missed_and_nothing_else(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client()
    first = await Widget.open(client)
    welcome, _ = await first.welcome()
    cid = welcome["conversation_id"]
    turn_one = shown(await first.turn("where is my order"))
    turn_two = shown(await first.turn("known@example.com"))
    await first.close()

    # A reload: nothing on screen, the whole history comes back once.
    reloaded = await Widget.open(client, conversation_id=cid)
    again, history = await reloaded.welcome()
    assert again["conversation_id"] == cid
    assert again["resumed"] is True
    assert history["items"] == turn_one + turn_two
    # A dropped connection: only what came after the last event on screen.
    last_seen = turn_one[-1]["event"]
    resumed = await Widget.open(client, conversation_id=cid, last_seen_event=last_seen)
    _, missed = await resumed.welcome()
    assert missed["items"] == turn_two


async def test_a_message_sent_again_after_a_reconnect_is_handled_once(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    cid = welcome["conversation_id"]
    await widget.say("hello", cmid="offline-message-1")
    await widget.until("typing", on=False)
    await widget.close()
    # The widget did not see the ack (the network dropped) and sends it again.
    again = await Widget.open(client, conversation_id=cid)
    _, history = await again.welcome()
    await again.say("hello", cmid="offline-message-1")
    ack = await again.next()
    assert ack == {"type": "ack", "client_message_id": "offline-message-1", "duplicate": True}
    users = [e for e in await store.events(ConversationId(cid)) if e["event"] == "user"]
    assert len(users) == 1
    assert [f["type"] for f in history["items"]] == ["user", "message"]


async def test_agent_events_from_another_worker_reach_the_widget(
    make_client: Factory, store: SessionStore, request: pytest.FixtureRequest
) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    cid = ConversationId(welcome["conversation_id"])
    console = other_worker(request, store)  # the agent console appends through its own store
    maya = Agent("a-17", "Maya")
    try:
        await console.append(cid, [agent_event("agent_joined", maya)])
        joined = await widget.next()
        await console.append(
            cid,
            [
                agent_event("agent_message", maya, "Hi, I'm looking at your order now."),
                agent_event("agent_left", maya),
            ],
        )
        said, left = await widget.next(), await widget.next()
    finally:
        if console is not store:
            await console.aclose()
    assert joined == {"type": "agent_joined", "event": 0, "agent": {"name": "Maya"}}
    assert said == {
        "type": "agent_message",
        "event": 1,
        "agent": {"name": "Maya"},
        "text": "Hi, I'm looking at your order now.",
    }
    assert left["type"] == "agent_left"
    assert left["event"] == 2
    # After a reload they are replayed with the rest, the agent's id is never sent.
    reloaded = await Widget.open(client, conversation_id=cid)
    _, history = await reloaded.welcome()
    assert history["items"] == [joined, said, left]


async def test_feedback_and_csat_are_stored_with_the_conversation(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    cid = ConversationId(welcome["conversation_id"])
    frames = await widget.turn("hello")
    answer = next(f for f in frames if f["type"] == "message")
    await widget.send({"type": "feedback", "event": answer["event"], "value": "up"})
    rated = await widget.next()
    assert rated["type"] == "feedback"
    assert rated["target"] == answer["event"]
    await widget.send({"type": "feedback", "event": 0, "value": "down"})  # the shopper's own
    refused = await widget.next()
    assert refused["type"] == "error"
    assert refused["code"] == "not_found"
    await widget.send({"type": "csat", "score": 4, "comment": "  quick and clear "})
    csat = await widget.next()
    assert csat == {"type": "csat", "event": rated["event"] + 1, "score": 4}
    events = await store.events(cid)
    assert events[rated["event"]] == {
        "event": "feedback",
        "timestamp": events[rated["event"]]["timestamp"],
        "target": answer["event"],
        "value": "up",
    }
    assert events[csat["event"]]["comment"] == "quick and clear"
    # The conversation goes on: the next turn reads a tracker with these events in it.
    more = await widget.turn("where is my order")
    assert "email" in next(f for f in more if f["type"] == "message")["text"]


async def test_a_goodbye_brings_the_closing_question_once(make_client: Factory) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    frames = await widget.turn("bye")
    assert [f["type"] for f in frames].count("csat_request") == 1
    reloaded = await Widget.open(client, conversation_id=welcome["conversation_id"])
    await reloaded.welcome()
    assert (await reloaded.next())["type"] == "csat_request"  # still unanswered
    await reloaded.send({"type": "csat", "score": 5})
    assert (await reloaded.next())["type"] == "csat"
    later = await Widget.open(client, conversation_id=welcome["conversation_id"])
    await later.welcome()
    with pytest.raises(TimeoutError):
        await later.next(wait_s=0.3)


async def test_a_turn_survives_its_socket_closing(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client(generator=ScriptedGenerator(GOOD, delay_s=0.05))
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    await widget.say("how many days do I have to return items")
    await widget.until("typing", on=True)
    await widget.close()
    cid = ConversationId(welcome["conversation_id"])
    async with store.subscribe(cid) as feed, asyncio.timeout(5):
        if not any(e["event"] == "bot" for e in await store.events(cid)):
            async for batch in feed:  # the turn is stored when its socket has gone
                if any(e["event"] == "bot" for e in batch.events):
                    break
    later = await Widget.open(client, conversation_id=cid)
    _, history = await later.welcome()
    assert [f["type"] for f in history["items"]] == ["user", "message"]
