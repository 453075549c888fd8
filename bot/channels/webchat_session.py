"""One widget socket: hello, replay of what it missed, the conversation's live feed, turns.

Everything the widget shows comes from the session store with its event index: the turn's
messages are read back after the turn is stored, agent messages arrive through the store's
feed, and ``_next`` (the first index not yet sent) makes every event go out once, whichever
of the two paths brings it first. Only ``delta`` frames (a draft of an answer that is still
being checked) have no index; the final ``message`` replaces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.channels.ratelimit import KeyedBuckets, TokenBucket
from bot.channels.webchat_events import csat_event, feedback_event
from bot.channels.webchat_frames import (
    Csat,
    ErrorCode,
    Feedback,
    FrameError,
    Hello,
    ShopperMessage,
    event_frame,
    new_conversation_id,
    parse_frame,
)
from bot.config import Settings
from bot.domain import ConversationId, Event, IncomingMessage
from bot.errors import ConciergeError, ConversationBusy
from bot.generation.backend import ConsumerGone
from bot.pipeline import Pipeline
from bot.sessions.base import NewEvents, SessionStore

log = logging.getLogger(__name__)

CHANNEL = "webchat"
HELLO_TIMEOUT_S = 10.0
MAX_QUEUED_TURNS = 8
FEED_GRACE_S = 1.0
POLICY_VIOLATION = WSCloseCode.POLICY_VIOLATION


@dataclass(frozen=True)
class Shared:
    """What all sockets of one app share: the pipeline, the store, the per-IP buckets."""

    settings: Settings
    pipeline: Pipeline
    store: SessionStore
    ip_buckets: KeyedBuckets
    background: set[asyncio.Task[Any]]
    """Turns whose socket went away: they finish and are stored, and are kept referenced."""


def _quiet(send: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """``send``, but a socket that went away does not stop the turn: it is stored all the same."""

    async def call() -> None:
        with contextlib.suppress(ConsumerGone):
            await send()

    return call


def csat_pending(
    events: Sequence[Event], after_actions: Sequence[str], pending: bool = False
) -> bool:
    """Whether the latest turn ended the conversation (a goodbye) and no CSAT came since.

    ``pending`` is the answer for the events before these, so it can be kept up to date.
    """
    for event in events:
        kind = event.get("event")
        if kind in ("csat", "user"):
            pending = False
        elif kind == "action" and event.get("name") in after_actions:
            pending = True
    return pending


class WebChatSession:
    """Serves one prepared WebSocket until it closes."""

    def __init__(self, ws: web.WebSocketResponse, shared: Shared, ip: str) -> None:
        self._ws = ws
        self._shared = shared
        self._ip = ip
        widget = shared.settings.widget
        self._bucket = TokenBucket(widget.connection_rate_per_min / 60, widget.connection_burst)
        # Refusals drain their own bucket: more than max_refusals within about a minute closes.
        self._patience = TokenBucket(widget.max_refusals / 60, widget.max_refusals)
        self._csat_after = widget.csat_after_actions
        self._lock = asyncio.Lock()
        self._turns: asyncio.Queue[ShopperMessage] = asyncio.Queue(MAX_QUEUED_TURNS)
        self._cid = ConversationId("")
        self._locale = "en"
        self._next = 0
        self._awaiting: dict[str, asyncio.Event] = {}
        """Turns of this socket waiting for their events to come through the feed."""
        self._csat_pending = False
        self._gone = False

    # --- sending ---------------------------------------------------------------------------

    async def _send(self, frame: dict[str, Any]) -> None:
        if self._gone or self._ws.closed:
            self._gone = True
            raise ConsumerGone("the widget closed its socket")
        try:
            await self._ws.send_str(json.dumps(frame, ensure_ascii=False))
        except (ConnectionError, RuntimeError) as exc:  # aiohttp: closing transport
            self._gone = True
            raise ConsumerGone("the widget closed its socket") from exc

    async def _error(
        self, code: ErrorCode, message: str, cmid: str | None = None, **extra: Any
    ) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message, **extra}
        if cmid:
            frame["client_message_id"] = cmid
        await self._send(frame)

    async def _deliver(self, start: int, events: Sequence[Event]) -> None:
        """Sends the displayable events from ``_next`` on; the caller holds ``_lock``."""
        if start > self._next:  # a gap: a batch the feed lost, read it from the store
            events = await self._shared.store.events(self._cid, self._next)
            start = self._next
        skip = max(self._next - start, 0)
        fresh = events[skip:]
        arrived = []
        for index, event in enumerate(fresh, start + skip):
            frame = event_frame(index, event)
            if frame is not None:
                await self._send(frame)
                if frame["type"] == "user" and frame.get("client_message_id") in self._awaiting:
                    arrived.append(self._awaiting[frame["client_message_id"]])
        self._next = max(self._next, start + len(events))
        for turn_stored in arrived:  # after the whole batch: the turn's replies went out too
            turn_stored.set()
        was_pending = self._csat_pending
        self._csat_pending = csat_pending(fresh, self._csat_after, was_pending)
        if self._csat_pending and not was_pending:
            await self._send({"type": "csat_request"})

    async def _catch_up(self) -> None:
        async with self._lock:
            await self._deliver(self._next, await self._shared.store.events(self._cid, self._next))

    # --- the socket's life -----------------------------------------------------------------

    async def run(self) -> None:
        """Hello, replay, then frames until the socket closes; never raises."""
        try:
            hello = await self._hello()
            if hello is None:
                return
            self._cid = hello.conversation_id or new_conversation_id()
            self._locale = hello.locale
            async with self._shared.store.subscribe(self._cid) as feed:
                await self._welcome(hello)
                tasks = [asyncio.create_task(self._relay(feed)), asyncio.create_task(self._work())]
                try:
                    await self._receive()
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
        except ConsumerGone:
            pass
        except ConciergeError as exc:
            log.warning("widget socket %s failed: %s", self._cid or "(no hello)", exc)
            await self._close(WSCloseCode.TRY_AGAIN_LATER, "store unavailable")
        except Exception:
            log.exception("widget socket %s failed", self._cid or "(no hello)")
            await self._close(WSCloseCode.INTERNAL_ERROR, "internal error")
        finally:
            self._gone = True

    async def _close(self, code: int, message: str) -> None:
        self._gone = True
        if not self._ws.closed:
            await self._ws.close(code=code, message=message.encode())

    async def _hello(self) -> Hello | None:
        try:
            msg = await self._ws.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            await self._close(POLICY_VIOLATION, "no hello")
            return None
        if msg.type != WSMsgType.TEXT:
            return None
        try:
            frame = parse_frame(msg.data, self._shared.settings.server.max_message_chars)
        except FrameError as exc:
            await self._error(exc.code, str(exc))
            frame = None
        if not isinstance(frame, Hello):
            await self._close(POLICY_VIOLATION, "the first frame must be hello")
            return None
        return frame

    async def _welcome(self, hello: Hello) -> None:
        events = await self._shared.store.events(self._cid)
        await self._send(
            {
                "type": "welcome",
                "conversation_id": self._cid,
                "resumed": bool(events),
                "locale": self._locale,
                "shop_name": self._shared.settings.shop.name,
            }
        )
        start = 0 if hello.last_seen_event is None else min(hello.last_seen_event + 1, len(events))
        items = [f for i, e in enumerate(events[start:], start) if (f := event_frame(i, e))]
        limit = self._shared.settings.widget.history_limit
        async with self._lock:
            self._next = len(events)
            await self._send({"type": "history", "items": items[-limit:], "next": self._next})
            self._csat_pending = csat_pending(events, self._csat_after)
            if self._csat_pending:
                await self._send({"type": "csat_request"})

    async def _relay(self, feed: AsyncIterator[NewEvents]) -> None:
        try:
            async for batch in feed:
                async with self._lock:
                    await self._deliver(batch.start, batch.events)
        except ConsumerGone:
            pass
        except ConciergeError as exc:
            # The feed broke (Redis went away): the widget reconnects and replays the gap.
            log.warning("feed of %s broke: %s", self._cid, exc)
            await self._close(WSCloseCode.TRY_AGAIN_LATER, "feed lost")

    async def _receive(self) -> None:
        max_chars = self._shared.settings.server.max_message_chars
        async for msg in self._ws:
            if msg.type != WSMsgType.TEXT:
                await self._refuse(FrameError("bad_frame", "frames are JSON text"))
                continue
            try:
                frame = parse_frame(msg.data, max_chars)
                if isinstance(frame, Hello):
                    raise FrameError("bad_frame", "hello comes once, first")
                self._check_rate(frame)
                if isinstance(frame, ShopperMessage):
                    self._turns.put_nowait(frame)
                elif isinstance(frame, Feedback):
                    await self._feedback(frame)
                elif isinstance(frame, Csat):
                    await self._csat(frame)
            except FrameError as exc:
                await self._refuse(exc)
            except asyncio.QueueFull:
                cmid = frame.client_message_id if isinstance(frame, ShopperMessage) else None
                await self._refuse(FrameError("rate_limited", "too many waiting messages", cmid))
            if self._gone:
                return

    def _check_rate(self, frame: ShopperMessage | Feedback | Csat) -> None:
        cmid = frame.client_message_id if isinstance(frame, ShopperMessage) else None
        wait = self._bucket.take() or self._shared.ip_buckets.take(self._ip)
        if wait:
            raise FrameError(
                "rate_limited", "too many messages; wait a moment", cmid, retry_after_s=wait
            )

    async def _refuse(self, exc: FrameError) -> None:
        extra = {} if exc.retry_after_s is None else {"retry_after_s": round(exc.retry_after_s, 1)}
        await self._error(exc.code, str(exc), exc.client_message_id, **extra)
        if self._patience.take():
            log.info("closing widget socket %s from %s: repeated refusals", self._cid, self._ip)
            await self._close(POLICY_VIOLATION, "too many refused frames")

    # --- what the shopper sends ------------------------------------------------------------

    async def _work(self) -> None:
        try:
            while True:
                await self._turn(await self._turns.get())
        except ConsumerGone:
            pass

    async def _turn(self, message: ShopperMessage) -> None:
        cmid = message.client_message_id
        metadata: dict[str, Any] = {"client_message_id": cmid, "language": self._locale}
        if message.title:
            metadata["display_text"] = message.title
        # Sent again after a reconnect, the message is recognised under the turn's lock by its
        # stored user event (bot/deliveries.py); nothing is claimed before the turn.
        incoming = IncomingMessage(
            self._cid, message.text, CHANNEL, metadata, message_id=f"{CHANNEL}:{cmid}"
        )
        taken = False

        async def ack() -> None:
            nonlocal taken
            taken = True
            await self._send({"type": "ack", "client_message_id": cmid, "duplicate": False})
            await self._send({"type": "typing", "on": True})

        async def sink(text: str) -> None:
            await self._send({"type": "delta", "reply_to": cmid, "text": text})

        stored = self._awaiting[cmid] = asyncio.Event()
        # Its own task: if the socket goes mid-turn the turn still finishes and is stored.
        turn = asyncio.create_task(
            self._shared.pipeline.handle(
                incoming, sink=sink, gone=lambda: self._gone, taken=_quiet(ack)
            )
        )
        self._shared.background.add(turn)
        turn.add_done_callback(self._shared.background.discard)
        try:
            await asyncio.shield(turn)
            if taken:
                # The turn's events come through the feed (published with the append);
                # reading them from the store is the fallback, should the feed be slow.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stored.wait(), FEED_GRACE_S)
        except ConversationBusy:
            # Nothing was stored: the same message may come again and will then run.
            await self._error("busy", "still working on your last message", cmid)
        except ConciergeError as exc:
            log.warning("widget turn in %s failed: %s", self._cid, exc)
            await self._error("unavailable", "something went wrong; please try again", cmid)
        finally:
            self._awaiting.pop(cmid, None)
        if turn.done() and not turn.cancelled() and turn.exception() is None and not taken:
            # A repeat of a stored message: its user event and replies are stored events,
            # which reach this socket by their indices (history, feed or the catch-up below),
            # so the ack carries none of them and nothing shows twice.
            await self._send({"type": "ack", "client_message_id": cmid, "duplicate": True})
            await self._catch_up()
            return
        if not stored.is_set():
            await self._catch_up()
        if taken:
            await self._send({"type": "typing", "on": False})

    async def _feedback(self, frame: Feedback) -> None:
        rated = await self._shared.store.events(self._cid, frame.target)
        if not rated or rated[0].get("event") != "bot":
            raise FrameError("not_found", f"event {frame.target} is not a bot message")
        await self._shared.store.append(self._cid, [feedback_event(frame.target, frame.value)])
        await self._catch_up()

    async def _csat(self, frame: Csat) -> None:
        await self._shared.store.append(self._cid, [csat_event(frame.score, frame.comment)])
        await self._catch_up()
