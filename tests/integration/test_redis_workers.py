"""Two bot workers sharing one Redis serve one conversation with one consistent history."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from typing import Any

import pytest

from bot.config import Settings
from bot.domain import ConversationId
from bot.sessions import create_session_store

from .conftest import AppClient, say, texts

pytestmark = [pytest.mark.slow, pytest.mark.redis]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


async def test_two_workers_one_conversation(
    make_client: AppClient, settings: Settings, shop: dict[str, Any]
) -> None:
    prefix = f"concierge-test-{uuid.uuid4().hex[:8]}"
    redis_settings = replace(
        settings, sessions=replace(settings.sessions, url=REDIS_URL, key_prefix=prefix)
    )
    probe = create_session_store(REDIS_URL, ttl_s=60, key_prefix=prefix)
    if not await probe.ping():
        await probe.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}")
    worker_a = await make_client(redis_settings)
    worker_b = await make_client(redis_settings)
    user = next(u for u in shop["users"].values() if len(u["orders"]) > 1)
    order = shop["orders"][user["orders"][0]]
    try:
        assert "email" in texts(await say(worker_a, "shared", "where is my order?")).lower()
        await say(worker_b, "shared", user["email"])  # worker B knows the form is active
        answer = texts(await say(worker_a, "shared", order["order_id"]))
        assert order["order_id"] in answer or order["status"].split()[0] in answer.lower()
        events = await probe.events(ConversationId("shared"))
        user_texts = [e["text"] for e in events if e["event"] == "user"]
        assert user_texts == ["where is my order?", user["email"], order["order_id"]]
    finally:
        await probe.delete(ConversationId("shared"))
        await probe.aclose()
