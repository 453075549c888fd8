"""Fixtures for the messaging channels: platform servers on port 0 and a quick bot app.

The quick app is the real application (``create_app``: real channels, real pipeline, real
session store) with a scripted NLU and no action server, so the webhook mechanics run in
milliseconds; ``test_end_to_end.py`` runs whole flows on the real NLU and action server.
The pipeline is wrapped to record what reached it (``Bot.turns``).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.action_client import InMemoryActionExecutor
from bot.app import Dialogue, create_app
from bot.appkeys import PIPELINE, TURNS
from bot.channels.settings import ChannelsConfig, TelegramConfig, WhatsAppConfig
from bot.composition import retrieval_settings
from bot.config import ROOT, Settings, load_settings
from bot.domain import BotMessage, IncomingMessage
from bot.knowledge import KnowledgeBase, Passage
from bot.nlu.interpreter import parse_payload
from bot.pipeline import Pipeline
from bot.sessions import MemorySessionStore, RedisSessionStore, SessionStore

from .fake_platforms import FakeTelegram, FakeWhatsApp
from .payloads import PHONE_NUMBER_ID, signed

BOT_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET_TOKEN = "s3cr3t-Token_1"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBA-test"
APP_SECRET = "6f1c0e0b5d7a4c2e9f8a1b3c5d7e9f0a"
VERIFY_TOKEN = "concierge-verify-1"


class HashEncoder:
    """A deterministic bag-of-words encoder, enough for a one-passage knowledge base."""

    dimension = 32

    def encode(self, texts: Sequence[str]) -> Any:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.encode(), digest_size=2).digest()
                out[row, int.from_bytes(digest) % self.dimension] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out


class ScriptedParser:
    """Button payloads as the real NLU reads them; "hi" is a greeting; the rest out of scope."""

    async def parse(self, text: str, *, requested_slot: str | None = None) -> Any:
        payload = parse_payload(text)
        if payload is not None:
            return payload
        intent = "greet" if text.lower().strip("!. ") in ("hi", "hello") else "out_of_scope"
        return {
            "text": text,
            "intent": {"name": intent, "confidence": 0.95 if intent == "greet" else 0.1},
            "intent_ranking": [],
            "entities": [],
        }


class RecordingPipeline:
    """The real pipeline, recording each message whose turn ran and optionally slowed down.

    ``received`` holds the messages the pipeline took as new (a redelivery of a stored one is
    not there); ``given`` holds every message it was handed.
    """

    def __init__(self, inner: Pipeline) -> None:
        self.inner = inner
        self.received: list[IncomingMessage] = []
        self.given: list[IncomingMessage] = []
        self.delay_s = 0.0
        self.started = asyncio.Event()

    async def handle(
        self,
        message: IncomingMessage,
        *,
        taken: Callable[[], Awaitable[None]] | None = None,
        **kwargs: Any,
    ) -> list[BotMessage]:
        self.given.append(message)
        self.started.set()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)

        async def record() -> None:
            self.received.append(message)
            if taken is not None:
                await taken()

        return await self.inner.handle(message, taken=record, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def channel_settings(
    base: Settings, telegram_url: str, whatsapp_url: str, **overrides: Any
) -> Settings:
    """Both channels on, pointed at the fake platforms, with quick retries."""
    channels = ChannelsConfig(
        telegram=TelegramConfig(
            enabled=True,
            bot_token=BOT_TOKEN,
            secret_token=SECRET_TOKEN,
            api_base_url=telegram_url,
        ),
        whatsapp=WhatsAppConfig(
            enabled=True,
            access_token=ACCESS_TOKEN,
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            api_base_url=whatsapp_url,
        ),
        **{"send_timeout_s": 2.0, "send_attempts": 3, "send_backoff_base_s": 0.01, **overrides},
    )
    return replace(base, channels=channels)


@dataclass
class Bot:
    client: TestClient[Any, Any]
    app: web.Application
    store: SessionStore
    turns: RecordingPipeline
    telegram: FakeTelegram
    whatsapp: FakeWhatsApp
    extra: dict[str, Any] = field(default_factory=dict)

    async def telegram_update(
        self, update: dict[str, Any], *, secret: str | None = SECRET_TOKEN
    ) -> int:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        response = await self.client.post(
            "/webhooks/telegram/webhook", json=update, headers=headers
        )
        return response.status

    async def whatsapp_delivery(
        self, body: dict[str, Any], *, secret: str | None = APP_SECRET
    ) -> int:
        raw, headers = signed(body, secret or "unused")
        if secret is None:
            del headers["X-Hub-Signature-256"]
        response = await self.client.post("/webhooks/whatsapp/webhook", data=raw, headers=headers)
        return response.status

    async def settle(self) -> None:
        """Waits until every queued turn ran and its replies were sent."""
        await asyncio.wait_for(self.app[TURNS].join(), 20)

    async def stats(self) -> dict[str, Any]:
        response = await self.client.get("/stats")
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result


MakeBot = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(BOT_TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def whatsapp_api() -> AsyncIterator[FakeWhatsApp]:
    server = FakeWhatsApp(PHONE_NUMBER_ID, ACCESS_TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def quick_app(settings: Settings, store: SessionStore) -> web.Application:
    passage = Passage(
        id="shipping.md#time",
        source="shipping.md",
        title="Shipping",
        heading="Delivery time",
        text="Standard shipping takes 3 to 5 business days.",
        questions=("how long does shipping take?",),
    )
    knowledge = KnowledgeBase([passage], HashEncoder(), settings=retrieval_settings(settings))
    return create_app(
        settings,
        store=store,
        parser=ScriptedParser(),
        knowledge=knowledge,
        actions=InMemoryActionExecutor({}),
        dialogue=Dialogue.from_settings(settings),
    )


@pytest.fixture
def make_bot(
    aiohttp_client: Any, telegram_api: FakeTelegram, whatsapp_api: FakeWhatsApp
) -> MakeBot:
    async def make(
        *,
        store: SessionStore | None = None,
        edit: Callable[[Settings], Settings] = lambda s: s,
        **overrides: Any,
    ) -> Bot:
        """The quick app; ``overrides`` go to ``channels:``, ``edit`` may change the rest."""
        base = edit(load_settings(ROOT / "config.yml", env={}))
        settings = channel_settings(base, telegram_api.url, whatsapp_api.url, **overrides)
        store = store or MemorySessionStore()
        app = quick_app(settings, store)
        recorder = RecordingPipeline(app[PIPELINE])
        app[PIPELINE] = recorder  # type: ignore[misc]
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return Bot(client, app, store, recorder, telegram_api, whatsapp_api)

    return make


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[Callable[[], RedisSessionStore]]:
    """Stores on one Redis prefix (one per bot worker); the prefix is deleted afterwards."""
    prefix = f"concierge-test-{uuid.uuid4().hex}"
    made: list[RedisSessionStore] = []

    def make() -> RedisSessionStore:
        store = RedisSessionStore(redis_url, key_prefix=prefix, ttl_s=600)
        made.append(store)
        return store

    try:
        yield make
    finally:
        for store in made:
            await store.aclose()
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=500)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
