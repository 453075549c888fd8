"""Fixtures for the hardening tests: a quick app (scripted NLU, real channels and stores).

The messaging apps' fixtures (fake Telegram and WhatsApp servers on port 0, ``make_bot``)
are the ones tests/channels/messaging uses, imported so both test the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from bot.action_client import ActionHandler, InMemoryActionExecutor
from bot.app import Dialogue, create_app
from bot.composition import retrieval_settings
from bot.config import ROOT, Settings, load_settings
from bot.generation.answerer import AnswerSettings, GroundedAnswerer
from bot.generation.backend import TextGenerator
from bot.knowledge import KnowledgeBase
from bot.observability.metrics import Metrics
from bot.sessions import MemorySessionStore, SessionStore
from tests.channels.messaging.conftest import (  # noqa: F401 - fixtures, used by name
    make_bot,
    telegram_api,
    whatsapp_api,
)
from tests.core.test_pipeline import HashEncoder, ScriptedParser
from tests.generation.test_answerer import PASSAGES

SCRIPT = {
    "hello": ("greet", {}),
    "I want to talk to a person": ("contact_human_agent", {}),
    "where is my order": ("track_order", {}),
    "how many days do I have to return items": ("check_refund_policy", {}),
}


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        ROOT / "config.yml",
        env={"CONCIERGE__POLICY__ANSWER_MIN_SCORE": "0.1", "CONCIERGE__SERVER__API_TOKEN": "t"},
    )


QuickApp = Callable[..., web.Application]


def quick_app(
    settings: Settings,
    *,
    store: SessionStore | None = None,
    actions: dict[str, ActionHandler] | None = None,
    generator: TextGenerator | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """The real application with a scripted NLU, a hash encoder and in-memory actions."""
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
    return create_app(
        settings,
        store=store or MemorySessionStore(),
        parser=ScriptedParser(SCRIPT),
        knowledge=knowledge,
        actions=InMemoryActionExecutor(actions or {}),
        dialogue=Dialogue.from_settings(settings),
        answerer=answerer,
        metrics=metrics,
    )


@pytest.fixture
def client_for(aiohttp_client: Any) -> Callable[..., Any]:
    """``await client_for(app)``: a test client on a real in-process server."""

    async def make(app: web.Application) -> Any:
        return await aiohttp_client(app)

    return make
