"""Turns that run after their webhook was acknowledged, in order per conversation.

Telegram and WhatsApp want a 200 within seconds and deliver again when it is late, while a turn
may take longer (the action server, a generated answer, a platform that is slow to take the
reply). So a webhook claims its delivery, queues the work here and answers at once.

Jobs of one conversation run one after another, in the order they were queued, so a shopper's
second message is never answered before the first; different conversations run side by side.
The application owns one :class:`ConversationTasks` and closes it at shutdown: queued jobs are
dropped (their deliveries were already acknowledged, which is logged) and running ones are
cancelled and awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


@dataclass
class _Queue:
    jobs: deque[Job] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None


class ConversationTasks:
    """Background jobs, serialised per conversation and bounded in number.

    Args:
        max_pending: Most jobs queued or running at once; :meth:`submit` refuses more, and the
            webhook answers 503 so that the platform delivers again later.
    """

    def __init__(self, *, max_pending: int = 1000) -> None:
        self._max_pending = max_pending
        self._queues: dict[str, _Queue] = {}
        self._pending = 0
        self._closed = False
        self.done = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._pending

    def has_room(self) -> bool:
        """Whether :meth:`submit` would take another job now."""
        return not self._closed and self._pending < self._max_pending

    def submit(self, conversation_id: str, job: Job) -> bool:
        """Queues ``job`` after the conversation's earlier ones.

        Returns:
            False when the queue is full or closed (nothing was queued).
        """
        if not self.has_room():
            return False
        queue = self._queues.get(conversation_id)
        if queue is None:
            queue = self._queues[conversation_id] = _Queue()
        queue.jobs.append(job)
        self._pending += 1
        if queue.worker is None:
            queue.worker = asyncio.create_task(
                self._drain(conversation_id, queue), name=f"turns:{conversation_id}"
            )
        return True

    async def _drain(self, conversation_id: str, queue: _Queue) -> None:
        try:
            while queue.jobs:
                job = queue.jobs.popleft()
                try:
                    await job()
                    self.done += 1
                except Exception:  # one failed turn must not stop the conversation's next ones
                    self.failed += 1
                    log.exception("background turn for conversation %s failed", conversation_id)
                finally:
                    self._pending -= 1
        finally:
            # No await between the last check of ``jobs`` and this: a job submitted meanwhile
            # would have found this worker and been run by it.
            if self._queues.get(conversation_id) is queue:
                del self._queues[conversation_id]

    async def join(self) -> None:
        """Waits until every queued job has run (tests, graceful drains)."""
        while self._queues:
            workers = [q.worker for q in self._queues.values() if q.worker is not None]
            await asyncio.gather(*workers, return_exceptions=True)

    async def aclose(self) -> None:
        """Drops queued jobs, cancels running ones and waits for them to end."""
        self._closed = True
        workers = []
        for conversation_id, queue in list(self._queues.items()):
            if queue.jobs:
                log.warning(
                    "shutting down: %d acknowledged message(s) of conversation %s not handled",
                    len(queue.jobs), conversation_id,
                )  # fmt: skip
                self._pending -= len(queue.jobs)
                queue.jobs.clear()
            if queue.worker is not None:
                queue.worker.cancel()
                workers.append(queue.worker)
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._queues.clear()

    def stats(self) -> dict[str, int]:
        return {"pending": self._pending, "done": self.done, "failed": self.failed}
