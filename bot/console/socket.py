"""The console's live socket, ``GET /console/ws``: queue changes, notes and the transcripts of
the conversations an agent follows, as they happen, from whichever worker they happen on.

Signed-in agents only (the session cookie, 401 before the upgrade) and, when the browser sends
an Origin, the console's own (403). Frames, JSON, server to client:

- ``hello``: ``{agent}``, once;
- ``queue``: ``{change, handoff}`` (queued, claimed, answered, transferred, handed_back, closed);
- ``note``: ``{conversation_id, note}``;
- ``events``: ``{conversation_id, items, next}``: transcript items (bot/console/transcript.py)
  of a followed conversation, each with its event index, sent once per socket;
- ``resync``: reload the queue (the bus lost messages; or, with ``conversation_id``, that
  conversation's feed broke: the socket follows it again by itself and sends what it missed).

Client to server: ``watch {conversation_id, after}`` follows a conversation (items after
index ``after`` are sent first, read from the store), ``unwatch {conversation_id}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.console.auth import COOKIE, SignedIn, same_origin, token_hash
from bot.console.service import CONSOLE, Console
from bot.console.transcript import transcript
from bot.domain import ConversationId
from bot.errors import ConciergeError

log = logging.getLogger(__name__)

PATH = "/console/ws"
MAX_WATCHED = 50
FOLLOW_AGAIN_S = 0.5
"""Pause before following a conversation again after its feed broke (Redis down, a Redis
Cluster slot that moved), so a store that stays down is not hammered."""
SIGNED_OUT = 4401


class ConsoleSocket:
    """One agent's open console."""

    def __init__(self, ws: web.WebSocketResponse, console: Console, signed_in: SignedIn) -> None:
        self._ws = ws
        self._console = console
        self._signed_in = signed_in
        self._watching: dict[str, asyncio.Task[None]] = {}
        self._next: dict[str, int] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        if self._ws.closed:
            return
        async with self._send_lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def run(self) -> None:
        agent = self._signed_in.agent
        await self.send({"type": "hello", "agent": agent.public()})
        async with self._console.bus.listen() as messages:
            tasks = [
                asyncio.create_task(self._relay(messages)),
                asyncio.create_task(self._presence()),
            ]
            try:
                await self._receive()
            finally:
                for task in (*tasks, *self._watching.values()):
                    task.cancel()
                await asyncio.gather(*tasks, *self._watching.values(), return_exceptions=True)

    async def _relay(self, messages: Any) -> None:
        async for message in messages:
            await self.send(message)

    async def _presence(self) -> None:
        """Keeps the agent online while the console is open; ends it when signed out."""
        console, agent = self._console, self._signed_in.agent
        ttl = console.settings.console.presence_ttl_s
        while True:
            session = await console.db.get_session(self._signed_in.session.token_hash, time.time())
            account = await console.db.get_agent(agent.id)
            if session is None or account is None or account.disabled:
                await self._ws.close(code=SIGNED_OUT, message=b"signed out")
                return
            with contextlib.suppress(ConciergeError):
                await console.bus.heartbeat(agent.id, ttl)
            await asyncio.sleep(ttl / 3)

    async def _receive(self) -> None:
        async for msg in self._ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
                kind, cid = frame.get("type"), str(frame.get("conversation_id") or "")
            except (ValueError, AttributeError):
                await self.send({"type": "error", "message": "frames are JSON objects"})
                continue
            if kind == "watch" and cid:
                after = frame.get("after")
                self._watch(cid, after if isinstance(after, int) else -1)
            elif kind == "unwatch" and cid:
                task = self._watching.pop(cid, None)
                if task is not None:
                    task.cancel()

    def _watch(self, cid: str, after: int) -> None:
        if cid in self._watching:
            return
        if len(self._watching) >= MAX_WATCHED:
            oldest = next(iter(self._watching))
            self._watching.pop(oldest).cancel()
        self._next[cid] = after + 1
        self._watching[cid] = asyncio.create_task(self._follow(ConversationId(cid)))

    async def _follow(self, cid: ConversationId) -> None:
        store = self._console.sessions
        while True:
            try:
                async with store.subscribe(cid) as feed:
                    # From the last event sent: after a break this reads what the feed lost.
                    start = self._next[cid]
                    await self._deliver(cid, start, await store.events(cid, start))
                    async for batch in feed:
                        await self._deliver(cid, batch.start, list(batch.events))
            except ConciergeError as exc:
                log.warning("console feed of %s broke: %s", cid, exc)
                await self.send({"type": "resync", "conversation_id": cid})
            # The conversation stays watched (a later watch frame would be ignored), so
            # follow it again rather than leave the agent looking at a frozen transcript.
            await asyncio.sleep(FOLLOW_AGAIN_S)

    async def _deliver(self, cid: str, start: int, events: list[Any]) -> None:
        expected = self._next.get(cid, 0)
        if start > expected:  # a gap the feed lost: read it from the store
            events = await self._console.sessions.events(ConversationId(cid), expected)
            start = expected
        fresh = events[max(expected - start, 0) :]
        if not fresh:
            return
        first = max(expected, start)
        self._next[cid] = first + len(fresh)
        items = transcript(fresh, first)
        if items:
            await self.send({"type": "events", "conversation_id": cid, "items": items,
                             "next": self._next[cid]})  # fmt: skip


async def console_socket(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    if not same_origin(request):
        raise web.HTTPForbidden(reason="cross-site socket refused")
    signed_in = await console.auth.check(request, csrf=False)
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=16384)
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest(reason="this endpoint speaks WebSocket only")
    await ws.prepare(request)
    agent_id = signed_in.agent.id
    console.sockets.add(ws)
    console.local_agents[agent_id] = console.local_agents.get(agent_id, 0) + 1
    try:
        await ConsoleSocket(ws, console, signed_in).run()
    finally:
        console.sockets.discard(ws)
        console.local_agents[agent_id] -= 1
        if not console.local_agents[agent_id]:
            del console.local_agents[agent_id]
            with contextlib.suppress(ConciergeError):
                await console.bus.offline(agent_id)
    return ws


async def close_all(console: Console) -> None:
    """Closes every console socket of this worker (shutdown; consoles reconnect)."""
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"restarting") for ws in console.sockets),
        return_exceptions=True,
    )


def routes() -> list[web.RouteDef]:
    return [web.get(PATH, console_socket)]


__all__ = ["COOKIE", "routes", "token_hash"]
