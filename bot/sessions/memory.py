"""The in-process session store: the embedded default when no Redis is configured.

It keeps the same contract as the Redis adapter (JSON round trip, expiry, locks with expiry,
cursor paging, subscriptions) so the bot behaves the same with either; it is only shared by
the tasks of one process. Expired data is dropped lazily, when it is touched or listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.domain import ConversationId, Event, SessionMode
from bot.errors import ConfigError, ConversationBusy, LockLost
from bot.retry import Backoff
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

log = logging.getLogger(__name__)

# How often a waiting lock re-checks the holder's expiry; a release wakes waiters at once.
LOCK_POLL = Backoff(attempts=1, base_s=0.005, factor=2.0, cap_s=0.05, jitter=0.5)


@dataclass(slots=True)
class _Conversation:
    created: float
    updated: float
    expires_at: float
    mode: SessionMode = "bot"
    events: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Deliveries:
    expires_at: float
    seen: dict[str, float] = field(default_factory=dict)
    """Delivery id -> time of its claim, oldest first (dicts keep insertion order)."""


@dataclass(slots=True)
class _Lock:
    token: object
    expires_at: float
    released: asyncio.Event


def _order_key(cid: str) -> bytes:
    # Ties in last-activity time are broken like Redis breaks them: by the id's bytes.
    return cid.encode("utf-8", "surrogatepass")


class MemorySessionStore(SessionStore):
    """Conversations in a dict of this process.

    Args:
        ttl_s: Seconds of inactivity after which a conversation is forgotten.
        clock: Wall-clock time source for ``created``/``updated`` and every expiry (data and
            locks); tests inject a fake one to make time pass.

    Raises:
        ConfigError: ``ttl_s`` is not positive.
    """

    def __init__(
        self, *, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.time
    ) -> None:
        if not ttl_s > 0:
            raise ConfigError("sessions.ttl_s", f"must be > 0, got {ttl_s}")
        self._ttl_s = ttl_s
        self._clock = clock
        self._conversations: dict[ConversationId, _Conversation] = {}
        self._locks: dict[ConversationId, _Lock] = {}
        self._deliveries: dict[ConversationId, _Deliveries] = {}
        self._claims_since_sweep = 0
        self._subscribers: dict[ConversationId, set[asyncio.Queue[NewEvents]]] = {}

    def _live(self, cid: ConversationId) -> _Conversation | None:
        conversation = self._conversations.get(cid)
        if conversation is not None and conversation.expires_at <= self._clock():
            del self._conversations[cid]
            return None
        return conversation

    def _touch(self, cid: ConversationId) -> _Conversation:
        now = self._clock()
        conversation = self._live(cid)
        if conversation is None:
            conversation = _Conversation(created=now, updated=now, expires_at=now)
            self._conversations[cid] = conversation
        conversation.updated = max(conversation.updated, now)
        conversation.expires_at = now + self._ttl_s
        return conversation

    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        cid = check_conversation_id(cid)
        # Encode everything before touching state, so a bad event appends nothing.
        encoded = [encode_event(event) for event in events]
        if not encoded:
            conversation = self._live(cid)
            return 0 if conversation is None else len(conversation.events)
        conversation = self._touch(cid)
        start = len(conversation.events)
        conversation.events.extend(encoded)
        batch = NewEvents(cid, start, tuple(decode_event(raw) for raw in encoded))
        for queue in self._subscribers.get(cid, ()):
            queue.put_nowait(batch)
        return len(conversation.events)

    async def events(self, cid: ConversationId, start: int = 0) -> list[Event]:
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        conversation = self._live(cid)
        if conversation is None:
            return []
        return [decode_event(raw) for raw in conversation.events[start:]]

    async def get_mode(self, cid: ConversationId) -> SessionMode:
        conversation = self._live(cid)
        return "bot" if conversation is None else conversation.mode

    async def set_mode(self, cid: ConversationId, mode: SessionMode) -> None:
        checked = check_mode(mode)
        self._touch(check_conversation_id(cid)).mode = checked

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
        token = object()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        retries = 0
        while True:
            held = self._locks.get(cid)
            if held is None or held.expires_at <= self._clock():
                if held is not None:
                    held.released.set()
                self._locks[cid] = _Lock(token, self._clock() + ttl_s, asyncio.Event())
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ConversationBusy(cid)
            pause = min(remaining, LOCK_POLL.delay(retries))
            retries += 1
            # A release wakes us at once; the timeout re-checks whether the holder expired.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(held.released.wait(), timeout=pause)
        try:
            yield
        except BaseException:
            self._release(cid, token)
            raise
        if not self._release(cid, token) and raise_on_lost:
            raise LockLost(cid)

    def _release(self, cid: ConversationId, token: object) -> bool:
        held = self._locks.get(cid)
        if held is None or held.token is not token:
            log.warning("lock on conversation %r was lost before release", cid)
            return False
        del self._locks[cid]
        held.released.set()
        # An expired lock still blocks no one (acquirers check expiry), but it was lost.
        if held.expires_at <= self._clock():
            log.warning("lock on conversation %r expired before release", cid)
            return False
        return True

    async def list_conversations(
        self, *, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[ConversationSummary], str | None]:
        check_limit(limit)
        for cid in list(self._conversations):
            self._live(cid)  # drops the expired ones
        rows = sorted(
            self._conversations.items(),
            key=lambda item: (item[1].updated, _order_key(item[0])),
            reverse=True,
        )
        if cursor is not None:
            score, member = decode_cursor(cursor)
            after = (score, _order_key(member))
            rows = [row for row in rows if (row[1].updated, _order_key(row[0])) < after]
        page = [
            ConversationSummary(cid, c.mode, len(c.events), c.created, c.updated)
            for cid, c in rows[:limit]
        ]
        if len(rows) <= limit:
            return page, None
        last = page[-1]
        return page, encode_cursor(last.updated, last.id)

    async def claim_delivery(self, cid: ConversationId, delivery_id: str) -> bool:
        cid = check_conversation_id(cid)
        check_delivery_id(delivery_id)
        now = self._clock()
        self._sweep_deliveries(now)
        deliveries = self._deliveries.get(cid)
        if deliveries is None or deliveries.expires_at <= now:
            deliveries = self._deliveries[cid] = _Deliveries(now + self._ttl_s)
        seen = deliveries.seen
        for old, at in list(seen.items()):
            if at + self._ttl_s > now:
                break
            del seen[old]
        deliveries.expires_at = now + self._ttl_s
        if delivery_id in seen:
            return False
        seen[delivery_id] = now
        if len(seen) > MAX_DELIVERIES:
            del seen[next(iter(seen))]
        return True

    async def release_delivery(self, cid: ConversationId, delivery_id: str) -> None:
        deliveries = self._deliveries.get(cid)
        if deliveries is not None:
            deliveries.seen.pop(delivery_id, None)

    def _sweep_deliveries(self, now: float) -> None:
        # Conversations that are never touched again would keep their ids for as long as the
        # process lives; an occasional sweep bounds that without a timer task.
        self._claims_since_sweep += 1
        if self._claims_since_sweep < 1024:
            return
        self._claims_since_sweep = 0
        for cid, deliveries in list(self._deliveries.items()):
            if deliveries.expires_at <= now:
                del self._deliveries[cid]

    async def delete(self, cid: ConversationId) -> bool:
        existed = self._live(cid) is not None
        self._conversations.pop(cid, None)
        deliveries = self._deliveries.pop(cid, None)
        return existed or (deliveries is not None and deliveries.expires_at > self._clock())

    async def export(self, cid: ConversationId) -> ConversationExport | None:
        conversation = self._live(cid)
        if conversation is None:
            return None
        events = tuple(decode_event(raw) for raw in conversation.events)
        return ConversationExport(
            cid, conversation.mode, conversation.created, conversation.updated, events
        )

    async def ttl(self, cid: ConversationId) -> float | None:
        conversation = self._live(cid)
        return None if conversation is None else conversation.expires_at - self._clock()

    @asynccontextmanager
    async def subscribe(self, cid: ConversationId) -> AsyncIterator[AsyncIterator[NewEvents]]:
        # Unbounded on purpose: append must never block on a slow reader; a console that
        # stops reading closes its subscription when its websocket goes.
        queue: asyncio.Queue[NewEvents] = asyncio.Queue()
        subscribers = self._subscribers.setdefault(cid, set())
        subscribers.add(queue)
        try:
            yield _drain(queue)
        finally:
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(cid, None)

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        """Nothing to release; the data stays for as long as the object lives."""


async def _drain(queue: asyncio.Queue[NewEvents]) -> AsyncIterator[NewEvents]:
    while True:
        yield await queue.get()
