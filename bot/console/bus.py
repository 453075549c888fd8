"""The console's bus: queue changes and notes reach every open console on every bot worker,
and which agents are online.

Transcripts do not travel here: a console follows a conversation through the session store's
own feed (``SessionStore.subscribe``), as the widget does. Adapters: :class:`MemoryConsoleBus`
(one process) and :class:`RedisConsoleBus` (one pub/sub connection per process on the session
store's Redis; presence is a sorted set of agent id by expiry time). On a Redis Cluster the bus
is a shard channel (SPUBLISH/SSUBSCRIBE), served by the node that owns its slot.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub
from redis.exceptions import RedisClusterException, RedisError

from bot.errors import SessionStoreError

log = logging.getLogger(__name__)

Message = dict[str, Any]
_MAX_BACKLOG = 1000
"""Messages a slow console may have waiting; past that it is told to reload (``resync``)."""


class ConsoleBus(abc.ABC):
    """Broadcasts small JSON messages to every listener in every worker."""

    @abc.abstractmethod
    async def publish(self, message: Message) -> None:
        """Sends ``message`` to every listener (this worker's included)."""

    @abc.abstractmethod
    def listen(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Message]]:
        """``async with bus.listen() as messages: async for m in messages``; active when the
        body starts. A listener that falls behind gets ``{"type": "resync"}`` once."""

    @abc.abstractmethod
    async def heartbeat(self, agent_id: str, ttl_s: float) -> None:
        """Marks the agent online for ``ttl_s`` seconds."""

    @abc.abstractmethod
    async def offline(self, agent_id: str) -> None:
        """Marks the agent offline now (their last console closed)."""

    @abc.abstractmethod
    async def online(self) -> set[str]:
        """Ids of the agents online now, in any worker."""

    async def aclose(self) -> None:  # noqa: B027 - nothing to release by default
        """Releases connections."""


class _Listeners:
    """This worker's listeners, each with a bounded queue."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Message]] = set()

    def __len__(self) -> int:
        return len(self._queues)

    def deliver(self, message: Message) -> None:
        for queue in self._queues:
            if queue.qsize() < _MAX_BACKLOG:
                queue.put_nowait(message)
            elif queue.qsize() == _MAX_BACKLOG:
                queue.put_nowait({"type": "resync"})

    @asynccontextmanager
    async def added(self) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue()
        self._queues.add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues.discard(queue)


async def _drain(queue: asyncio.Queue[Message]) -> AsyncIterator[Message]:
    while True:
        yield await queue.get()


class MemoryConsoleBus(ConsoleBus):
    """One process: messages go straight to the listeners."""

    def __init__(self) -> None:
        self._listeners = _Listeners()
        self._online: dict[str, float] = {}

    async def publish(self, message: Message) -> None:
        self._listeners.deliver(message)

    def listen(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Message]]:
        return self._listeners.added()

    async def heartbeat(self, agent_id: str, ttl_s: float) -> None:
        self._online[agent_id] = time.time() + ttl_s

    async def offline(self, agent_id: str) -> None:
        self._online.pop(agent_id, None)

    async def online(self) -> set[str]:
        now = time.time()
        return {agent for agent, until in self._online.items() if until > now}


class RedisConsoleBus(ConsoleBus):
    """Across workers, on Redis pub/sub.

    Args:
        url: the Redis URL (the session store's).
        key_prefix: the session store's key prefix; the channel is ``<prefix>:console``.
        cluster: ``url`` is a node of a Redis Cluster (``sessions.cluster``).
    """

    def __init__(self, url: str, *, key_prefix: str = "concierge", cluster: bool = False) -> None:
        self._url = url
        self._cluster = cluster
        self._channel = f"{key_prefix}:console".encode()
        self._presence = f"{key_prefix}:console:online"
        self._client: Redis | RedisCluster | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners = _Listeners()
        self._subscribing = asyncio.Lock()
        self._moved = False

    def _redis(self) -> Redis | RedisCluster:
        if self._client is None:
            kind = RedisCluster if self._cluster else Redis
            self._client = kind.from_url(self._url, socket_timeout=5, socket_connect_timeout=5)
        return self._client

    async def publish(self, message: Message) -> None:
        text = json.dumps(message, ensure_ascii=False)
        try:
            client = self._redis()
            if isinstance(client, RedisCluster):
                await client.spublish(self._channel, text)
            else:
                await client.publish(self._channel, text)
        except (RedisError, RedisClusterException, OSError) as exc:
            raise SessionStoreError(f"console bus: publish failed: {exc}") from exc

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[Message]]:
        async with self._listeners.added() as messages:
            await self._subscribe()
            yield messages

    async def _subscribe(self) -> None:
        async with self._subscribing:
            if self._pubsub is not None and self._reader is not None and not self._reader.done():
                return
            try:
                client = self._redis()
                if isinstance(client, RedisCluster):
                    # Subscription messages are read: an unrequested sunsubscribe says the
                    # channel's slot moved to another node.
                    pubsub: PubSub = client.pubsub()
                    await pubsub.ssubscribe(self._channel)
                else:
                    pubsub = client.pubsub(ignore_subscribe_messages=True)
                    await pubsub.subscribe(self._channel)
            except (RedisError, RedisClusterException, OSError) as exc:
                raise SessionStoreError(f"console bus: subscribe failed: {exc}") from exc
            self._pubsub = pubsub
            self._reader = asyncio.create_task(self._read(pubsub))

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while True:
                if isinstance(pubsub, ClusterPubSub):
                    message = await pubsub.get_sharded_message(timeout=1.0)
                else:
                    message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                kind = message["type"]
                if kind in ("message", "smessage"):
                    self._listeners.deliver(json.loads(message["data"]))
                elif kind == "sunsubscribe" and isinstance(pubsub, ClusterPubSub):
                    # The slot moved (migration, failover): follow it to its new node, then
                    # have the listeners reload what they show, since messages were lost.
                    self._moved = True
                    await pubsub.ssubscribe(self._channel)
                elif kind == "ssubscribe" and self._moved:
                    self._moved = False
                    self._listeners.deliver({"type": "resync"})
        except (RedisError, RedisClusterException, OSError) as exc:
            log.warning("console bus connection broke: %s", exc)
            # Listeners reload what they show; the next listen() resubscribes.
            self._listeners.deliver({"type": "resync"})
            self._pubsub = None
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def heartbeat(self, agent_id: str, ttl_s: float) -> None:
        now = time.time()
        try:
            async with self._redis().pipeline(transaction=True) as pipe:
                pipe.zadd(self._presence, {agent_id: now + ttl_s})
                pipe.zremrangebyscore(self._presence, "-inf", now)
                await pipe.execute()
        except (RedisError, RedisClusterException, OSError) as exc:
            raise SessionStoreError(f"console bus: presence failed: {exc}") from exc

    async def offline(self, agent_id: str) -> None:
        try:
            await self._redis().zrem(self._presence, agent_id)
        except (RedisError, RedisClusterException, OSError) as exc:
            raise SessionStoreError(f"console bus: presence failed: {exc}") from exc

    async def online(self) -> set[str]:
        try:
            members = await self._redis().zrangebyscore(self._presence, time.time(), "+inf")
        except (RedisError, RedisClusterException, OSError) as exc:
            raise SessionStoreError(f"console bus: presence failed: {exc}") from exc
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
