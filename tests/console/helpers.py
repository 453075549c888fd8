"""The bot with its console on a real in-process server: scripted NLU and actions (as the
widget's tests), a real console database, and agents made as the CLI makes them."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web

from bot.action_client import InMemoryActionExecutor
from bot.app import Dialogue, create_app
from bot.composition import retrieval_settings
from bot.config import ROOT, Settings, load_settings
from bot.console.auth import hash_password
from bot.console.bus import ConsoleBus
from bot.console.factory import create_console_store
from bot.console.service import Console, build_console
from bot.console.store import AgentId, Role
from bot.knowledge import KnowledgeBase
from bot.sessions import SessionStore
from tests.core.test_pipeline import HashEncoder, ScriptedParser
from tests.generation.test_answerer import PASSAGES
from tests.webchat.conftest import SCRIPT, identify, status

CONSOLE_SCRIPT = {
    **SCRIPT,
    "I want to talk to a person": ("contact_human_agent", {}),
}
PASSWORD = "correct horse battery"


def console_settings(
    database: str, env: Mapping[str, str] | None = None, **console: Any
) -> Settings:
    """Test settings: the console on ``database``, support hours always open."""
    variables = {"CONCIERGE__POLICY__ANSWER_MIN_SCORE": "0.1", **(env or {})}
    base = load_settings(ROOT / "config.yml", env=variables)
    hours = dataclasses.replace(
        base.handoff.hours, days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        open="00:00", close="23:59",
    )  # fmt: skip
    return dataclasses.replace(
        base,
        console=dataclasses.replace(
            base.console, database=database, insecure_localhost_cookie=True, **console
        ),
        handoff=dataclasses.replace(base.handoff, hours=hours),
    )


def build(
    settings: Settings, store: SessionStore, bus: ConsoleBus | None = None
) -> web.Application:
    """The app with the console on ``store``; ``bus`` shared by the "workers" of a test."""
    knowledge = KnowledgeBase(PASSAGES, HashEncoder(), settings=retrieval_settings(settings))

    def console(s: Settings, sessions: SessionStore, outbound: Any) -> Console:
        return build_console(s, sessions, outbound, bus=bus)

    return create_app(
        settings,
        store=store,
        parser=ScriptedParser(CONSOLE_SCRIPT),
        knowledge=knowledge,
        actions=InMemoryActionExecutor(
            {"validate_order_status_form": identify, "action_order_status": status}
        ),
        dialogue=Dialogue.from_settings(settings),
        console=console,
    )


async def add_agent(database: str, email: str, name: str, role: Role = "agent") -> AgentId:
    db = create_console_store(database)
    try:
        agent_id = AgentId(f"a-{name.lower()}")
        await db.add_agent(agent_id, email, name, role, hash_password(PASSWORD), time.time())
        return agent_id
    finally:
        await db.aclose()


class AgentClient:
    """An agent's browser, reduced to its own cookie jar and CSRF token."""

    def __init__(self, base_url: str) -> None:
        self.session = aiohttp.ClientSession(
            base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        self.csrf = ""

    async def login(self, email: str, password: str = PASSWORD) -> tuple[int, Any]:
        status, body = await self.post(
            "/console/api/login", {"email": email, "password": password}, csrf=False
        )
        if status == 200:
            self.csrf = body["csrf"]
        return status, body

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(path) as answer:
            return answer.status, await answer.json()

    async def post(self, path: str, body: Any = None, *, csrf: bool = True) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        async with self.session.post(path, json=body or {}, headers=headers) as answer:
            return answer.status, await answer.json()

    async def close(self) -> None:
        await self.session.close()
