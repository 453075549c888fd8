"""The Redis session store, shared by every bot worker (key layout in :mod:`.redis_keys`).

Writes that must be atomic run as Lua scripts on one conversation's keys (one Cluster slot);
the conversation index is updated in a second call right after. Reads and other idempotent
calls are retried on connection errors per the ``retry`` backoff, and so is an append: it
carries a token, and a resend of one that was stored returns its total without storing the
events again (a lost reply would otherwise duplicate the turn's events). A delivery claim is
never retried: a resend would find its own claim and call the delivery a repeat. With
``cluster=True`` the same calls go to a Redis Cluster (:mod:`.redis_client`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.domain import ConversationId, Event, SessionMode
from bot.errors import ConfigError, ConversationBusy, LockLost, SessionStoreError
from bot.retry import NO_RETRY, Backoff, retry
from bot.sessions.base import (
    DEFAULT_TTL_S,
    MAX_DELIVERIES,
    ConversationExport,
    ConversationSummary,
    NewEvents,
    SessionStore,
    check_conversation_id,
    check_delivery_id,
    check_limit,
    check_lock_args,
    check_mode,
    decode_cursor,
    decode_event,
    encode_cursor,
    encode_event,
)
from bot.sessions.redis_client import CLUSTER_TRANSIENT, RedisClient, connect
from bot.sessions.redis_hub import FeedHub
from bot.sessions.redis_index import entries_after
from bot.sessions.redis_keys import (
    ACQUIRE_LUA,
    APPEND_LUA,
    CLAIM_DELIVERY_LUA,
    PRUNE_LUA,
    RELEASE_LUA,
    RENEW_LUA,
    SET_MODE_LUA,
    KeyLayout,
    id_bytes,
    id_from_bytes,
)

T = TypeVar("T")

log = logging.getLogger(__name__)
MAX_CONNECTIONS = 100
"""Redis connections a store (one per worker) opens at most; more concurrent calls wait."""

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})
DEFAULT_RETRY = Backoff(attempts=3, base_s=0.05, factor=4.0, cap_s=1.0, jitter=0.5)
# A cluster's master hands over to its replica in about a second (CLUSTER FAILOVER, or a
# crash once cluster-node-timeout has passed); these tries span about 3 s.
CLUSTER_RETRY = Backoff(attempts=6, base_s=0.1, factor=2.0, cap_s=1.0, jitter=0.5)
CLUSTER_SCHEMES = frozenset({"redis", "rediss"})
# How often a waiting lock tries again; capped low because a turn usually takes under a second.
LOCK_POLL = Backoff(attempts=1, base_s=0.01, factor=1.5, cap_s=0.1, jitter=0.5)
LOCK_LEASE_S = 5.0
"""How long a lock outlives a holder that died: the holder renews it every third of this
while its turn runs (up to the lock's ``ttl_s``), so a killed worker's conversations are free
again within seconds instead of after the whole ``ttl_s`` (benchmarks/chaos.py, worker-kill)."""
TRANSIENT: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    *CLUSTER_TRANSIENT,
)
# Index entries older than the TTL plus this margin are certainly expired; the margin absorbs
# clock differences between workers.
INDEX_PRUNE_MARGIN_S = 60.0


async def _stop_renewing(renewal: asyncio.Task[None], turn_over: asyncio.Event) -> None:
    """Ends a lock's renewal and waits for it (at most the renewal call in flight).

    Told by an event, not by cancelling the task: a cancellation that lands inside a redis-py
    call can be lost, and the renewal then went on to the lock's ttl with the turn waiting
    for it (a 30 s stall, seen by benchmarks/chaos.py and tests/sessions).
    """
    turn_over.set()
    await asyncio.wait([renewal])


def _redact(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)


class RedisSessionStore(SessionStore):
    """Conversations in Redis; connects on first use and never blocks in ``__init__``.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` URL (db and password as redis-py reads
            them); with ``cluster``, a ``redis://`` or ``rediss://`` node of the cluster.
        cluster: The URL is one node of a Redis Cluster; the client finds the others, and
            feeds use sharded pub/sub (SPUBLISH/SSUBSCRIBE) on the conversation's slot.
        ttl_s: Seconds of inactivity after which every key of a conversation expires.
        key_prefix: First part of every key, to share one Redis between deployments.
        retry: Backoff for idempotent calls that fail to connect or time out (a cluster's
            default spans a failover).
        socket_timeout_s: Limit for connecting and for each reply, so a dead server gives
            SessionStoreError instead of a hang.
        clock: Wall-clock source for ``created``/``updated`` (the same number scores the
            index, so listing order and ``updated`` agree).

    Raises:
        ConfigError: The URL scheme or the key prefix is unusable.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        key_prefix: str = "concierge",
        retry: Backoff | None = None,
        socket_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        cluster: bool = False,
        lock_lease_s: float = LOCK_LEASE_S,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in (CLUSTER_SCHEMES if cluster else REDIS_SCHEMES):
            kind = "a Redis Cluster node URL (redis://, rediss://)" if cluster else "a Redis URL"
            raise ConfigError("sessions.url", f"not {kind}: {_redact(url)!r}")
        if cluster and parts.path not in ("", "/", "/0"):
            raise ConfigError("sessions.url", "a Redis Cluster has only db 0")
        if not ttl_s >= 0.001:
            raise ConfigError("sessions.ttl_s", f"must be at least 0.001, got {ttl_s}")
        self._url = url
        self._ttl_ms = int(ttl_s * 1000)
        self._keys = KeyLayout(key_prefix)
        self._cluster = cluster
        self._retry = retry or (CLUSTER_RETRY if cluster else DEFAULT_RETRY)
        self._socket_timeout_s = socket_timeout_s
        self._clock = clock
        self._lock_lease_s = lock_lease_s
        self._client: RedisClient | None = None
        self._hub: FeedHub | None = None
        self._scripts: dict[str, AsyncScript] = {}

    def _redis(self) -> RedisClient:
        if self._client is None:
            # redis-py's own retry is off: it would also repeat delivery claims, and ours is
            # the policy.
            self._client = connect(
                self._url,
                cluster=self._cluster,
                max_connections=MAX_CONNECTIONS,
                timeout_s=self._socket_timeout_s,
            )
        return self._client

    async def _run(
        self,
        what: str,
        cid: str | None,
        operation: Callable[[], Awaitable[T]],
        *,
        idempotent: bool = True,
    ) -> T:
        """Run one Redis call, retrying transient failures, and translate its errors."""
        backoff = self._retry if idempotent else NO_RETRY
        try:
            return await retry(operation, backoff, retry_on=TRANSIENT, describe=f"redis {what}")
        except (RedisError, RedisClusterException) as exc:
            about = f" for conversation {cid!r:.200}" if cid is not None else ""
            raise SessionStoreError(
                f"session store: {what}{about} failed on {_redact(self._url)}: {exc}"
            ) from exc

    async def _script(self, source: str, keys: list[bytes], args: list[Any]) -> Any:
        # EVALSHA first; EVAL only when the server does not know the script yet (restart,
        # failover), which redis-py's Script object handles.
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self._redis().register_script(source)
        return await script(keys=keys, args=args)

    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        cid = check_conversation_id(cid)
        encoded = [encode_event(event) for event in events]
        keys = self._keys.conversation(cid)
        if not encoded:
            return int(await self._run("llen", cid, lambda: self._redis().llen(keys.events)))
        now = self._clock()
        # Every try of this append sends the same token (see APPEND_LUA): retrying is safe.
        token = secrets.token_hex(16)
        publish = "SPUBLISH" if self._cluster else "PUBLISH"
        args: list[Any] = [repr(now), self._ttl_ms, keys.feed, publish, token, *encoded]
        total = await self._run(
            "append",
            cid,
            lambda: self._script(APPEND_LUA, [keys.events, keys.meta, keys.appends], args),
        )
        await self._index(cid, now)
        return int(total)

    async def _index(self, cid: ConversationId, now: float) -> None:
        async def update() -> None:
            async with self._redis().pipeline(transaction=False) as pipe:
                # GT: an entry's score only grows, which keeps cursor paging free of duplicates.
                pipe.zadd(self._keys.index, {id_bytes(cid): now}, gt=True)
                horizon = now - self._ttl_ms / 1000 - INDEX_PRUNE_MARGIN_S
                pipe.zremrangebyscore(self._keys.index, "-inf", f"({horizon!r}")
                await pipe.execute()

        await self._run("index", cid, update)

    async def events(self, cid: ConversationId, start: int = 0) -> list[Event]:
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        key = self._keys.conversation(cid).events
        raw: list[bytes | str] = await self._run(
            "events", cid, lambda: self._redis().lrange(key, start, -1)
        )
        return [decode_event(item) for item in raw]

    async def snapshot(self, cid: ConversationId) -> tuple[list[Event], SessionMode]:
        keys = self._keys.conversation(cid)

        async def read() -> list[Any]:
            # Both keys share the conversation's hash slot: one round trip, also in a cluster.
            async with self._redis().pipeline(transaction=False) as pipe:
                pipe.lrange(keys.events, 0, -1)
                pipe.hget(keys.meta, "mode")
                result: list[Any] = await pipe.execute()
                return result

        raw_events, raw_mode = await self._run("snapshot", cid, read)
        mode: SessionMode = "bot" if raw_mode is None else self._mode(cid, raw_mode)
        return [decode_event(item) for item in raw_events], mode

    async def get_mode(self, cid: ConversationId) -> SessionMode:
        key = self._keys.conversation(cid).meta
        raw: bytes | str | None = await self._run(
            "get_mode", cid, lambda: self._redis().hget(key, "mode")
        )
        return "bot" if raw is None else self._mode(cid, raw)

    def _mode(self, cid: str, raw: bytes | str) -> SessionMode:
        text = raw.decode() if isinstance(raw, bytes) else raw
        if text in ("bot", "human"):
            return check_mode(text)
        raise SessionStoreError(f"session store: conversation {cid!r:.200} has mode {text!r}")

    async def set_mode(self, cid: ConversationId, mode: SessionMode) -> None:
        checked = check_mode(mode)
        cid = check_conversation_id(cid)
        keys = self._keys.conversation(cid)
        now = self._clock()
        args: list[Any] = [repr(now), self._ttl_ms, checked]
        await self._run(
            "set_mode", cid, lambda: self._script(SET_MODE_LUA, [keys.events, keys.meta], args)
        )
        await self._index(cid, now)

    @asynccontextmanager
    async def lock(
        self,
        cid: ConversationId,
        *,
        ttl_s: float,
        wait_s: float,
        raise_on_lost: bool = False,
    ) -> AsyncIterator[None]:
        check_lock_args(ttl_s, wait_s)
        cid = check_conversation_id(cid)
        key = self._keys.conversation(cid).lock
        token = secrets.token_hex(16)
        lease_s = min(ttl_s, self._lock_lease_s)
        args: list[Any] = [token, max(1, int(lease_s * 1000))]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        retries = 0
        while not await self._run("lock", cid, lambda: self._script(ACQUIRE_LUA, [key], args)):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ConversationBusy(cid)
            await asyncio.sleep(min(remaining, LOCK_POLL.delay(retries)))
            retries += 1
        until = loop.time() + ttl_s  # the lock's longest life, renewals included
        turn_over = asyncio.Event()
        renewal = asyncio.create_task(self._renew(cid, key, token, lease_s, until, turn_over))
        try:
            yield
        except BaseException:
            await _stop_renewing(renewal, turn_over)
            await self._release(cid, key, token)
            raise
        await _stop_renewing(renewal, turn_over)
        if not await self._release(cid, key, token) and raise_on_lost:
            raise LockLost(cid)

    async def _renew(
        self,
        cid: ConversationId,
        key: bytes,
        token: str,
        lease_s: float,
        until: float,
        turn_over: asyncio.Event,
    ) -> None:
        """Keeps the lease of a held lock until ``until`` or until ``turn_over`` is set."""
        loop = asyncio.get_running_loop()
        while until - loop.time() > lease_s:
            try:
                async with asyncio.timeout(lease_s / 3):
                    await turn_over.wait()
                return
            except TimeoutError:
                pass  # time to renew
            args: list[Any] = [token, max(1, int(min(lease_s, until - loop.time()) * 1000))]
            try:
                held = await self._run(
                    "renew lock", cid, partial(self._script, RENEW_LUA, [key], args)
                )
            except SessionStoreError as exc:
                log.warning("could not renew lock on conversation %r: %s", cid, exc)
                continue  # the lease may still hold; the next renewal tries again
            if not held:
                return  # expired or taken: the release says so

    async def _release(self, cid: ConversationId, key: bytes, token: str) -> bool:
        try:
            released = await self._run(
                "unlock", cid, lambda: self._script(RELEASE_LUA, [key], [token])
            )
        except SessionStoreError as exc:
            # The lock expires by itself within its ttl; failing the finished turn would not
            # release it any sooner.
            log.warning("could not release lock on conversation %r: %s", cid, exc)
            return False
        if not released:
            log.warning("lock on conversation %r expired or was taken before release", cid)
        return bool(released)

    async def list_conversations(
        self, *, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[ConversationSummary], str | None]:
        check_limit(limit)
        position = decode_cursor(cursor) if cursor is not None else None
        page: list[ConversationSummary] = []
        while True:
            need = limit - len(page)
            # One more than needed tells whether anything follows this page.
            rows = await self._run(
                "list",
                None,
                partial(entries_after, self._redis(), self._keys.index, position, need + 1),
            )
            head = rows[:need]
            page.extend(await self._summaries(head))
            if head:
                position = (head[-1][1], id_from_bytes(head[-1][0]))
            if len(rows) <= need:
                return page, None
            if len(page) == limit:
                assert position is not None  # head was not empty
                return page, encode_cursor(position[0], position[1])
            # Some entries had expired and were pruned: fill the page from further down.

    async def _summaries(self, rows: list[tuple[bytes, float]]) -> list[ConversationSummary]:
        if not rows:
            return []

        async def read() -> list[Any]:
            async with self._redis().pipeline(transaction=False) as pipe:
                for member, _ in rows:
                    keys = self._keys.conversation(id_from_bytes(member))
                    pipe.hgetall(keys.meta)
                    pipe.llen(keys.events)
                return await pipe.execute()

        replies = await self._run("list", None, read)
        summaries = []
        for (member, score), meta, count in zip(rows, replies[::2], replies[1::2], strict=True):
            cid = ConversationId(id_from_bytes(member))
            if not meta:
                # Expired or deleted: drop the stale index entry unless it moved on meanwhile.
                args: list[Any] = [member, repr(score)]
                await self._run(
                    "prune", cid, partial(self._script, PRUNE_LUA, [self._keys.index], args)
                )
                continue
            summaries.append(self._summary(cid, meta, int(count)))
        return summaries

    def _summary(
        self, cid: ConversationId, meta: dict[bytes, bytes], count: int
    ) -> ConversationSummary:
        return ConversationSummary(
            id=cid,
            mode=self._mode(cid, meta.get(b"mode", b"bot")),
            event_count=count,
            created=float(meta[b"created"]),
            updated=float(meta.get(b"updated", meta[b"created"])),
        )

    async def claim_delivery(self, cid: ConversationId, delivery_id: str) -> bool:
        cid = check_conversation_id(cid)
        key = self._keys.conversation(cid).deliveries
        now = self._clock()
        horizon = now - self._ttl_ms / 1000
        args: list[Any] = [repr(horizon), repr(now), self._ttl_ms]
        args += [check_delivery_id(delivery_id).encode("utf-8", "surrogatepass"), MAX_DELIVERIES]
        claim = partial(self._script, CLAIM_DELIVERY_LUA, [key], args)
        return bool(await self._run("claim_delivery", cid, claim, idempotent=False))

    async def release_delivery(self, cid: ConversationId, delivery_id: str) -> None:
        key = self._keys.conversation(cid).deliveries
        member = delivery_id.encode("utf-8", "surrogatepass")
        await self._run("release_delivery", cid, lambda: self._redis().zrem(key, member))

    async def delete(self, cid: ConversationId) -> bool:
        keys = self._keys.conversation(cid)

        async def remove() -> int:
            async with self._redis().pipeline(transaction=False) as pipe:
                pipe.delete(keys.events, keys.meta, keys.deliveries, keys.appends)
                pipe.zrem(self._keys.index, id_bytes(cid))
                deleted, _ = await pipe.execute()
                return int(deleted)

        return await self._run("delete", cid, remove) > 0

    async def export(self, cid: ConversationId) -> ConversationExport | None:
        keys = self._keys.conversation(cid)

        async def read() -> list[Any]:
            # MULTI/EXEC: meta and events from the same instant, never half an append.
            async with self._redis().pipeline(transaction=True) as pipe:
                pipe.hgetall(keys.meta)
                pipe.lrange(keys.events, 0, -1)
                return await pipe.execute()

        meta, raw_events = await self._run("export", cid, read)
        if not meta:
            return None
        summary = self._summary(cid, meta, len(raw_events))
        events = tuple(decode_event(item) for item in raw_events)
        return ConversationExport(cid, summary.mode, summary.created, summary.updated, events)

    async def ttl(self, cid: ConversationId) -> float | None:
        key = self._keys.conversation(cid).meta
        remaining_ms: int = await self._run("ttl", cid, lambda: self._redis().pttl(key))
        # -2: no such key; -1 (no expiry) cannot happen for keys this store wrote.
        return None if remaining_ms < 0 else remaining_ms / 1000

    @asynccontextmanager
    async def subscribe(self, cid: ConversationId) -> AsyncIterator[AsyncIterator[NewEvents]]:
        cid = check_conversation_id(cid)
        # One pub/sub connection serves every follower in this process (redis_hub.py): a
        # connection each would hold one per open widget and hit the pool's limit.
        if self._hub is None:
            self._hub = FeedHub(
                self._redis, self._socket_timeout_s, _redact(self._url), sharded=self._cluster
            )
        async with self._hub.follow(cid, self._keys.conversation(cid).feed) as feed:
            yield feed

    async def ping(self) -> bool:
        try:
            return bool(await self._run("ping", None, lambda: self._redis().ping()))
        except SessionStoreError as exc:
            log.warning("%s", exc)
            return False

    async def aclose(self) -> None:
        hub, self._hub = self._hub, None
        if hub is not None:
            await hub.aclose()
        client, self._client = self._client, None
        self._scripts.clear()
        if client is not None:
            await client.aclose()
