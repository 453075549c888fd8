"""Agent assist through the console's API: the passages the knowledge base gives for the
shopper's last question, a suggested reply holding the best passage's fact, worded around it
in the shopper's language, and nothing when the shopper asked nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.action_client import InMemoryActionExecutor
from bot.app import Dialogue, create_app
from bot.composition import retrieval_settings
from bot.config import Settings
from bot.console.service import build_console
from bot.knowledge import KnowledgeBase
from bot.nlu.external import ParseReader
from bot.sessions import MemorySessionStore
from tests.console.helpers import CONSOLE_SCRIPT, AgentClient, add_agent, console_settings
from tests.core.test_pipeline import HashEncoder, ScriptedParser
from tests.generation.test_answerer import PASSAGES
from tests.webchat.conftest import Widget

RETURNS = "how many days do I have to return items"  # in the helpers' script
# Not in the script: read as out_of_scope, still the shopper's question. The test encoder
# (bag of hashed words) ranks the returns passage first for it, as a multilingual one would.
RETURNS_ES = "¿Cuántos días tengo para devolver un artículo?"


def bilingual(settings: Settings) -> web.Application:
    """The helpers' app, its scripted reader taking the widget's language (en or es)."""
    knowledge = KnowledgeBase(PASSAGES, HashEncoder(), settings=retrieval_settings(settings))
    return create_app(
        settings,
        store=MemorySessionStore(),
        reader=ParseReader(ScriptedParser(CONSOLE_SCRIPT), languages=("en", "es")),
        knowledge=knowledge,
        actions=InMemoryActionExecutor({}),
        dialogue=Dialogue.from_settings(settings),
        console=lambda s, sessions, outbound: build_console(s, sessions, outbound),
    )


@pytest.fixture
async def server(aiohttp_server: Any, tmp_path: Path) -> TestServer:
    settings = console_settings(f"sqlite:///{tmp_path / 'console.sqlite'}")
    return await aiohttp_server(bilingual(settings), host="127.0.0.1")  # type: ignore[no-any-return]


@pytest.fixture
async def agent(server: TestServer, tmp_path: Path) -> AsyncIterator[AgentClient]:
    await add_agent(f"sqlite:///{tmp_path / 'console.sqlite'}", "ada@shop.example", "Ada", "admin")
    client = AgentClient(str(server.make_url("/")))
    assert (await client.login("ada@shop.example"))[0] == 200
    yield client
    await client.close()


async def assist_for(
    aiohttp_client: Any, server: TestServer, agent: AgentClient, texts: list[str], locale: str
) -> dict[str, Any]:
    """The assist answer once the shopper, handed off, has written ``texts`` while waiting."""
    widget = await Widget.open(await aiohttp_client(server), locale=locale)
    try:
        await widget.welcome()
        await widget.turn("I want to talk to a person")
        for text in texts:
            await widget.turn(text)
    finally:
        await widget.close()
    _, queue = await agent.get("/console/api/queue")
    (row,) = queue["handoffs"]
    status, body = await agent.get(f"/console/api/conversations/{row['conversation_id']}/assist")
    assert status == 200
    return body  # type: ignore[no-any-return]


async def test_passages_and_suggestion_for_the_shoppers_question(
    aiohttp_client: Any, server: TestServer, agent: AgentClient
) -> None:
    body = await assist_for(aiohttp_client, server, agent, [RETURNS], "en")
    assert body["question"] == RETURNS
    assert body["passages"][0]["id"] == "returns.md#window"
    assert body["passages"][0]["heading"] == "Return window"
    assert "{{" not in body["passages"][0]["text"]  # the shop's name filled in
    suggested = body["suggestion"]
    assert "within 30 days of delivery" in suggested
    assert suggested.startswith("Hi!")
    assert suggested.endswith("Is there anything else I can help with?")


async def test_the_suggestion_is_worded_in_the_shoppers_language(
    aiohttp_client: Any, server: TestServer, agent: AgentClient
) -> None:
    body = await assist_for(aiohttp_client, server, agent, [RETURNS_ES], "es")
    assert body["question"] == RETURNS_ES
    assert body["passages"][0]["id"] == "returns.md#window"
    suggested = body["suggestion"]
    assert suggested.startswith("¡Hola!")
    assert suggested.endswith("¿Hay algo más en lo que pueda ayudarte?")
    # The knowledge base has the policy in English only, so the fact stays in English.
    assert "within 30 days of delivery" in suggested
    assert "Hi" not in suggested
    assert "anything else" not in suggested


async def test_no_question_no_suggestion(
    aiohttp_client: Any, server: TestServer, agent: AgentClient
) -> None:
    widget = await Widget.open(await aiohttp_client(server))
    try:
        welcome, _ = await widget.welcome()
        await widget.turn("/greet")  # a button press: no question typed
    finally:
        await widget.close()
    _, listed = await agent.get("/console/api/queue")
    assert listed["handoffs"] == []
    cid = welcome["conversation_id"]
    status, body = await agent.get(f"/console/api/conversations/{cid}/assist")
    assert status == 200
    assert body == {"question": None, "passages": [], "suggestion": None}
