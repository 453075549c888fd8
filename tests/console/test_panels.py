"""The conversation view's side panels and readings, through the real bot: the demo shop's
actions run in process (rasa-sdk's executor, as ``tests/actions/test_action_languages.py``),
so the slots the panel reads are the ones the identity form and the recommender really set.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from actions.base import install_shop_backend
from actions.shop.sqlite import SQLiteShopBackend
from bot.action_inprocess import InProcessActionExecutor
from bot.app import Dialogue, create_app
from bot.composition import retrieval_settings
from bot.config import ROOT, Settings
from bot.console.service import CONSOLE, Console, build_console
from bot.dialogue_state import DialogueState
from bot.knowledge import KnowledgeBase
from bot.nlu.reading import Reading
from bot.sessions import MemorySessionStore, SessionStore
from tests.console.helpers import AgentClient, add_agent, console_settings
from tests.core.test_pipeline import HashEncoder, ScriptedParser, ScriptedReader
from tests.generation.test_answerer import PASSAGES
from tests.webchat.conftest import Widget

SHOP_DIR = ROOT / "data" / "shop"
EMMA = "emma.nguyen9006@example.com"  # emma_nguyen_9006 in data/shop/users.json
SCRIPT = {
    "where is my order": ("track_order", {}),
    EMMA: ("inform", {"email": EMMA}),
    "#4977043": ("inform", {"order_id": "#4977043"}),
    "recommend me something": ("recommend_product", {}),
    "I want to talk to a person": ("contact_human_agent", {}),
    "this is taking forever, where is my order": ("track_order", {}),
}
UPSET = "this is taking forever, where is my order"


class FeelingReader(ScriptedReader):
    """The scripted reading, frustrated for :data:`UPSET` (as the feeling head reads it)."""

    async def read(self, text: str, state: DialogueState, **kwargs: Any) -> Reading:
        reading = await super().read(text, state, **kwargs)
        return dataclasses.replace(reading, feeling="frustrated") if text == UPSET else reading


@pytest.fixture
def shop() -> Iterator[SQLiteShopBackend]:
    """The demo shop for the in-process actions (the console reads its own file copy)."""
    backend = SQLiteShopBackend.from_directory(SHOP_DIR)
    install_shop_backend(backend)
    try:
        yield backend
    finally:
        install_shop_backend(None)
        backend.close()


def shop_settings(tmp_path: Path) -> Settings:
    settings = console_settings(f"sqlite:///{tmp_path / 'console.sqlite'}")
    shop = dataclasses.replace(
        settings.shop_store, database=str(tmp_path / "shop.sqlite"), data_dir=str(SHOP_DIR)
    )
    return dataclasses.replace(settings, shop_store=shop)


def real_app(settings: Settings, store: SessionStore) -> Any:
    knowledge = KnowledgeBase(PASSAGES, HashEncoder(), settings=retrieval_settings(settings))

    def console(s: Settings, sessions: SessionStore, outbound: Any) -> Console:
        return build_console(s, sessions, outbound)

    return create_app(
        settings,
        store=store,
        reader=FeelingReader(ScriptedParser(SCRIPT)),
        knowledge=knowledge,
        actions=InProcessActionExecutor("actions"),
        dialogue=Dialogue.from_settings(settings),
        console=console,
    )


async def turn(widget: Widget, text: str, wait_s: float = 30.0) -> list[dict[str, Any]]:
    """``Widget.turn`` with a longer wait: the shop's actions run in this process, and the
    recommender's first call builds its catalogue index."""
    await widget.say(text)
    frames = []
    async with asyncio.timeout(wait_s):
        while not frames or (frames[-1]["type"], frames[-1].get("on")) != ("typing", False):
            frames.append(await widget.next(wait_s))
    return frames


class Desk:
    """A shopper's widget and a signed-in admin on one real server."""

    def __init__(self, server: TestServer, widget: Widget, agent: AgentClient) -> None:
        self.server, self.widget, self.agent = server, widget, agent

    async def conversation(self) -> dict[str, Any]:
        """The conversation view of the newest handoff in the queue."""
        await self.server.app[CONSOLE].sessions.recorder.flush()
        _, queue = await self.agent.get("/console/api/queue")
        row = max(queue["handoffs"], key=lambda h: h["id"])
        status, detail = await self.agent.get(
            f"/console/api/conversations/{row['conversation_id']}"
        )
        assert status == 200
        return detail  # type: ignore[no-any-return]


@pytest.fixture
async def desk(
    aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, shop: SQLiteShopBackend
) -> AsyncIterator[Desk]:
    settings = shop_settings(tmp_path)
    server = await aiohttp_server(real_app(settings, MemorySessionStore()), host="127.0.0.1")
    await add_agent(settings.console.database, "ada@shop.example", "Ada", role="admin")
    agent = AgentClient(str(server.make_url("/")))
    assert (await agent.login("ada@shop.example"))[0] == 200
    widget = await Widget.open(await aiohttp_client(server))
    await widget.welcome()
    try:
        yield Desk(server, widget, agent)
    finally:
        await widget.close()
        await agent.close()


async def test_customer_panel_of_an_identified_demo_shop_customer(
    desk: Desk, shop: SQLiteShopBackend
) -> None:
    widget = desk.widget
    await turn(widget, "where is my order")
    await turn(widget, EMMA)
    await turn(widget, "#4977043")
    frames = await turn(widget, "recommend me something")
    (cards,) = [f for f in frames if f["type"] == "message" and f.get("cards")]
    await turn(widget, cards["cards"][0]["buttons"][0]["payload"])  # taps "more" on a card
    await turn(widget, "I want to talk to a person")

    panel = (await desk.conversation())["customer"]
    assert (panel["customer_id"], panel["email"]) == ("emma_nguyen_9006", EMMA)
    assert panel["name"] == "Emma Nguyen"  # identified by email: the name is the shop's
    assert panel["channel"] == "webchat"
    # Orders with status, from the shop's database, newest first.
    expected = {o.order_id: o.status for o in shop.list_orders("emma_nguyen_9006")}
    assert {o["order_id"]: o["status"] for o in panel["orders"]} == expected
    assert ("#4977043", "processed") in {(o["order_id"], o["status"]) for o in panel["orders"]}
    placed = [o["placed_on"] for o in panel["orders"] if o["placed_on"]]
    assert placed == sorted(placed, reverse=True)
    # The buying profile the identity form stored: summary and interest tags.
    profile = panel["profile"]
    assert profile["orders"] == len(expected)
    assert profile["interest_tags"], "the demo customer has bought things, so has interests"
    assert profile["summary"]
    # What the recommender showed in this conversation, and the tap on it.
    titles = [c["title"] for c in cards["cards"]]
    assert [r["title"] for r in panel["recommended"]] == titles[:6]
    prices = [c["price"] for c in cards["cards"]]  # the widget's "from $…"
    assert [r["price"] for r in panel["recommended"]] == prices[:6]
    assert all("$" in r["price"] for r in panel["recommended"])
    assert all(r["reason"] for r in panel["recommended"])
    assert panel["clicked"] == 1


async def test_earlier_conversations_of_the_same_customer(desk: Desk, aiohttp_client: Any) -> None:
    await turn(desk.widget, "where is my order")
    await turn(desk.widget, EMMA)
    await desk.server.app[CONSOLE].sessions.recorder.flush()
    first = next(iter(await desk.server.app[CONSOLE].db.conversations_of("emma_nguyen_9006")))[0]
    again = await Widget.open(await aiohttp_client(desk.server))
    await again.welcome()
    try:
        await turn(again, "where is my order")
        await turn(again, EMMA)
        await turn(again, "I want to talk to a person")
        detail = await desk.conversation()
    finally:
        await again.close()
    assert detail["conversation_id"] != first
    assert [e["conversation_id"] for e in detail["customer"]["earlier"]] == [first]


async def test_the_transcript_shows_the_bots_reading_and_the_actions_it_ran(desk: Desk) -> None:
    await turn(desk.widget, UPSET)
    await turn(desk.widget, EMMA)
    await turn(desk.widget, "#4977043")
    await turn(desk.widget, "I want to talk to a person")
    await turn(desk.widget, "hello? still there?")  # waiting: a person will read it
    items = (await desk.conversation())["items"]
    readings = {i["text"]: i["reading"] for i in items if i["kind"] == "user"}
    upset = readings[UPSET]
    assert (upset["intent"], upset["act"], upset["feeling"]) == (
        "track_order", "request", "frustrated"
    )  # fmt: skip
    assert upset["language"] == "en"
    assert (readings[EMMA]["act"], readings[EMMA]["feeling"]) == ("inform", "calm")
    assert readings[EMMA]["entities"] == [{"entity": "email", "value": EMMA}]
    assert readings["hello? still there?"] is None
    ran = [i["name"] for i in items if i["kind"] == "action"]
    assert "validate_order_status_form" in ran
    assert "action_order_status" in ran
    order_shown = next(i for i in items if i["kind"] == "bot" and "#4977043" in i["text"])
    assert items.index(order_shown) > [i.get("name") for i in items].index("action_order_status")


async def test_recommendation_taps_are_counted_in_the_analytics(desk: Desk) -> None:
    frames = await turn(desk.widget, "recommend me something")
    (cards,) = [f for f in frames if f["type"] == "message" and f.get("cards")]
    await turn(desk.widget, cards["cards"][1]["buttons"][0]["payload"])  # a tap on a card
    await turn(desk.widget, "/greet")  # a payload, but no card's
    await desk.server.app[CONSOLE].sessions.recorder.flush()
    status, figures = await desk.agent.get("/console/api/analytics?days=1")
    assert status == 200
    assert figures["recommendations"] == {"shown": 1, "clicks": 1, "click_rate": 1.0}


async def test_assist_greets_a_shopper_identified_by_email_by_name(desk: Desk) -> None:
    await turn(desk.widget, "where is my order")
    await turn(desk.widget, EMMA)
    await turn(desk.widget, "I want to talk to a person")
    await turn(desk.widget, "how many days do I have to return items")  # read by a person
    cid = (await desk.conversation())["conversation_id"]
    status, body = await desk.agent.get(f"/console/api/conversations/{cid}/assist")
    assert status == 200
    assert body["passages"][0]["id"] == "returns.md#window"
    assert body["suggestion"].startswith("Hi Emma! You can return items within 30 days")
