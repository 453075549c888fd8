"""An unreachable session store answers 503 with Retry-After, a clear error, and stores nothing.

Found by benchmarks/chaos.py: while Redis restarted or hung, the REST channel answered 503
without Retry-After, so a client could not tell a passing outage from a broken bot.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import ConversationId, Event
from bot.errors import SessionStoreError
from bot.sessions import MemorySessionStore

from .conftest import MakeBot

REST = "/webhooks/rest/webhook"


class DownStore(MemorySessionStore):
    """A store whose appends fail while ``down`` is set, as Redis does while it restarts."""

    down = True

    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        if self.down:
            raise SessionStoreError("session store: append failed: Connection refused")
        return await super().append(cid, events)


async def test_an_unreachable_store_is_a_503_with_retry_after_and_the_retry_runs(
    make_bot: MakeBot,
) -> None:
    store = DownStore()
    bot = await make_bot(store=store)
    body = {"sender": "web-out", "message": "hi", "message_id": "m-1"}
    refused = await bot.client.post(REST, json=body)
    assert refused.status == 503
    assert refused.headers["Retry-After"] == "1"
    assert "session store" in (await refused.json())["error"]
    assert await store.events(ConversationId("web-out")) == []
    store.down = False
    retried = await bot.client.post(REST, json=body)
    assert retried.status == 200
    assert len(await retried.json()) == 1
