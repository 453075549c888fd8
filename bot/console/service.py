"""Wires the console into the application: its database, bus, desk, recorder and routes.

:func:`build_console` does no I/O (the app factory's rule); :func:`install` adds the routes and
the start and close hooks: migrations at start when ``console.migrate_on_start`` is set, and
the database, the bus and the shop connection closed with the app; while it serves, what is
past retention is purged (:mod:`bot.privacy.retention`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.appkeys import PIPELINE
from bot.channels.outbound import OutboundClient
from bot.config import Settings
from bot.console import migrate
from bot.console.auth import Auth
from bot.console.bus import ConsoleBus, MemoryConsoleBus, RedisConsoleBus
from bot.console.customer import OrderDirectory, ShopOrderDirectory
from bot.console.delivery import ChannelDelivery
from bot.console.desk import Desk
from bot.console.factory import create_console_store
from bot.console.recorder import Recorder, RecordingSessionStore
from bot.console.store import ConsoleStore
from bot.knowledge import KnowledgeBase
from bot.privacy.retention import purging
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)


@dataclass
class Console:
    """Everything the console's handlers share (``request.app[CONSOLE]``)."""

    settings: Settings
    db: ConsoleStore
    bus: ConsoleBus
    sessions: RecordingSessionStore
    desk: Desk
    auth: Auth
    orders: OrderDirectory | None
    knowledge: KnowledgeBase | None = None
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    local_agents: dict[str, int] = field(default_factory=dict)
    """Open console sockets per agent in this worker (presence ends with the last one)."""


ConsoleFactory = Callable[[Settings, SessionStore, OutboundClient], Console]
CONSOLE = web.AppKey("console", Console)


def default_bus(settings: Settings) -> ConsoleBus:
    """Redis pub/sub when conversations are in Redis (several workers), else in-process."""
    url = settings.sessions.url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisConsoleBus(
            url, key_prefix=settings.sessions.key_prefix, cluster=settings.sessions.cluster
        )
    return MemoryConsoleBus()


def build_console(
    settings: Settings,
    store: SessionStore,
    outbound: OutboundClient,
    *,
    db: ConsoleStore | None = None,
    bus: ConsoleBus | None = None,
    orders: OrderDirectory | None = None,
) -> Console:
    """The console's parts for ``settings``; nothing is connected until used."""
    db = db or create_console_store(settings.console.database)
    bus = bus or default_bus(settings)
    if orders is None:
        shop = settings.shop_store
        orders = ShopOrderDirectory(settings.path(shop.database), settings.path(shop.data_dir))
    sessions = RecordingSessionStore(store, Recorder(db, store))
    desk = Desk(
        settings,
        sessions=sessions,
        db=db,
        bus=bus,
        delivery=ChannelDelivery(settings.channels, outbound),
    )
    return Console(settings, db, bus, sessions, desk, Auth(db, settings.console), orders)


def install(console: Console, app: web.Application) -> None:
    """Adds the console's pages, API and socket, and its start and close hooks."""
    from bot.console import api, pages, socket

    app[CONSOLE] = console
    app.add_routes([*pages.routes(), *api.routes(), *socket.routes()])

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if console.settings.console.migrate_on_start:
            await asyncio.to_thread(migrate.upgrade, console.settings.console.database)
        console.knowledge = app[PIPELINE].knowledge
        # Retention (bot/privacy/retention.py): past-retention rows go now and then regularly.
        async with purging(console.db, console.settings.console, time.time):
            yield
        await socket.close_all(console)
        for close in (console.bus.aclose, console.db.aclose,
                      *([console.orders.aclose] if console.orders else [])):  # fmt: skip
            try:
                await close()
            except Exception:
                log.exception("error while closing the console")

    app.cleanup_ctx.append(lifecycle)
