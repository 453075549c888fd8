"""One Redis pub/sub connection for every feed a process follows.

Each open widget socket (and, later, each agent console) follows its conversation's feed. A
connection per follower would hold a Redis connection per shopper and run into the client's
pool limit (100 by default: the 101st widget was refused); here a worker holds one pub/sub
connection, subscribes to a conversation's channel when its first follower comes and
unsubscribes when its last one leaves, and one reader task hands each published batch to the
followers of its channel.

If the connection breaks, every follower's iterator raises :class:`SessionStoreError` (what
was published meanwhile is lost to them: they resubscribe and read the gap from the store, as
the port says), and the next follower opens a fresh connection.

On a Redis Cluster (``sharded=True``) the feeds are shard channels: the append script
SPUBLISHes on the conversation's own slot, and the hub SSUBSCRIBEs through redis-py's
``ClusterPubSub``, which keeps one connection per node serving a followed slot. When a slot
moves (migration, failover) its node ends the subscription with an unrequested
``sunsubscribe``; what is published before the subscription is back on the new owner is lost,
so that channel's followers get :class:`SessionStoreError` as for a broken connection and
follow again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub
from redis.exceptions import RedisClusterException, RedisError

from bot.domain import ConversationId
from bot.errors import SessionStoreError
from bot.sessions.base import NewEvents
from bot.sessions.redis_client import RedisClient

_Item = NewEvents | SessionStoreError


class FeedHub:
    """Shares one pub/sub connection among the followers of any number of channels.

    Args:
        client: the store's Redis client (connections come from its pool).
        timeout_s: how long a subscription may take to be confirmed.
        describe: the server, for error messages (without credentials).
        sharded: shard channels (SSUBSCRIBE) on a Redis Cluster client.
    """

    def __init__(
        self,
        client: Callable[[], RedisClient],
        timeout_s: float,
        describe: str,
        *,
        sharded: bool = False,
    ) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._describe = describe
        self._sharded = sharded
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._followers: dict[bytes, set[asyncio.Queue[_Item]]] = {}
        self._conversations: dict[bytes, ConversationId] = {}
        self._confirmed: dict[bytes, asyncio.Future[None]] = {}
        # redis-py's PubSub opens its connection inside the first command without a lock:
        # two subscriptions sent at once would each open one, and the confirmation of the
        # connection that is replaced would never be read. Sends are therefore one at a time.
        self._sending = asyncio.Lock()

    @asynccontextmanager
    async def follow(
        self, cid: ConversationId, channel: bytes
    ) -> AsyncIterator[AsyncIterator[NewEvents]]:
        """Follows ``channel``; the subscription is confirmed when the body starts.

        Raises:
            SessionStoreError: Redis could not be reached or did not confirm in time.
        """
        queue: asyncio.Queue[_Item] = asyncio.Queue()  # unbounded: publishing never waits
        self._conversations[channel] = cid
        try:
            await self._add(channel, queue)
        except SessionStoreError:
            self._discard(channel, queue)
            raise
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            self._discard(channel, queue)
            raise SessionStoreError(
                f"session store: subscribe for conversation {cid!r:.200} failed on "
                f"{self._describe}: {str(exc) or type(exc).__name__}"
            ) from exc
        try:
            yield self._drain(queue)
        finally:
            await self._remove(channel, queue)

    async def _add(self, channel: bytes, queue: asyncio.Queue[_Item]) -> None:
        followers = self._followers.setdefault(channel, set())
        followers.add(queue)
        confirmed = self._confirmed.get(channel)
        if confirmed is None:
            confirmed = self._confirmed[channel] = asyncio.get_running_loop().create_future()
            async with self._sending:
                pubsub = self._connection()
                if isinstance(pubsub, ClusterPubSub):
                    await pubsub.ssubscribe(channel)
                else:
                    await pubsub.subscribe(channel)
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read(pubsub))
        await asyncio.wait_for(asyncio.shield(confirmed), self._timeout_s)

    def _discard(self, channel: bytes, queue: asyncio.Queue[_Item]) -> bool:
        """Forgets a follower; True when it was the channel's last one."""
        followers = self._followers.get(channel)
        if followers is None:
            return False
        followers.discard(queue)
        if followers:
            return False
        del self._followers[channel]
        self._conversations.pop(channel, None)
        confirmed = self._confirmed.pop(channel, None)
        if confirmed is not None and not confirmed.done():
            confirmed.cancel()
        return True

    async def _remove(self, channel: bytes, queue: asyncio.Queue[_Item]) -> None:
        pubsub = self._pubsub
        if not self._discard(channel, queue) or pubsub is None:
            return
        # Best effort: a broken connection has forgotten the channel anyway.
        with contextlib.suppress(RedisError, RedisClusterException, OSError):
            async with self._sending:
                if isinstance(pubsub, ClusterPubSub):
                    await pubsub.sunsubscribe(channel)
                else:
                    await pubsub.unsubscribe(channel)

    def _connection(self) -> PubSub:
        if self._pubsub is None:
            pubsub = self._client().pubsub()
            if self._sharded != isinstance(pubsub, ClusterPubSub):
                raise SessionStoreError("session store: sharded feeds need a cluster client")
            self._pubsub = pubsub
        return self._pubsub

    async def _read(self, pubsub: PubSub) -> None:
        """The one reader: confirmations and batches, to the followers of each channel."""
        try:
            while self._pubsub is pubsub:
                if isinstance(pubsub, ClusterPubSub):
                    message = await pubsub.get_sharded_message(timeout=1.0)
                else:
                    message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                channel = message["channel"]
                if message["type"] in ("subscribe", "ssubscribe"):
                    confirmed = self._confirmed.get(channel)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(None)
                elif message["type"] == "sunsubscribe":
                    self._unsubscribed(channel)
                elif message["type"] in ("message", "smessage") and channel in self._followers:
                    payload = json.loads(message["data"])
                    batch = NewEvents(
                        self._conversations[channel],
                        int(payload["start"]),
                        tuple(payload["events"]),
                    )
                    for queue in self._followers[channel]:
                        queue.put_nowait(batch)
        except (RedisError, RedisClusterException, OSError) as exc:
            self._break(pubsub, exc)
        except asyncio.CancelledError:
            raise

    def _unsubscribed(self, channel: bytes) -> None:
        """A shard channel's subscription ended: its slot moved to another node, or this is
        the reply to our own sunsubscribe when the last follower left."""
        confirmed = self._confirmed.get(channel)
        if confirmed is None or not confirmed.done():
            # Nobody follows it, or a new follower's subscription is not confirmed yet: an
            # unsubscribe from before that subscription was sent.
            return
        followers = self._followers.pop(channel, set())
        cid = self._conversations.pop(channel, None)
        del self._confirmed[channel]
        # Their feed has a gap from here until they follow again on the slot's new owner.
        error = SessionStoreError(
            f"session store: the feed of conversation {cid!r:.200} moved to another node of "
            f"{self._describe}"
        )
        # They follow again, which subscribes on the slot's owner; the old subscription is
        # redis-py's to move or drop (ClusterPubSub reconciles shard channels when it learns
        # the new slot map).
        for queue in followers:
            queue.put_nowait(error)

    def _break(self, pubsub: PubSub, exc: BaseException) -> None:
        """Tells every follower the feed broke; the next follower reconnects."""
        if self._pubsub is not pubsub:
            return
        self._pubsub = None
        error = SessionStoreError(f"session store: feed on {self._describe} broke: {exc}")
        for channel, followers in self._followers.items():
            for queue in followers:
                queue.put_nowait(error)
            confirmed = self._confirmed.get(channel)
            if confirmed is not None and not confirmed.done():
                confirmed.set_exception(error)
        self._confirmed.clear()
        asyncio.get_running_loop().create_task(_quietly_close(pubsub))

    @staticmethod
    async def _drain(queue: asyncio.Queue[_Item]) -> AsyncIterator[NewEvents]:
        while True:
            item = await queue.get()
            if isinstance(item, SessionStoreError):
                raise item
            yield item

    async def aclose(self) -> None:
        """Stops the reader and closes the connection (followers see the feed break)."""
        pubsub, reader = self._pubsub, self._reader
        if pubsub is not None:
            self._break(pubsub, ConnectionError("the store was closed"))
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._reader = None


async def _quietly_close(pubsub: PubSub) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()
