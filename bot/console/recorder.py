"""The analytics log, written from what conversations store.

:class:`RecordingSessionStore` wraps the session store: every append passes through unchanged
and, after it is stored, its events are read into the console's database in a background task
(the turn never waits for the analytics, and a database hiccup never fails a turn). So every
channel's conversations are counted the same way, CSAT answers from the widget are copied
before their conversation expires, and a waiting shopper's email reaches the queue.

Shopper text kept here outlives the conversation, so it is redacted first
(:mod:`bot.privacy.redact`): the unanswered questions and CSAT comments hold ``[email]``,
``[phone]``, ``[card]`` and ``[address]`` instead. The email a waiting shopper leaves on the
queue is kept as written: it is how the team replies (erasure and retention remove it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager

from bot.console.store import AgentId, AnalyticsEvent, ConsoleStore, CsatCopy
from bot.console.triggers import email_in
from bot.domain import ConversationId, Event, SessionMode
from bot.errors import ConciergeError
from bot.privacy.redact import redact
from bot.sessions.base import ConversationExport, ConversationSummary, NewEvents, SessionStore

log = logging.getLogger(__name__)

MAX_BACKLOG = 10_000
"""Appends waiting to be recorded; past that they are dropped (and logged), never blocking."""
_NO_ANSWER = "the model found no answer in the passages"


def _user_text(event: Event) -> str:
    metadata = event.get("metadata") or {}
    shown = metadata.get("display_text")
    return str(shown or event.get("text") or "")


def analytics_of(cid: str, start: int, events: Sequence[Event], now: float) -> list[AnalyticsEvent]:
    """The log entries one append makes (pure; :class:`Recorder` adds the database's part)."""
    out: list[AnalyticsEvent] = []
    if start == 0 and events:
        out.append(AnalyticsEvent("conversation", cid, now))
    last_user = ""
    for event in events:
        kind = event.get("event")
        metadata = event.get("metadata") or {}
        at = float(event.get("timestamp") or now)
        if kind == "user":
            last_user = _user_text(event)
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent:
                reading = (event.get("parse_data") or {}).get("reading") or {}
                data = {"intent": intent, "channel": event.get("input_channel")}
                if reading.get("language"):
                    data["language"] = reading["language"]
                out.append(AnalyticsEvent("user", cid, at, data))
        elif kind == "bot":
            if metadata.get("handoff_reason"):
                out.append(
                    AnalyticsEvent("handoff", cid, at, {"reason": metadata["handoff_reason"]})
                )
            if metadata.get("fallback") or metadata.get("fallback_reason") == _NO_ANSWER:
                out.append(AnalyticsEvent("unanswered", cid, at, {"text": redact(last_user)[:300]}))
            custom = (event.get("data") or {}).get("custom") or {}
            if isinstance(custom, dict) and custom.get("type") == "product_cards":
                out.append(AnalyticsEvent("recommendation_shown", cid, at,
                                          {"count": len(custom.get("cards") or ())}))  # fmt: skip
        elif kind == "agent_message":
            agent = event.get("agent") or {}
            out.append(AnalyticsEvent("agent_reply", cid, at, {"agent_id": agent.get("id")}))
        elif kind == "csat":
            out.append(AnalyticsEvent("csat", cid, at, {"score": event.get("score")}))
        elif kind == "feedback":
            out.append(AnalyticsEvent("feedback", cid, at, {"value": event.get("value")}))
    return out


def card_payloads(events: Sequence[Event]) -> set[str]:
    """The button payloads of the product cards the bot showed."""
    payloads = set()
    for event in events:
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        if isinstance(custom, dict) and custom.get("type") == "product_cards":
            for card in custom.get("cards") or ():
                for button in (card or {}).get("buttons") or ():
                    if isinstance(button, dict) and button.get("payload"):
                        payloads.add(str(button["payload"]))
    return payloads


class Recorder:
    """Reads appended events into the console's database, in the background, in order."""

    def __init__(self, db: ConsoleStore, sessions: SessionStore) -> None:
        self._db = db
        self._sessions = sessions
        self._queue: asyncio.Queue[tuple[str, int, tuple[Event, ...]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def record(self, cid: str, start: int, events: Sequence[Event]) -> None:
        """Queues an append to be recorded (never blocks, never raises)."""
        if self._queue.qsize() >= MAX_BACKLOG:
            self.dropped += 1
            log.warning("analytics backlog full: an append of %s was not recorded", cid)
            return
        self._queue.put_nowait((cid, start, tuple(events)))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def flush(self) -> None:
        """Waits until everything queued so far is recorded (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            cid, start, events = await self._queue.get()
            try:
                await self._one(cid, start, events)
            except ConciergeError as exc:
                log.warning("analytics of %s not recorded: %s", cid, exc)
            except Exception:
                log.exception("analytics of %s not recorded", cid)
            finally:
                self._queue.task_done()

    async def _one(self, cid: str, start: int, events: tuple[Event, ...]) -> None:
        now = time.time()
        entries = analytics_of(cid, start, events, now)
        for event in events:
            kind = event.get("event")
            if kind == "user":
                entries.extend(await self._user(cid, start, event, now))
            elif kind == "slot" and event.get("name") == "customer_id" and event.get("value"):
                await self._db.link_customer(cid, str(event["value"]), now)
            elif kind == "csat":
                handoffs = await self._db.handoffs_of(cid)
                agent = handoffs[-1].agent_id if handoffs else None
                await self._db.add_csat(
                    CsatCopy(
                        cid,
                        int(event.get("score") or 0),
                        redact(str(event["comment"])) if event.get("comment") else None,
                        float(event.get("timestamp") or now),
                        AgentId(agent) if agent else None,
                    )
                )
        await self._db.log_events(entries)

    async def _user(self, cid: str, start: int, event: Event, now: float) -> list[AnalyticsEvent]:
        text = str(event.get("text") or "")
        if not (event.get("parse_data") or {}).get("intent"):
            # Not read by the bot: a person has the conversation or it waits in the queue.
            email = email_in(text)
            if email:
                await self._db.set_email(cid, email)
            return []
        if text.startswith("/"):
            earlier = await self._sessions.events(ConversationId(cid), max(0, start - 60))
            if text in card_payloads(earlier):
                return [AnalyticsEvent("recommendation_click", cid, now, {"payload": text[:200]})]
        return []

    async def aclose(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), 5)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class RecordingSessionStore(SessionStore):
    """The session store, unchanged, with each append also handed to a :class:`Recorder`."""

    def __init__(self, inner: SessionStore, recorder: Recorder) -> None:
        self.inner = inner
        self.recorder = recorder

    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        count = await self.inner.append(cid, events)
        if events:
            self.recorder.record(cid, count - len(events), events)
        return count

    async def events(self, cid: ConversationId, start: int = 0) -> list[Event]:
        return await self.inner.events(cid, start)

    async def snapshot(self, cid: ConversationId) -> tuple[list[Event], SessionMode]:
        return await self.inner.snapshot(cid)

    async def get_mode(self, cid: ConversationId) -> SessionMode:
        return await self.inner.get_mode(cid)

    async def set_mode(self, cid: ConversationId, mode: SessionMode) -> None:
        await self.inner.set_mode(cid, mode)

    def lock(
        self, cid: ConversationId, *, ttl_s: float, wait_s: float, raise_on_lost: bool = False
    ) -> AbstractAsyncContextManager[None]:
        return self.inner.lock(cid, ttl_s=ttl_s, wait_s=wait_s, raise_on_lost=raise_on_lost)

    async def list_conversations(
        self, *, cursor: str | None = None, limit: int = 100
    ) -> tuple[list[ConversationSummary], str | None]:
        return await self.inner.list_conversations(cursor=cursor, limit=limit)

    async def claim_delivery(self, cid: ConversationId, delivery_id: str) -> bool:
        return await self.inner.claim_delivery(cid, delivery_id)

    async def release_delivery(self, cid: ConversationId, delivery_id: str) -> None:
        await self.inner.release_delivery(cid, delivery_id)

    async def delete(self, cid: ConversationId) -> bool:
        return await self.inner.delete(cid)

    async def export(self, cid: ConversationId) -> ConversationExport | None:
        return await self.inner.export(cid)

    async def ttl(self, cid: ConversationId) -> float | None:
        return await self.inner.ttl(cid)

    def subscribe(
        self, cid: ConversationId
    ) -> AbstractAsyncContextManager[AsyncIterator[NewEvents]]:
        return self.inner.subscribe(cid)

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def aclose(self) -> None:
        await self.recorder.aclose()
        await self.inner.aclose()
