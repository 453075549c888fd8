"""The widget's channel on a real in-process server: scripted NLU and actions, real stores.

Every protocol test runs on the memory store and, with ``store`` parametrised, on the real
Redis (a key prefix per test, removed afterwards), so the store's pub/sub feed is the real one.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio
from aiohttp import ClientWebSocketResponse, WSMsgType, web
from aiohttp.test_utils import TestClient

from bot.action_client import ActionResult, InMemoryActionExecutor
from bot.app import Dialogue, create_app
from bot.composition import retrieval_settings
from bot.config import ROOT, Settings, load_settings
from bot.domain import TrackerView, slot_event
from bot.generation.answerer import AnswerSettings, GroundedAnswerer
from bot.knowledge import KnowledgeBase
from bot.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from tests.core.test_pipeline import HashEncoder, ScriptedParser
from tests.generation.scripted import ScriptedGenerator
from tests.generation.test_answerer import PASSAGES

SCRIPT = {
    "where is my order": ("track_order", {}),
    "known@example.com": ("inform", {"email": "known@example.com"}),
    "#1234567": ("inform", {"order_id": "#1234567"}),
    "how many days do I have to return items": ("check_refund_policy", {}),
    "hello": ("greet", {}),
    "bye": ("goodbye", {}),
    "/greet": ("greet", {}),
}
SOCKET = "/webhooks/webchat/ws"


def identify(tracker: TrackerView, domain: Any) -> ActionResult:
    """validate_order_status_form: known@example.com is a customer; then the order is asked."""
    email = tracker.slots.get("email")
    if email == "known@example.com":
        asked = None if tracker.slots.get("order_id") else "order_id"
        return ActionResult(
            events=(slot_event("customer_id", "u1"), slot_event("requested_slot", asked))
        )
    return ActionResult(events=(slot_event("requested_slot", "email"),))


def status(tracker: TrackerView, domain: Any) -> ActionResult:
    order = tracker.slots["order_id"]
    return ActionResult(
        events=(slot_event("order_id", None),),
        responses=({"text": f"Order {order} is on its way."},),
    )


Factory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def settings() -> Settings:
    return load_settings(ROOT / "config.yml", env={"CONCIERGE__POLICY__ANSWER_MIN_SCORE": "0.1"})


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    """A memory store, or a Redis one under a key prefix of its own (cleaned up)."""
    if request.param == "memory":
        yield MemorySessionStore()
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"concierge-widget-test-{uuid.uuid4().hex[:10]}"
    redis_store = RedisSessionStore(url, key_prefix=prefix)
    request.node.redis_prefix = (url, prefix)
    try:
        yield redis_store
    finally:
        await redis_store.aclose()
        client = redis.asyncio.Redis.from_url(url)
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
        await client.aclose()


def other_worker(request: pytest.FixtureRequest, store: SessionStore) -> SessionStore:
    """The same conversations through another connection (another bot worker, the console)."""
    if isinstance(store, MemorySessionStore):
        return store
    url, prefix = request.node.redis_prefix
    return RedisSessionStore(url, key_prefix=prefix)


def build(
    settings: Settings, store: SessionStore, generator: ScriptedGenerator | None = None
) -> web.Application:
    knowledge = KnowledgeBase(PASSAGES, HashEncoder(), settings=retrieval_settings(settings))
    answerer = None
    if generator is not None:
        answerer = GroundedAnswerer(
            knowledge,
            generator,
            shop_name=settings.shop.name,
            placeholders=settings.shop.placeholders(),
            settings=AnswerSettings(min_similarity=0.1),
        )
    actions = InMemoryActionExecutor(
        {"validate_order_status_form": identify, "action_order_status": status}
    )
    return create_app(
        settings,
        store=store,
        parser=ScriptedParser(SCRIPT),
        knowledge=knowledge,
        actions=actions,
        dialogue=Dialogue.from_settings(settings),
        answerer=answerer,
    )


@pytest.fixture
def make_client(aiohttp_client: Any, settings: Settings, store: SessionStore) -> Factory:
    async def make(
        *, generator: ScriptedGenerator | None = None, **widget: Any
    ) -> TestClient[Any, Any]:
        configured = replace(settings, widget=replace(settings.widget, **widget))
        client: TestClient[Any, Any] = await aiohttp_client(build(configured, store, generator))
        return client

    return make


def own_origin(client: TestClient[Any, Any]) -> str:
    return str(client.make_url("/")).rstrip("/")


class Widget:
    """A test double of the widget script: speaks the protocol over a real socket."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def open(
        cls, client: TestClient[Any, Any], origin: str | None = None, **hello: Any
    ) -> Widget:
        headers = {"Origin": origin or own_origin(client)}
        widget = cls(await client.ws_connect(SOCKET, headers=headers))
        await widget.send({"type": "hello", "locale": "en", **hello})
        return widget

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def say(self, text: str, cmid: str | None = None) -> str:
        cmid = cmid or uuid.uuid4().hex
        await self.send({"type": "message", "client_message_id": cmid, "text": text})
        return cmid

    async def next(self, wait_s: float = 5.0) -> dict[str, Any]:
        message = await self.ws.receive(timeout=wait_s)
        if message.type != WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {message.type} {message.data!r}")
        frame: dict[str, Any] = json.loads(message.data)
        self.frames.append(frame)
        return frame

    async def until(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        """Frames up to and including the first of ``kind`` whose fields match (5 s at most)."""
        seen = []
        async with asyncio.timeout(5):
            while True:
                frame = await self.next()
                seen.append(frame)
                if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                    return seen

    async def turn(self, text: str) -> list[dict[str, Any]]:
        """Sends a message and returns every frame up to the end of its turn."""
        await self.say(text)
        return await self.until("typing", on=False)

    async def welcome(self) -> tuple[dict[str, Any], dict[str, Any]]:
        welcome = await self.next()
        history = await self.next()
        assert welcome["type"] == "welcome"
        assert history["type"] == "history"
        return welcome, history

    async def close(self) -> None:
        await self.ws.close()
