"""DELETE /conversations/{id} and DELETE /shoppers/{shopper} on the real bot with its console.

Conversations are made by real turns (REST channel, scripted NLU and actions as in the
console's tests), so the analytics recorder, the handoff queue and the customer links are
filled the way they are in production; the erasure must then find and remove all of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.appkeys import STORE
from bot.console.service import CONSOLE
from bot.domain import ConversationId
from bot.sessions import MemorySessionStore
from tests.console.helpers import build, console_settings

REST = "/webhooks/rest/webhook"
AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Any:
    settings = console_settings(
        f"sqlite:///{tmp_path / 'console.sqlite'}",
        env={"CONCIERGE__SERVER__API_TOKEN": "s3cret"},
    )
    return await aiohttp_client(build(settings, MemorySessionStore()))


async def say(client: Any, sender: str, *messages: str) -> None:
    for message in messages:
        answer = await client.post(REST, json={"sender": sender, "message": message})
        assert answer.status == 200, await answer.text()
    await client.app[CONSOLE].sessions.recorder.flush()


async def test_erasing_a_shopper_and_a_conversation_over_http(client: Any) -> None:
    await say(client, "maya-1", "where is my order", "known@example.com",
              "I want to talk to a person")  # fmt: skip
    await say(client, "maya-2", "where is my order", "known@example.com")
    await say(client, "noah", "hello")
    db = client.app[CONSOLE].db
    assert await db.customer_of("maya-2") == "u1"
    assert len(await db.handoffs_of("maya-1")) == 1

    answer = await client.delete("/shoppers/known@example.com", headers=AUTH)
    assert answer.status == 200
    body = await answer.json()
    erased = body["erased"]
    assert body["shopper"] == "known@example.com"
    assert erased["conversations"] == ["maya-1", "maya-2"]
    assert erased["session_store"] == 2
    assert erased["console"]["handoffs"] == 1
    assert erased["console"]["customer_conversations"] == 2
    assert erased["console"]["analytics_events"] >= 4
    for cid in ("maya-1", "maya-2"):
        assert (await client.get(f"/conversations/{cid}", headers=AUTH)).status == 404
        assert await db.handoffs_of(cid) == []
    assert await db.conversations_of("u1") == []
    assert {e.conversation_id for e in await db.events_since(0)} == {"noah"}

    answer = await client.delete("/conversations/noah", headers=AUTH)
    assert answer.status == 200
    body = await answer.json()
    assert body["deleted"] == "noah"
    assert body["erased"]["session_store"] == 1
    assert body["erased"]["console"]["analytics_events"] >= 1
    assert await client.app[STORE].events(ConversationId("noah")) == []
    assert await db.events_since(0) == []
    assert (await client.delete("/conversations/noah", headers=AUTH)).status == 404
    assert (await client.delete("/shoppers/known@example.com", headers=AUTH)).status == 404


async def test_erasure_needs_the_admin_token(
    client: Any, aiohttp_client: Any, tmp_path: Path
) -> None:
    await say(client, "maya-1", "hello")
    for path in ("/conversations/maya-1", "/shoppers/maya-1"):
        assert (await client.delete(path)).status == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await client.delete(path, headers=wrong)).status == 401
    assert len(await client.app[STORE].events(ConversationId("maya-1"))) > 0
    # No token configured: the admin API is off.
    settings = console_settings(f"sqlite:///{tmp_path / 'other.sqlite'}")
    closed = await aiohttp_client(build(settings, MemorySessionStore()))
    assert (await closed.delete("/shoppers/maya-1", headers=AUTH)).status == 403
