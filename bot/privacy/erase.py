"""Erasure: removes a conversation, or every conversation of one shopper, from everywhere.

Where a conversation's data lives, and what erasing it does there:

- the session store: events, metadata, list entry and claimed delivery ids
  (:meth:`SessionStore.delete`), taken under the conversation's turn lock so a turn in
  flight finishes first and cannot write after the erasure;
- the console's database: the handoff queue entry (with an email the shopper left), internal
  notes, CSAT copies, analytics entries and the customer link
  (:meth:`ConsoleStore.erase_conversation`), after the analytics recorder has written what it
  still had queued, so nothing of the conversation is recorded again afterwards;
- caches: the vectors of the shopper's messages in this worker's encoder caches. Other workers'
  caches are bounded LRUs (``nlu.cache_size``) holding vectors, not text, and age them out.

The shop's own records (orders, the account, its addresses) are the shop's business records
and are not touched; the shop store keeps nothing keyed by conversation except idempotency
keys, which are one-way hashes of the conversation id and the change requested.

A shopper is named by a conversation (sender) id or an email address. Their conversations are
found through the identities the bot learnt in them: the ``email`` and ``customer_id`` slots of
every stored conversation, the console's customer links and the emails left on the queue. Each
conversation found adds its identities, until no new conversation turns up. Finding them reads
every conversation in the session store once (an erasure request is rare; the turn path keeps
no extra index for it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.console.store import ConsoleStore
from bot.domain import ConversationId, Event
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)

IDENTITY_SLOTS = ("email", "customer_id")
"""Slots that say who the shopper is; conversations sharing a value belong to one person."""
PAGE = 500
Identity = tuple[str, str]
"""(slot name, normalised value), e.g. ("email", "maya@example.com")."""


@dataclass
class ErasureReport:
    """What an erasure removed, as the JSON answer and the CLI print it."""

    conversations: list[str] = field(default_factory=list)
    """Every conversation erased (also those the session store had already forgotten)."""
    session_store: int = 0
    """Conversations that still had data in the session store."""
    console: dict[str, int] = field(default_factory=dict)
    """Rows deleted from the console's database, per table."""
    cached_texts: int = 0
    """Shopper messages whose vectors were dropped from this worker's encoder caches."""

    @property
    def found(self) -> bool:
        """Whether anything at all was erased."""
        return bool(self.session_store or any(self.console.values()) or self.cached_texts)

    def add(self, other: ErasureReport) -> None:
        self.conversations += other.conversations
        self.session_store += other.session_store
        for table, count in other.console.items():
            self.console[table] = self.console.get(table, 0) + count
        self.cached_texts += other.cached_texts

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversations": list(self.conversations),
            "session_store": self.session_store,
            "console": dict(self.console),
            "cached_texts": self.cached_texts,
        }


def forget_nothing(texts: Sequence[str]) -> int:
    """No cache to drop texts from."""
    return 0


async def nothing_queued() -> None:
    """No analytics recorder to wait for."""
    return None


def identities_in(events: Iterable[Event]) -> set[Identity]:
    """The identity slots set in these events (emails lower-cased)."""
    found: set[Identity] = set()
    for event in events:
        if event.get("event") == "slot" and event.get("name") in IDENTITY_SLOTS:
            value = event.get("value")
            if isinstance(value, str) and value.strip():
                found.add(_identity(str(event["name"]), value))
    return found


def _identity(slot: str, value: str) -> Identity:
    value = value.strip()
    return (slot, value.lower() if slot == "email" else value)


def user_texts(events: Iterable[Event]) -> list[str]:
    """What the shopper wrote in these events (the texts the encoders may have cached)."""
    texts = []
    for event in events:
        if event.get("event") == "user" and isinstance(event.get("text"), str):
            texts.append(event["text"])
    return texts


class Eraser:
    """Erases conversations from the session store, the console's database and caches.

    Args:
        sessions: The session store (the console's recording wrapper is fine: delete passes
            through it).
        console: The console's database; None when the console is off.
        flush_recorder: Waits until the analytics recorder has written what it has queued.
        forget: Drops texts from the encoder caches; returns how many were cached.
        lock_ttl_s, lock_wait_s: The turn lock taken around the session store's delete.
    """

    def __init__(
        self,
        sessions: SessionStore,
        console: ConsoleStore | None = None,
        *,
        flush_recorder: Callable[[], Awaitable[None]] = nothing_queued,
        forget: Callable[[Sequence[str]], int] = forget_nothing,
        lock_ttl_s: float = 30.0,
        lock_wait_s: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._console = console
        self._flush_recorder = flush_recorder
        self._forget = forget
        self._lock_ttl_s = lock_ttl_s
        self._lock_wait_s = lock_wait_s

    async def erase_conversation(self, cid: str) -> ErasureReport:
        """Removes one conversation everywhere; see the module docstring.

        Raises:
            ConversationBusy: A turn held the conversation for all of ``lock_wait_s``.
            SessionStoreError, ConsoleStoreError: A store could not be reached (nothing is
                lost by retrying: every step is idempotent).
        """
        conversation = ConversationId(cid)
        report = ErasureReport(conversations=[cid])
        async with self._sessions.lock(
            conversation, ttl_s=self._lock_ttl_s, wait_s=self._lock_wait_s
        ):
            events = await self._sessions.events(conversation)
            report.session_store = int(await self._sessions.delete(conversation))
        report.cached_texts = self._forget(user_texts(events))
        if self._console is not None:
            await self._flush_recorder()
            report.console = await self._console.erase_conversation(cid)
        log.info(
            "erased conversation %s: session store %d, console rows %d, cached texts %d",
            cid,
            report.session_store,
            sum(report.console.values()),
            report.cached_texts,
            extra={"conversation_id": cid},
        )
        return report

    async def erase_shopper(self, shopper: str) -> ErasureReport:
        """Removes every conversation of the shopper named by a conversation id or an email."""
        report = ErasureReport()
        for cid in await self.conversations_of(shopper):
            report.add(await self.erase_conversation(cid))
        return report

    async def conversations_of(self, shopper: str) -> list[str]:
        """The shopper's conversations (see the module docstring), sorted.

        Args:
            shopper: A conversation (sender) id, e.g. ``telegram:12345``, or an email address.
        """
        shopper = shopper.strip()
        known = await self._identities_by_conversation()
        found: set[str] = set()
        identities: set[Identity] = set()
        if "@" in shopper:
            identities.add(_identity("email", shopper))
        else:
            found.add(shopper)
        while True:
            for cid in found:
                identities |= known.get(cid, set())
                if self._console is not None:
                    customer = await self._console.customer_of(cid)
                    if customer:
                        identities.add(("customer_id", customer))
            more = {cid for cid, ids in known.items() if ids & identities}
            if self._console is not None:
                for slot, value in identities:
                    if slot == "email":
                        more.update(await self._console.conversations_with_email(value))
                    else:
                        linked = await self._console.conversations_of(value, limit=100_000)
                        more.update(cid for cid, _ in linked)
            if more <= found:
                return sorted(found)
            found |= more

    async def _identities_by_conversation(self) -> dict[str, set[Identity]]:
        """Every stored conversation's identities (only those that have any)."""
        known: dict[str, set[Identity]] = {}
        cursor: str | None = None
        while True:
            page, cursor = await self._sessions.list_conversations(cursor=cursor, limit=PAGE)
            for summary in page:
                ids = identities_in(await self._sessions.events(summary.id))
                if ids:
                    known[summary.id] = ids
            if cursor is None:
                return known
