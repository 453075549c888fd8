"""Two bot processes on one Redis: the shopper's widget on worker A, the agent's console on
worker B; every message crosses once, in order, both ways. Run on a single Redis and on the
local Redis Cluster (``redis_cluster``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.console import migrate
from tests.console.helpers import AgentClient, add_agent
from tests.console.processes import clean_redis, start_worker, stop_workers, wait_healthy
from tests.redis_cluster import LocalCluster

pytestmark = pytest.mark.slow
ROUNDS = 15


@pytest.fixture(params=["redis", "redis-cluster"])
async def workers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str, str]]:
    cluster: LocalCluster | None = None
    if request.param == "redis-cluster":
        cluster = request.getfixturevalue("redis_cluster")
        redis_url = cluster.url
    else:
        redis_url = request.getfixturevalue("redis_url")
    database = f"sqlite:///{tmp_path / 'console.sqlite'}"
    migrate.upgrade(database)
    await add_agent(database, "maya@shop.example", "Maya")
    prefix = f"concierge-console-mw-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "workers.log"
    started = [
        start_worker(redis_url, prefix, database, log, cluster=cluster is not None) for _ in "AB"
    ]
    try:
        for process, url in started:
            await wait_healthy(url, process)
        yield started[0][1], started[1][1], database
    finally:
        stop_workers([process for process, _ in started])
        if cluster is None:
            await clean_redis(redis_url, prefix)
        else:
            cluster.delete_prefix(prefix)


async def frames_until(ws: Any, kind: str, seen: list[dict[str, Any]], **match: Any) -> None:
    async with asyncio.timeout(10):
        while True:
            frame = json.loads((await ws.receive()).data)
            seen.append(frame)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return


async def test_shopper_on_a_agent_on_b_every_message_once_in_order(
    workers: tuple[str, str, str],
) -> None:
    url_a, url_b, _ = workers
    shopper_frames: list[dict[str, Any]] = []
    console_frames: list[dict[str, Any]] = []
    agent = AgentClient(url_b)
    async with aiohttp.ClientSession() as shop:
        widget = await shop.ws_connect(f"{url_a}/webhooks/webchat/ws", headers={"Origin": url_a})
        await widget.send_json({"type": "hello", "locale": "en"})
        await widget.send_json({"type": "message", "client_message_id": "handoff-0001",
                                "text": "I want to talk to a person"})  # fmt: skip
        await frames_until(widget, "typing", shopper_frames, on=False)
        cid = shopper_frames[0]["conversation_id"]

        assert (await agent.login("maya@shop.example"))[0] == 200
        console = await agent.session.ws_connect("/console/ws")
        await frames_until(console, "hello", console_frames)
        _, queue = await agent.get("/console/api/queue")
        (row,) = queue["handoffs"]
        assert row["conversation_id"] == cid
        assert (await agent.post(f"/console/api/handoffs/{row['id']}/claim"))[0] == 200
        await console.send_json({"type": "watch", "conversation_id": cid, "after": -1})

        def user_texts() -> list[str]:
            return [i["text"] for f in console_frames if f["type"] == "events"
                    for i in f["items"] if i["kind"] == "user"]  # fmt: skip

        for i in range(ROUNDS):
            await widget.send_json({"type": "message", "client_message_id": f"shopper-{i:04d}",
                                    "text": f"message {i}"})  # fmt: skip
            async with asyncio.timeout(10):
                while f"message {i}" not in user_texts():
                    console_frames.append(json.loads((await console.receive()).data))
            status, _ = await agent.post(f"/console/api/handoffs/{row['id']}/reply",
                                         {"text": f"reply {i}"})  # fmt: skip
            assert status == 200
            await frames_until(widget, "agent_message", shopper_frames, text=f"reply {i}")
        await widget.close()
        await console.close()
    await agent.close()

    # The console (worker B) got every shopper message once, in order, with rising indices.
    assert user_texts() == ["I want to talk to a person"] + [f"message {i}" for i in range(ROUNDS)]
    console_indices = [i["event"] for f in console_frames if f["type"] == "events"
                       for i in f["items"]]  # fmt: skip
    assert console_indices == sorted(set(console_indices))
    # The widget (worker A) got every reply once, in order, and no bot message after the claim.
    replies = [f for f in shopper_frames if f["type"] == "agent_message"]
    assert [f["text"] for f in replies] == [f"reply {i}" for i in range(ROUNDS)]
    shown = [f["event"] for f in shopper_frames if "event" in f]
    assert shown == sorted(set(shown))
    joined = next(f["event"] for f in shopper_frames if f["type"] == "agent_joined")
    assert not [f for f in shopper_frames if f["type"] == "message" and f["event"] > joined]
