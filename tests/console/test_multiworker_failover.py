"""Two bot processes on the local Redis Cluster, the shopper's widget on worker A and the
agent's console on worker B, while the master serving the conversation's slot fails over to
its replica in the middle of the exchange: every message still crosses once, in order.

A feed that moves with its slot is broken on purpose (the store cannot tell what was published
meanwhile): the widget's socket closes with 1013, and the widget here does what widget.js does
(reconnects with ``last_seen_event``, sends again what was not acknowledged); the console's
socket says ``resync`` and follows the conversation again by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
import pytest
from redis.crc import key_slot

from bot.sessions.redis_keys import KeyLayout
from tests.console.helpers import AgentClient
from tests.console.test_multiworker import workers  # noqa: F401 - the fixture
from tests.redis_cluster import LocalCluster

pytestmark = pytest.mark.slow
ROUNDS = 12
FAIL_OVER_AT = 4
WAIT_S = 15


class Shopper:
    """The widget, as widget.js behaves: one socket at a time, read all along; when it closes
    (1013 when the feed moved) it reconnects with ``last_seen_event`` and sends again what
    was not acknowledged. Keeps every frame, history items as if they came live."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http, self._url = http, url
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._unacked: dict[str, str] = {}
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.cid: str | None = None
        self.frames: list[dict[str, Any]] = []
        self.connections = 0

    @property
    def shown(self) -> list[dict[str, Any]]:
        return [frame for frame in self.frames if "event" in frame]

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        ws = await self._http.ws_connect(
            f"{self._url}/webhooks/webchat/ws", headers={"Origin": self._url}
        )
        hello: dict[str, Any] = {"type": "hello", "locale": "en"}
        if self.cid is not None:
            hello["conversation_id"] = self.cid
        if self.shown:
            hello["last_seen_event"] = self.shown[-1]["event"]
        await ws.send_json(hello)
        for cmid, text in self._unacked.items():
            await ws.send_json({"type": "message", "client_message_id": cmid, "text": text})
        self.connections += 1
        return ws

    async def _read(self) -> None:
        while True:
            self._ws = ws = await self._connect()
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                frame = json.loads(message.data)
                if frame["type"] == "welcome":
                    self.cid = frame["conversation_id"]
                if frame["type"] == "ack":
                    self._unacked.pop(frame["client_message_id"], None)
                self.frames += frame["items"] if frame["type"] == "history" else [frame]
                self._arrived.set()

    async def send(self, cmid: str, text: str) -> None:
        self._unacked[cmid] = text
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
            return  # sent once connected
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(ConnectionError):  # closing: resent on reconnect
                await self._ws.send_json(
                    {"type": "message", "client_message_id": cmid, "text": text}
                )

    async def until(self, kind: str, **match: Any) -> None:
        async with asyncio.timeout(WAIT_S):
            while not any(
                f["type"] == kind and all(f.get(k) == v for k, v in match.items())
                for f in self.frames
            ):
                self._arrived.clear()
                await self._arrived.wait()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()


class Console:
    """The agent's console socket watching one conversation; a ``resync`` is only counted
    (console.js reloads the queue, and the socket resumes the transcript itself)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, cid: str) -> None:
        self._ws, self._cid = ws, cid
        self.items: list[dict[str, Any]] = []
        self.resyncs = 0

    async def watch(self) -> None:
        await self._ws.send_json({"type": "watch", "conversation_id": self._cid, "after": -1})

    def user_texts(self) -> list[str]:
        return [item["text"] for item in self.items if item["kind"] == "user"]

    async def until_user_text(self, text: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while text not in self.user_texts():
                frame = json.loads((await self._ws.receive()).data)
                if frame["type"] == "events" and frame["conversation_id"] == self._cid:
                    self.items += frame["items"]
                elif frame["type"] == "resync" and frame.get("conversation_id") == self._cid:
                    self.resyncs += 1


def master_of_conversation(cluster: LocalCluster, cid: str) -> int:
    # Only the hash tag decides the slot, so any prefix gives the conversation's slot.
    return cluster.master_of(key_slot(KeyLayout("any").conversation(cid).events))


@pytest.mark.parametrize("workers", ["redis-cluster"], indirect=True)
async def test_a_failover_mid_conversation_loses_and_repeats_nothing(
    workers: tuple[str, str, str],  # noqa: F811 - the fixture imported above
    redis_cluster: LocalCluster,
) -> None:
    url_a, url_b, _ = workers
    agent = AgentClient(url_b)
    async with aiohttp.ClientSession() as http:
        shopper = Shopper(http, url_a)
        try:
            await shopper.send("handoff-0001", "I want to talk to a person")
            await shopper.until("typing", on=False)
            assert shopper.cid is not None
            assert (await agent.login("maya@shop.example"))[0] == 200
            socket = await agent.session.ws_connect("/console/ws")
            (row,) = (await agent.get("/console/api/queue"))[1]["handoffs"]
            assert (await agent.post(f"/console/api/handoffs/{row['id']}/claim"))[0] == 200
            console = Console(socket, shopper.cid)
            await console.watch()

            master = master_of_conversation(redis_cluster, shopper.cid)
            failover: asyncio.Task[int] | None = None
            for i in range(ROUNDS):
                if i == FAIL_OVER_AT:  # the next rounds run while the replica takes over
                    failover = asyncio.create_task(
                        asyncio.to_thread(redis_cluster.fail_over, master)
                    )
                await shopper.send(f"shopper-{i:04d}", f"message {i}")
                await console.until_user_text(f"message {i}")
                status, _ = await agent.post(
                    f"/console/api/handoffs/{row['id']}/reply", {"text": f"reply {i}"}
                )
                assert status == 200
                await shopper.until("agent_message", text=f"reply {i}")
            assert failover is not None
            assert await failover != master
            assert master_of_conversation(redis_cluster, shopper.cid) != master
            await socket.close()
        finally:
            await shopper.close()
            await agent.close()

    # The failover broke the conversation's feed on both workers; both caught up.
    assert shopper.connections >= 2
    assert console.resyncs >= 1
    expected = ["I want to talk to a person"] + [f"message {i}" for i in range(ROUNDS)]
    assert console.user_texts() == expected
    console_indices = [item["event"] for item in console.items]
    assert console_indices == sorted(set(console_indices))
    replies = [f["text"] for f in shopper.shown if f["type"] == "agent_message"]
    assert replies == [f"reply {i}" for i in range(ROUNDS)]
    shown = [f["event"] for f in shopper.shown]
    assert shown == sorted(set(shown))
