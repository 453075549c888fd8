"""The parts of a turn, each wrapped so that what it does is measured (bot/app.py wires them).

Nothing here changes what a part does: every wrapper passes calls through unchanged and
records on the way. The turn itself is measured around ``Pipeline.handle`` (its public
signature), its intents and handoffs are read from the events it appends, so the pipeline's
logic stays as the NLU and policy code wrote it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot.action_client import ActionExecutor, ActionResult
from bot.domain import BotMessage, ConversationId, Event, IncomingMessage, SessionMode, TrackerView
from bot.errors import (
    ActionNotFound,
    ActionRejected,
    ActionServerError,
    ActionServerUnavailable,
    ConversationBusy,
    SessionStoreError,
)
from bot.generation.answerer import DeltaSink
from bot.generation.backend import (
    ConsumerGone,
    GenerationRequest,
    GenerationTimeout,
    GeneratorBusy,
    TextGenerator,
)
from bot.observability.logs import bind_conversation, unbind_conversation
from bot.observability.metrics import Metrics
from bot.pipeline import Pipeline
from bot.sessions.base import ConversationExport, ConversationSummary, NewEvents, SessionStore


class MeteredPipeline(Pipeline):
    """The pipeline, with each turn timed by channel and outcome and its logs tagged.

    Args:
        metrics: where the turn's figures go.
        **parts: everything :class:`~bot.pipeline.Pipeline` takes.
    """

    def __init__(self, *, metrics: Metrics, **parts: Any) -> None:
        super().__init__(**parts)
        self._metrics = metrics

    async def handle(
        self,
        message: IncomingMessage,
        *,
        sink: DeltaSink | None = None,
        gone: Callable[[], bool] | None = None,
        taken: Callable[[], Awaitable[None]] | None = None,
    ) -> list[BotMessage]:
        """Runs the turn as :meth:`Pipeline.handle` does, measured; its logs carry the id."""
        token = bind_conversation(message.sender)
        started = time.perf_counter()
        outcome = "error"
        try:
            replies = await super().handle(message, sink=sink, gone=gone, taken=taken)
            outcome = "ok"
            return replies
        except ConversationBusy:
            outcome = "busy"
            raise
        except SessionStoreError:
            outcome = "store_unavailable"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            seconds = time.perf_counter() - started
            self._metrics.turn_seconds.labels(message.channel, outcome).observe(seconds)
            unbind_conversation(token)


class ObservedSessionStore(SessionStore):
    """The session store, unchanged, with each append's intents and handoffs counted."""

    def __init__(self, inner: SessionStore, metrics: Metrics) -> None:
        self.inner = inner
        self._metrics = metrics

    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        count = await self.inner.append(cid, events)
        self._metrics.count_turn_events(events)  # after the write: only what was stored
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
        await self.inner.aclose()


def _error_kind(exc: ActionServerError) -> str:
    if isinstance(exc, ActionRejected):
        return "rejected"
    if isinstance(exc, ActionNotFound):
        return "not_found"
    if isinstance(exc, ActionServerUnavailable):
        return "unavailable"
    return "error"


class MeteredActions(ActionExecutor):
    """The action client, with each call timed and each failure counted by kind."""

    def __init__(self, inner: ActionExecutor, metrics: Metrics) -> None:
        self.inner = inner
        self._metrics = metrics

    async def run(
        self, action_name: str, tracker: TrackerView, domain: Mapping[str, Any]
    ) -> ActionResult:
        label = self._metrics.action_label(action_name)
        started = time.perf_counter()
        try:
            return await self.inner.run(action_name, tracker, domain)
        except ActionServerError as exc:
            self._metrics.action_errors.labels(label, _error_kind(exc)).inc()
            raise
        finally:
            self._metrics.action_seconds.labels(label).observe(time.perf_counter() - started)

    async def health(self) -> bool:
        return await self.inner.health()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _generation_outcome(exc: BaseException) -> str:
    if isinstance(exc, ConsumerGone | asyncio.CancelledError | GeneratorExit):
        return "cancelled"
    if isinstance(exc, GeneratorBusy):
        return "busy"
    if isinstance(exc, GenerationTimeout):
        return "timeout"
    return "error"


class TimedGenerator(TextGenerator):
    """The answer model, with each generation's time (whole and to first text) recorded."""

    def __init__(self, inner: TextGenerator, metrics: Metrics) -> None:
        self.inner = inner
        self.name = inner.name
        self._metrics = metrics

    async def start(self) -> None:
        await self.inner.start()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        started = time.perf_counter()
        first = True
        outcome = "ok"
        pieces = self.inner.stream(request)
        try:
            async for piece in pieces:
                if first and piece:
                    first = False
                    elapsed = time.perf_counter() - started
                    self._metrics.generation_first_text_seconds.observe(elapsed)
                yield piece
        except BaseException as exc:
            outcome = _generation_outcome(exc)
            raise
        finally:
            # Closing the inner stream cancels the generation when the consumer left early.
            await pieces.aclose()
            elapsed = time.perf_counter() - started
            self._metrics.generation_seconds.labels(outcome).observe(elapsed)
