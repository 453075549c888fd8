"""The session store port: what the bot needs from wherever conversations are kept.

Every conversation is an append-only list of Rasa tracker events plus a little metadata (created
and last-activity time, and the mode: the bot answers or a human agent does). Adapters store
events as JSON text, so what comes back is what the JSON round trip gives (tuples become lists)
and both adapters behave alike; one contract test suite (``tests/sessions``) holds them to it.
"""

from __future__ import annotations

import abc
import base64
import binascii
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, get_args

from bot.domain import ConversationId, Event, SessionMode
from bot.errors import BadRequest

DEFAULT_TTL_S = 7 * 24 * 3600.0
MAX_PAGE = 1000
SESSION_MODES: frozenset[str] = frozenset(get_args(SessionMode))
MAX_DELIVERIES = 1000
"""Delivery ids remembered per conversation (:meth:`SessionStore.claim_delivery`)."""
MAX_DELIVERY_ID_CHARS = 256


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One row of the conversation list (agent console, admin)."""

    id: ConversationId
    mode: SessionMode
    event_count: int
    created: float
    """Unix time of the first write."""
    updated: float
    """Unix time of the last append or mode change."""

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict."""
        return {
            "id": self.id,
            "mode": self.mode,
            "event_count": self.event_count,
            "created": self.created,
            "updated": self.updated,
        }


@dataclass(frozen=True, slots=True)
class ConversationExport:
    """Everything stored about one conversation, for a shopper's data-access request."""

    id: ConversationId
    mode: SessionMode
    created: float
    updated: float
    events: tuple[Event, ...]

    def to_dict(self) -> dict[str, Any]:
        """The export as a JSON-ready dict."""
        return {
            "id": self.id,
            "mode": self.mode,
            "created": self.created,
            "updated": self.updated,
            "events": list(self.events),
        }


@dataclass(frozen=True, slots=True)
class NewEvents:
    """Events one append added, as delivered to subscribers.

    ``start`` is the index of ``events[0]`` in the conversation, so a subscriber that missed a
    batch (e.g. after reconnecting) can notice the gap and fill it with ``store.events(cid, n)``.
    """

    conversation_id: ConversationId
    start: int
    events: tuple[Event, ...]


class SessionStore(abc.ABC):
    """Where conversations live; any number of bot workers may share one store.

    Adapters: :class:`bot.sessions.memory.MemorySessionStore` (one process, the embedded
    default) and :class:`bot.sessions.redis_store.RedisSessionStore` (shared by workers).
    Every key of a conversation expires ``ttl_s`` after its last append or mode change.
    """

    @abc.abstractmethod
    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        """Append ``events`` atomically, in order, after whatever is stored.

        Creates the conversation (mode "bot") if it is new, moves its ``updated`` time forward,
        refreshes the expiry of all its data and notifies subscribers. An empty ``events``
        writes nothing.

        Args:
            cid: The conversation.
            events: JSON-serialisable Rasa event dicts.

        Returns:
            The conversation's total number of events after the append.

        Raises:
            BadRequest: ``cid`` is empty.
            TypeError, ValueError: an event is not JSON-serialisable (NaN included).
            SessionStoreError: the store could not be reached; nothing was appended unless
                the failure came after the write (the append is never retried, so it is
                never duplicated).
        """

    @abc.abstractmethod
    async def events(self, cid: ConversationId, start: int = 0) -> list[Event]:
        """The conversation's events from index ``start`` on; [] for an unknown conversation."""

    async def snapshot(self, cid: ConversationId) -> tuple[list[Event], SessionMode]:
        """The conversation's events and mode together, as a turn reads them.

        Adapters that can fetch both in one round trip override this.
        """
        return await self.events(cid), await self.get_mode(cid)

    @abc.abstractmethod
    async def get_mode(self, cid: ConversationId) -> SessionMode:
        """Who answers the conversation: "bot" (also for unknown ones) or "human"."""

    @abc.abstractmethod
    async def set_mode(self, cid: ConversationId, mode: SessionMode) -> None:
        """Hand the conversation to a human or back to the bot.

        Counts as activity: creates the conversation if new, moves ``updated`` and refreshes
        the expiry like :meth:`append`.

        Raises:
            BadRequest: ``mode`` is not "bot" or "human", or ``cid`` is empty.
        """

    @abc.abstractmethod
    def lock(
        self,
        cid: ConversationId,
        *,
        ttl_s: float,
        wait_s: float,
        raise_on_lost: bool = False,
    ) -> AbstractAsyncContextManager[None]:
        """Hold the conversation for one turn, excluding every other holder in every worker.

        Usage: ``async with store.lock(cid, ttl_s=30, wait_s=5): ...``. The lock expires by
        itself ``ttl_s`` after it was taken, so a crashed worker cannot block a conversation
        for longer than that; a turn that runs longer loses it.

        Losing the lock is logged as a warning and, by default, not raised: the turn's events
        were appended atomically anyway, and failing the turn after its answer was computed
        would only hide that answer from the shopper. Pass ``raise_on_lost=True`` to get
        :class:`~bot.errors.LockLost` (only when the body itself did not raise).

        Args:
            cid: The conversation.
            ttl_s: How long the lock lives at most, in seconds (> 0).
            wait_s: How long to wait for another holder to release it (>= 0).
            raise_on_lost: Raise LockLost at release if the lock had expired or was taken.

        Raises:
            ConversationBusy: Another holder kept the lock for all of ``wait_s``.
            LockLost: Only with ``raise_on_lost=True``, see above.
        """

    @abc.abstractmethod
    async def list_conversations(
        self, *, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[ConversationSummary], str | None]:
        """A page of conversations, most recently active first.

        Pass the returned cursor to get the next page; it is None after the last page. A
        conversation appears at most once while paging; one that becomes active during the
        walk moves ahead of the cursor and is not repeated (the next walk shows it first).

        Args:
            cursor: An opaque cursor from a previous call, or None for the first page.
            limit: Most summaries per page, 1 to 1000.

        Raises:
            BadRequest: The cursor is malformed or ``limit`` is out of range.
        """

    @abc.abstractmethod
    async def claim_delivery(self, cid: ConversationId, delivery_id: str) -> bool:
        """True the first time this id is seen for this conversation within the store's TTL.

        A message that runs a turn is not claimed: its id is stored on the user event and
        checked under the turn's lock (bot/deliveries.py), since a claim written before the
        turn can make an unhandled message look handled. Telegram and WhatsApp claim only a
        delivery that a notice alone answers (a sticker, an edit, an expired button), which
        stores nothing, so that a redelivery does not repeat the notice
        (``bot.channels.messaging.first_notice``). The claim is atomic: of concurrent claims
        of one id, in any number of workers, exactly one wins.

        An id is remembered for ``ttl_s`` after its first claim, and at most the newest
        :data:`MAX_DELIVERIES` ids of a conversation are (older ones are forgotten first), so
        memory stays bounded. Claims are not conversation activity: they neither create the
        conversation nor move its ``updated`` time. :meth:`delete` forgets them.

        A failed store call is never retried here: a retry after a reply lost on the wire
        would find its own claim and report a repeat, dropping the message; the caller answers
        with an error instead and the platform delivers again.

        Raises:
            BadRequest: ``cid`` or ``delivery_id`` is empty, or the id is longer than
                :data:`MAX_DELIVERY_ID_CHARS`.
            SessionStoreError: The store could not be reached.
        """

    @abc.abstractmethod
    async def release_delivery(self, cid: ConversationId, delivery_id: str) -> None:
        """Forget a claim whose handling failed before anything was stored.

        No channel calls it any more (a turn's message is no longer claimed); it is kept for
        the store's contract and its tests. Releasing an id that is not claimed does nothing.

        Raises:
            SessionStoreError: The store could not be reached.
        """

    @abc.abstractmethod
    async def delete(self, cid: ConversationId) -> bool:
        """Erase the conversation's events, metadata, list entry and claimed delivery ids.

        A lock held on it is left to expire by itself (it holds no personal data and taking
        it away would let a second turn run beside the one in flight).

        Returns:
            True if there was anything to delete.
        """

    @abc.abstractmethod
    async def export(self, cid: ConversationId) -> ConversationExport | None:
        """Everything stored about the conversation, read consistently; None if unknown."""

    @abc.abstractmethod
    async def ttl(self, cid: ConversationId) -> float | None:
        """Seconds until the conversation expires unless it is active again; None if unknown."""

    @abc.abstractmethod
    def subscribe(
        self, cid: ConversationId
    ) -> AbstractAsyncContextManager[AsyncIterator[NewEvents]]:
        """Follow the events appended to a conversation by any worker from now on.

        Usage: ``async with store.subscribe(cid) as feed: async for batch in feed: ...``.
        The subscription is active when the ``async with`` body starts, so nothing appended
        after that is missed while the connection holds.

        Raises:
            SessionStoreError: The store could not be reached (also from the iterator when
                the connection drops; resubscribe and fill the gap with :meth:`events`).
        """

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True if the store answers (readiness probe); never raises for an unreachable store."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release connections; the store reconnects if it is used again."""


def check_conversation_id(cid: str) -> ConversationId:
    """Reject ids the store cannot key by (only the empty one).

    Raises:
        BadRequest: ``cid`` is empty.
    """
    if not cid:
        raise BadRequest("conversation id must not be empty")
    return ConversationId(cid)


def check_delivery_id(delivery_id: str) -> str:
    """Validate a platform's delivery id.

    Raises:
        BadRequest: The id is empty or longer than :data:`MAX_DELIVERY_ID_CHARS`.
    """
    if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID_CHARS:
        raise BadRequest(f"delivery id must be 1 to {MAX_DELIVERY_ID_CHARS} characters")
    return delivery_id


def check_mode(mode: str) -> SessionMode:
    """Validate a mode given by a caller.

    Raises:
        BadRequest: ``mode`` is not a SessionMode.
    """
    if mode == "bot":
        return "bot"
    if mode == "human":
        return "human"
    raise BadRequest(f"session mode must be one of {sorted(SESSION_MODES)}, got {mode!r}")


def check_lock_args(ttl_s: float, wait_s: float) -> None:
    """Validate lock timings (programming errors, hence ValueError)."""
    if not ttl_s > 0:
        raise ValueError(f"lock ttl_s must be > 0, got {ttl_s}")
    if not wait_s >= 0:
        raise ValueError(f"lock wait_s must be >= 0, got {wait_s}")


def check_limit(limit: int) -> int:
    """Validate a page size.

    Raises:
        BadRequest: ``limit`` is outside 1..MAX_PAGE.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    return limit


def encode_event(event: Event) -> str:
    """One event as compact, strict JSON.

    ASCII-only on purpose: lone surrogates (valid in JSON strings from clients) would not
    survive UTF-8 encoding on the way to Redis, while ``\\uXXXX`` escapes always do.
    """
    return json.dumps(event, separators=(",", ":"), allow_nan=False)


def decode_event(raw: str | bytes) -> Event:
    """Inverse of :func:`encode_event`."""
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"stored event is not an object: {value!r:.80}")
    return value


def encode_cursor(score: float, member: str) -> str:
    """An opaque, URL-safe cursor for the position (last-activity time, conversation id)."""
    raw = json.dumps([score, member]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """Inverse of :func:`encode_cursor`.

    Raises:
        BadRequest: The cursor was not made by :func:`encode_cursor`.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        score, member = json.loads(raw)
        if isinstance(score, int | float) and isinstance(member, str):
            return float(score), member
    except (binascii.Error, ValueError, TypeError):
        pass
    raise BadRequest(f"invalid cursor {cursor!r:.80}")
