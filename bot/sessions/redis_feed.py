"""A conversation's live feed over Redis pub/sub: the append script publishes each batch."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.domain import ConversationId
from bot.errors import SessionStoreError
from bot.sessions.base import NewEvents


async def subscribed(pubsub: PubSub, channel: bytes, timeout_s: float) -> None:
    """Subscribe and wait for the server's confirmation.

    Only after the confirmation is it certain that no later append can be missed.

    Raises:
        redis.exceptions.RedisError: The subscription failed or was not confirmed in time.
    """
    await pubsub.subscribe(channel)
    while True:
        message = await pubsub.get_message(timeout=timeout_s)
        if message is None:
            raise RedisTimeoutError("no confirmation of SUBSCRIBE")
        if message["type"] == "subscribe":
            return


async def feed(cid: ConversationId, pubsub: PubSub) -> AsyncIterator[NewEvents]:
    """The batches published for ``cid`` on a subscribed ``pubsub``, as they come.

    Raises:
        SessionStoreError: The connection broke; what was published meanwhile is lost, so
            resubscribe and read the gap with ``store.events(cid, last_seen + 1)``.
    """
    try:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            payload = json.loads(message["data"])
            yield NewEvents(cid, int(payload["start"]), tuple(payload["events"]))
    except RedisError as exc:
        raise SessionStoreError(
            f"session store: feed of conversation {cid!r:.200} broke: {exc}"
        ) from exc
