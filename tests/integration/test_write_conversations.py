"""Order-change conversations (cancel, return, exchange, modify) end to end over the REST channel.

The stories live in ``tests/conversations/*.yml``: each turn is a shopper message and what the
bot's reply must (not) contain; ``orders`` and ``users`` give the records expected in the shop
store at the end. The action server here is this module's own, on a temporary SQLite shop database,
so the writes never touch ``data/shop`` or the session's shared action server.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import aiohttp
import pytest
import yaml

from actions.shop.sqlite import SQLiteShopBackend
from bot.config import ROOT, load_settings

from .conftest import AppClient, say, start_action_server, stop_action_server, texts

pytestmark = pytest.mark.slow

STORIES_DIR = ROOT / "tests" / "conversations"


def load_stories() -> list[dict[str, Any]]:
    stories: list[dict[str, Any]] = []
    for path in sorted(STORIES_DIR.glob("*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            stories.append({**story, "file": path.name})
    return stories


STORIES = load_stories()


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("write-shop") / "shop.sqlite"


@pytest.fixture(scope="module")
def action_server_url(shop_db: Path) -> Iterator[str]:
    """Overrides the session's action server: this module writes to its own database."""
    process, url = start_action_server(shop_db, shop_db.with_suffix(".log"))
    try:
        yield url
    finally:
        stop_action_server(process)


def stored_record(database: Path, table: Literal["orders", "users"], key: str) -> dict[str, Any]:
    shop = SQLiteShopBackend.open(database)
    try:
        record = shop.raw_record(table, key)
    finally:
        shop.close()
    assert record is not None, key
    return dict(record)


def order_record(database: Path, order_id: str) -> dict[str, Any]:
    return stored_record(database, "orders", order_id)


def check_reply(turn: dict[str, Any], reply: str, where: str) -> None:
    lowered = reply.lower()
    for expected in turn.get("contains", []):
        assert str(expected).lower() in lowered, f"{where}: {expected!r} not in {reply!r}"
    for unexpected in turn.get("not_contains", []):
        assert str(unexpected).lower() not in lowered, f"{where}: {unexpected!r} in {reply!r}"


@pytest.mark.parametrize("story", STORIES, ids=[s["name"] for s in STORIES])
async def test_story(story: dict[str, Any], make_client: AppClient, shop_db: Path) -> None:
    client = await make_client()
    sender = f"story-{story['name']}"
    for number, turn in enumerate(story["turns"], start=1):
        replies = await say(client, sender, str(turn["say"]))
        where = f"{story['file']}:{story['name']} turn {number} ({turn['say']!r})"
        check_reply(turn, texts(replies), where)
        if "button" in turn:
            titles = [b["title"] for r in replies for b in r.get("buttons", [])]
            assert any(turn["button"].lower() in t.lower() for t in titles), (where, titles)
    for table in ("orders", "users"):
        for key, fields in (story.get(table) or {}).items():
            record = stored_record(shop_db, table, key)
            for field, value in fields.items():
                assert record.get(field) == value, f"{story['name']}: {key}.{field}"


async def test_a_cancellation_survives_an_action_server_restart(
    make_client: AppClient, shop_db: Path, tmp_path: Path
) -> None:
    """A second action server on the same database sees the first one's cancellation."""
    client = await make_client()
    sender = "restart"
    await say(client, sender, "I need to cancel order #1801021, I ordered it by mistake")
    confirm = texts(await say(client, sender, "sofia.marquez3074@example.com"))
    assert "#1801021" in confirm
    assert "go ahead" in confirm.lower()
    assert "cancelled" in texts(await say(client, sender, "yes please")).lower()

    process, url = start_action_server(shop_db, tmp_path / "second.log")
    try:
        shop = SQLiteShopBackend.open(shop_db)
        try:
            order = shop.get_order("#1801021")
        finally:
            shop.close()
        assert order is not None
        assert order.status == "cancelled"
        # The new process answers from the same file, not from the JSON it was seeded from.
        base = load_settings(ROOT / "config.yml", env={})
        settings = replace(base, action_server=replace(base.action_server, url=url, embedded=False))
        second = await make_client(settings)
        question = "Hi, can you track order #1801021? my email is sofia.marquez3074@example.com"
        status = texts(await say(second, "after-restart", question))
        assert "cancelled" in status.lower(), status
    finally:
        stop_action_server(process)


async def run_action(url: str, action: str, sender: str, slots: dict[str, Any]) -> str:
    """Calls ``action`` on the action server as the bot does; returns the texts it answers."""
    domain = yaml.safe_load((ROOT / "data" / "domain.yml").read_text(encoding="utf-8"))
    call = {
        "next_action": action,
        "sender_id": sender,
        "version": "3.21.1",
        "domain": domain,
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"text": "yes", "intent": {"name": "affirm"}, "entities": []},
            "events": [],
            "active_loop": {},
        },
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/webhook", json=call) as response,
    ):
        assert response.status == 200, await response.text()
        answer = await response.json()
    return " ".join(r.get("text") or "" for r in answer["responses"])


async def test_a_retried_cancel_call_refunds_once(action_server_url: str, shop_db: Path) -> None:
    """The bot's action client may resend a call that timed out: the order is cancelled once."""
    slots = {
        "customer_id": "ava_patel_1580",
        "order_id": "#9807835",
        "cancel_reason": "no longer needed",
        "confirmed": True,
    }
    for _ in range(2):
        text = await run_action(action_server_url, "action_cancel_order", "retried", slots)
        assert text.startswith("Done"), text  # the replay answers as the first call did
    record = order_record(shop_db, "#9807835")
    assert record["status"] == "cancelled"
    refunds = [p for p in record["payment_history"] if p["transaction_type"] == "refund"]
    assert len(refunds) == 1, record["payment_history"]


async def test_a_refused_write_is_told_in_words(action_server_url: str, shop_db: Path) -> None:
    """A refund to a method the policy does not allow is refused with a sentence, not a code."""
    slots = {
        "customer_id": "sofia_marquez_3074",
        "order_id": "#8118715",
        "item_ids": ["3225493749"],
        "payment_method_id": "credit_card_6396509",  # the order was paid with PayPal
        "confirmed": True,
    }
    text = await run_action(action_server_url, "action_return_items", "refused", slots)
    assert "nothing was changed" in text
    assert "original payment method or a gift card" in text
    assert "payment_method_not_allowed" not in text
    assert "Error" not in text
    assert order_record(shop_db, "#8118715")["status"] == "delivered"


async def test_no_write_without_a_yes(action_server_url: str, shop_db: Path) -> None:
    """The final action changes nothing unless the shopper confirmed."""
    slots = {
        "customer_id": "sofia_marquez_3074",
        "order_id": "#1230083",
        "cancel_reason": "no longer needed",
        "confirmed": None,
    }
    text = await run_action(action_server_url, "action_cancel_order", "unconfirmed", slots)
    assert "nothing was changed" in text
    assert order_record(shop_db, "#1230083")["status"] == "pending"
