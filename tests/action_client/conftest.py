"""Fixtures for the action-client tests: a scripted action server on port 0 and a fast backoff."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.domain import ConversationId, TrackerView, action_event, slot_event, user_event
from bot.retry import Backoff

from .scripted_server import ScriptedActionServer

ATTEMPTS = 3


@pytest.fixture
async def action_server(aiohttp_server: Any) -> ScriptedActionServer:
    script = ScriptedActionServer()
    app = web.Application()
    app.router.add_post("/webhook", script.webhook)
    app.router.add_get("/health", script.health)
    server: TestServer = await aiohttp_server(app)
    script.url = str(server.make_url("")).rstrip("/")
    return script


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL whose port is bound but not listening, so connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def backoff() -> Backoff:
    return Backoff(attempts=ATTEMPTS, base_s=0.01, factor=2.0, cap_s=0.05, jitter=0.5)


@pytest.fixture
def tracker() -> TrackerView:
    events = [
        action_event("action_session_start"),
        user_event(
            "where is my order 1234?",
            {"intent": {"name": "track_order", "confidence": 0.97}, "entities": []},
            "rest",
        ),
        slot_event("email", "ann@example.com"),
    ]
    return TrackerView.replay(ConversationId("shopper-1"), events, slot_names=["email"])


@pytest.fixture
def domain() -> dict[str, Any]:
    return {"version": "3.1", "intents": ["track_order"], "slots": {"email": {"type": "text"}}}
