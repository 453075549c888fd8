"""Retention: what the console's database keeps is deleted once it is older than configured.

Conversations in the session store expire by themselves ``sessions.ttl_s`` after their last
activity (Redis key expiry, or the memory store's lazy expiry). The console's database keeps
copies beyond that, so it is purged: notes, CSAT copies, customer links and finished handoffs
after ``console.retention_days``, the analytics log after ``console.analytics_retention_days``,
expired agent sign-ins at once. Each worker purges every ``console.purge_interval_hours``
(the deletes are idempotent, so several workers doing it is harmless), and
``python -m bot console purge`` does it once (a cron job, when the interval is 0).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from bot.console.settings import ConsoleConfig
from bot.console.store import ConsoleStore
from bot.errors import ConciergeError

log = logging.getLogger(__name__)
DAY_S = 86400.0
STOP_WAIT_S = 10.0


async def purge(db: ConsoleStore, config: ConsoleConfig, now: float) -> dict[str, int]:
    """Deletes what is past retention at ``now``; the rows deleted per table."""
    records = now - config.retention_days * DAY_S if config.retention_days else None
    analytics = (
        now - config.analytics_retention_days * DAY_S if config.analytics_retention_days else None
    )
    deleted = await db.purge(records_before=records, analytics_before=analytics)
    deleted["agent_sessions"] = await db.delete_expired_sessions(now)
    return deleted


@asynccontextmanager
async def purging(
    db: ConsoleStore, config: ConsoleConfig, clock: Callable[[], float]
) -> AsyncIterator[asyncio.Task[None] | None]:
    """Purges at once and then every ``purge_interval_hours`` while the body runs."""
    if not config.purge_interval_hours:
        yield None
        return

    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            try:
                deleted = await purge(db, config, clock())
                if any(deleted.values()):
                    log.info("retention purge deleted %s", deleted)
            except ConciergeError as exc:
                log.warning("retention purge failed: %s", exc)
            except Exception:
                log.exception("retention purge failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), config.purge_interval_hours * 3600)

    task = asyncio.get_running_loop().create_task(loop(), name="console-retention")
    try:
        yield task
    finally:
        # A purge under way is let finish (cancelled half way, a database connection being
        # opened would be left unclosed); one that hangs is cancelled after a while.
        stop.set()
        try:
            await asyncio.wait_for(task, STOP_WAIT_S)
        except TimeoutError:
            log.warning("retention purge did not stop in %s s; cancelled", STOP_WAIT_S)
