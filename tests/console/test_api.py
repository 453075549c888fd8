"""The console's API and socket against the real bot, widget sockets and real stores.

The session store is the memory one and the real Redis (``store`` from the widget's tests);
with Redis, "two workers" are two applications on one Redis and one console database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.console.bus import ConsoleBus, MemoryConsoleBus, RedisConsoleBus
from bot.console.service import CONSOLE
from bot.sessions import MemorySessionStore, SessionStore
from tests.console.helpers import PASSWORD, AgentClient, add_agent, build, console_settings
from tests.webchat.conftest import Widget, other_worker, store  # noqa: F401

Server = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'console.sqlite'}"


def bus_for(request: pytest.FixtureRequest, store: SessionStore) -> ConsoleBus:  # noqa: F811
    if isinstance(store, MemorySessionStore):
        return MemoryConsoleBus()
    url, prefix = request.node.redis_prefix
    return RedisConsoleBus(url, key_prefix=prefix)


class Team:
    """Two workers' servers, Maya (agent), Ben (agent) and Ada (admin), signed in."""

    def __init__(self, servers: list[TestServer], agents: dict[str, AgentClient]) -> None:
        self.servers = servers
        self.maya, self.ben, self.ada = agents["maya"], agents["ben"], agents["ada"]


@pytest.fixture
async def team(
    request: pytest.FixtureRequest,
    aiohttp_server: Server,
    store: SessionStore,  # noqa: F811
    database: str,
) -> AsyncIterator[Team]:
    settings = console_settings(database)
    bus_a = bus_for(request, store)
    # In memory the two "workers" share one process, hence one bus; on Redis each has its own.
    bus_b = bus_a if isinstance(bus_a, MemoryConsoleBus) else bus_for(request, store)
    second = other_worker(request, store)
    servers = [
        await aiohttp_server(build(settings, store, bus_a), host="127.0.0.1"),
        await aiohttp_server(build(settings, second, bus_b), host="127.0.0.1"),
    ]
    await add_agent(database, "maya@shop.example", "Maya")
    await add_agent(database, "ben@shop.example", "Ben")
    await add_agent(database, "ada@shop.example", "Ada", role="admin")
    agents = {}
    for name, server in (("maya", servers[0]), ("ben", servers[1]), ("ada", servers[0])):
        agent = AgentClient(str(server.make_url("/")))
        status, _ = await agent.login(f"{name}@shop.example")
        assert status == 200
        agents[name] = agent
    try:
        yield Team(servers, agents)
    finally:
        for agent in agents.values():
            await agent.close()


async def widget_on(aiohttp_client: Any, server: TestServer) -> Widget:
    client = await aiohttp_client(server)
    widget = await Widget.open(client)
    await widget.welcome()
    return widget


async def handed_off(widget: Widget, team: Team) -> dict[str, Any]:
    """The shopper asks for a person; returns the queue row."""
    frames = await widget.turn("I want to talk to a person")
    assert any("support team" in (f.get("text") or "") for f in frames if f["type"] == "message")
    status, queue = await team.maya.get("/console/api/queue")
    assert status == 200
    (row,) = queue["handoffs"]
    return row  # type: ignore[no-any-return]


async def test_agent_claims_replies_and_hands_back(aiohttp_client: Any, team: Team) -> None:
    widget = await widget_on(aiohttp_client, team.servers[0])
    row = await handed_off(widget, team)
    assert (row["reason"], row["channel"], row["language"], row["status"]) == (
        "asked", "webchat", "en", "waiting"
    )  # fmt: skip
    assert row["waiting_s"] >= 0
    base = f"/console/api/handoffs/{row['id']}"
    status, claimed = await team.maya.post(f"{base}/claim")
    assert status == 200
    assert claimed["handoff"]["agent_name"] == "Maya"
    joined = (await widget.until("agent_joined"))[-1]
    assert joined["agent"] == {"name": "Maya"}
    # Ben, on the other worker, is too late.
    assert (await team.ben.post(f"{base}/claim"))[0] == 409
    assert (await team.ben.post(f"{base}/reply", {"text": "me too"}))[0] == 403

    assert (await team.maya.post(f"{base}/reply", {"text": "Hi, I'm Maya. Let me look."}))[0] == 200
    said = (await widget.until("agent_message"))[-1]
    assert said["text"] == "Hi, I'm Maya. Let me look."
    # The bot says nothing while Maya has the conversation.
    frames = await widget.turn("thanks, it's order #1234567")
    assert [f for f in frames if f["type"] == "message"] == []

    assert (await team.maya.post(f"{base}/hand-back"))[0] == 200
    await widget.until("agent_left")
    frames = await widget.turn("hello")
    assert [f for f in frames if f["type"] == "message"], "the bot answers again"
    status, detail = await team.maya.get(f"/console/api/conversations/{row['conversation_id']}")
    assert status == 200
    kinds = [i["kind"] for i in detail["items"]]
    assert kinds.count("agent_message") == 1
    assert "agent_joined" in kinds
    assert "agent_left" in kinds
    users = [i for i in detail["items"] if i["kind"] == "user"]
    assert users[0]["reading"]["intent"] == "contact_human_agent"
    assert users[1]["reading"] is None  # read by a person, not the bot
    assert detail["handoffs"][0]["status"] == "handed_back"
    await widget.close()


async def test_notes_transfer_and_close(aiohttp_client: Any, team: Team) -> None:
    widget = await widget_on(aiohttp_client, team.servers[1])
    row = await handed_off(widget, team)
    base, cid = f"/console/api/handoffs/{row['id']}", row["conversation_id"]
    assert (await team.maya.post(f"{base}/claim"))[0] == 200
    status, note = await team.maya.post(f"/console/api/conversations/{cid}/notes",
                                        {"text": "VIP, be quick"})  # fmt: skip
    assert status == 201
    assert note["note"]["agent"] == "Maya"
    _, agents = await team.maya.get("/console/api/agents")
    ben = next(a for a in agents["agents"] if a["name"] == "Ben")
    assert (await team.maya.post(f"{base}/transfer", {"agent_id": ben["id"]}))[0] == 200
    assert (await team.maya.post(f"{base}/reply", {"text": "still me"}))[0] == 403
    assert (await team.ben.post(f"{base}/reply", {"text": "Ben here"}))[0] == 200
    said = (await widget.until("agent_message"))[-1]
    assert said["agent"] == {"name": "Ben"}
    assert (await team.ben.post(f"{base}/close"))[0] == 200
    assert (await team.ben.post(f"{base}/close"))[0] == 409
    _, detail = await team.ada.get(f"/console/api/conversations/{cid}")
    assert [n["text"] for n in detail["notes"]] == ["VIP, be quick"]
    assert detail["mode"] == "bot"
    _, queue = await team.maya.get("/console/api/queue")
    assert queue["handoffs"] == []
    await widget.close()


async def test_two_agents_on_two_workers_claim_at_once(aiohttp_client: Any, team: Team) -> None:
    widgets = [await widget_on(aiohttp_client, team.servers[i % 2]) for i in range(4)]
    for widget in widgets:
        await widget.turn("I want to talk to a person")
    _, queue = await team.maya.get("/console/api/queue")
    assert len(queue["handoffs"]) == 4
    for row in queue["handoffs"]:
        path = f"/console/api/handoffs/{row['id']}/claim"
        results = await asyncio.gather(team.maya.post(path), team.ben.post(path))
        assert sorted(status for status, _ in results) == [200, 409]
    for widget in widgets:
        joined = [f for f in (await widget.until("agent_joined")) if f["type"] == "agent_joined"]
        assert len(joined) == 1
        await widget.close()


async def test_console_socket_follows_the_queue_and_a_conversation_across_workers(
    aiohttp_client: Any, team: Team
) -> None:
    ws = await team.maya.session.ws_connect("/console/ws")
    hello = json.loads((await ws.receive(timeout=5)).data)
    assert hello["agent"]["name"] == "Maya"
    widget = await widget_on(aiohttp_client, team.servers[1])  # the shopper on worker B
    await widget.turn("I want to talk to a person")
    queued = json.loads((await ws.receive(timeout=5)).data)
    assert (queued["type"], queued["change"]) == ("queue", "queued")
    cid = queued["handoff"]["conversation_id"]
    await ws.send_json({"type": "watch", "conversation_id": cid, "after": -1})
    first = json.loads((await ws.receive(timeout=5)).data)
    assert first["type"] == "events"
    assert first["items"][0]["kind"] == "user"  # the replay, from the first shown event
    await widget.say("are you there?")
    texts: list[str] = []
    async with asyncio.timeout(5):
        while "are you there?" not in texts:
            frame = json.loads((await ws.receive()).data)
            if frame["type"] == "events":
                texts += [i.get("text") for i in frame["items"] if i["kind"] == "user"]
    assert texts == ["are you there?"]  # once, not replayed
    await ws.close()
    await widget.close()


async def test_anonymous_calls_are_refused(team: Team) -> None:
    server = team.servers[0]
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as anonymous:
        for path in ("/console/api/queue", "/console/api/me", "/console/api/analytics",
                     "/console/api/conversations/web-x"):  # fmt: skip
            async with anonymous.get(path) as answer:
                assert answer.status == 401, path
        async with anonymous.post("/console/api/handoffs/1/claim") as answer:
            assert answer.status == 401
        # A shopper's widget conversation id is no key to the console.
        cookies = {"concierge_console": "web-AAAAAAAAAAAAAAAAAAAAAA"}
        async with anonymous.get("/console/api/queue", cookies=cookies) as answer:
            assert answer.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect("/console/ws")
        assert refused.value.status == 401
        async with anonymous.get("/console") as page:
            assert page.status == 200
            assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_csrf_origin_and_roles(team: Team) -> None:
    assert (await team.maya.post("/console/api/handoffs/1/claim", csrf=False))[0] == 403
    team.maya.csrf, real = "forged", team.maya.csrf
    assert (await team.maya.post("/console/api/handoffs/1/claim"))[0] == 403
    team.maya.csrf = real
    async with team.maya.session.post(
        "/console/api/handoffs/1/claim",
        headers={"X-CSRF-Token": real, "Origin": "https://evil.example"},
    ) as answer:
        assert answer.status == 403
    assert (await team.maya.post("/console/api/handoffs/999/claim"))[0] == 404
    assert (await team.maya.get("/console/api/analytics"))[0] == 403
    assert (await team.ada.get("/console/api/analytics"))[0] == 200
    assert (await team.maya.post("/console/api/logout"))[0] == 200
    assert (await team.maya.get("/console/api/queue"))[0] == 401


async def test_cookie_flags_and_lockout(team: Team) -> None:
    async with team.maya.session.post(
        "/console/api/login",
        json={"email": "ben@shop.example", "password": PASSWORD},
    ) as answer:
        cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    # Plain-HTTP 127.0.0.1 with the development switch: Secure left off (documented).
    assert "Secure" not in cookie
    stranger = AgentClient(str(team.servers[0].make_url("/")))
    try:
        for _ in range(4):
            assert (await stranger.login("ben@shop.example", "wrong password!"))[0] == 401
        assert (await stranger.login("ben@shop.example", "wrong password!"))[0] == 429
        assert (await stranger.login("ben@shop.example"))[0] == 429  # locked, even if right
        assert (await stranger.login("nobody@shop.example"))[0] == 401
    finally:
        await stranger.close()


async def test_analytics_figures(aiohttp_client: Any, team: Team) -> None:
    widget = await widget_on(aiohttp_client, team.servers[0])
    row = await handed_off(widget, team)
    base = f"/console/api/handoffs/{row['id']}"
    await team.maya.post(f"{base}/claim")
    await team.maya.post(f"{base}/reply", {"text": "Hello!"})
    await team.maya.post(f"{base}/close")
    await widget.send({"type": "csat", "score": 5})
    await widget.until("csat")
    other = await widget_on(aiohttp_client, team.servers[1])
    await other.turn("qwertyuiop")
    await other.turn("where is my order")
    for server in team.servers:  # each worker records its own appends in the background
        await server.app[CONSOLE].sessions.recorder.flush()
    status, figures = await team.ada.get("/console/api/analytics?days=7")
    assert status == 200
    assert figures["conversations"] == 2
    assert figures["containment"] == 0.5
    assert figures["handoff_rate_by_reason"] == {"asked": {"count": 1, "rate": 0.5}}
    assert figures["csat"]["average"] == 5
    assert figures["first_response"][0]["name"] == "Maya"
    intents = {i["intent"] for i in figures["top_intents"]}
    assert {"contact_human_agent", "track_order"} <= intents
    assert figures["unanswered"] == [{"text": "qwertyuiop", "count": 1}]
    assert len(figures["conversations_per_day"]) == 7
    await widget.close()
    await other.close()
