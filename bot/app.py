"""Composition root: wires the parts into an aiohttp application without doing any I/O.

Loading models and closing connections happen in the application's ``cleanup_ctx``, so creating
the app in a test is instant and a failed start closes what it opened.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot import http_api, openapi
from bot.action_client import ActionExecutor
from bot.appkeys import (
    ACTIONS,
    ERASER,
    OUTBOUND,
    PIPELINE,
    RATE_LIMITS,
    READY,
    SETTINGS,
    STATS,
    STORE,
    TURNS,
)
from bot.channels.background import ConversationTasks
from bot.channels.base import InputChannel
from bot.channels.messaging import outbound_client
from bot.channels.registry import messaging_channels
from bot.channels.rest import RestChannel
from bot.channels.rest_limits import RestRateLimits
from bot.channels.stream import StreamChannel
from bot.channels.webchat import WebChatChannel
from bot.config import Settings
from bot.console.service import ConsoleFactory, install
from bot.generation.answerer import GroundedAnswerer
from bot.http_errors import error_middleware
from bot.knowledge import KnowledgeBase
from bot.knowledge.languages import KnowledgeByLanguage
from bot.nlu.external import ParseReader, RasaParser
from bot.observability.metrics import Metrics
from bot.observability.observers import MeteredActions, MeteredPipeline, ObservedSessionStore
from bot.observability.wiring import install_metrics
from bot.pipeline import Reader
from bot.policy.flows import Flows
from bot.policy.policy import Policy
from bot.policy.rasa_domain import RasaDomain
from bot.privacy.erase import Eraser, forget_nothing, nothing_queued
from bot.sessions.base import SessionStore
from bot.web import routes as web_routes

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Dialogue:
    """The domain and the policy built from it (read from small YAML files at start)."""

    domain: RasaDomain
    policy: Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> Dialogue:
        domain = RasaDomain.load(settings.path(settings.policy.domain))
        flows = Flows.load(settings.path(settings.policy.flows), domain)
        return cls(domain, Policy(domain, flows, settings.policy, settings.handoff))


@dataclass(frozen=True)
class Lifecycle:
    """What to load before serving (named, for /ready) and what to close after."""

    warmups: Sequence[tuple[str, Hook]] = ()
    closers: Sequence[Hook] = field(default_factory=tuple)
    stats: Callable[[], dict[str, Any]] = dict
    forget: Callable[[Sequence[str]], int] = forget_nothing
    """Drops shoppers' texts from the encoder caches (erasure); returns how many were cached."""


def create_app(
    settings: Settings,
    *,
    store: SessionStore,
    reader: Reader | None = None,
    knowledge: KnowledgeBase,
    actions: ActionExecutor,
    dialogue: Dialogue,
    lifecycle: Lifecycle = Lifecycle(),
    channels: Sequence[InputChannel] = (),
    answerer: GroundedAnswerer | None = None,
    parser: RasaParser | None = None,
    languages: KnowledgeByLanguage | None = None,
    console: ConsoleFactory | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """Builds the bot's web application.

    Args:
        settings: validated settings.
        store: where conversations are kept (closed with the app).
        reader: reads each message in its conversation (the Understander).
        parser: instead of ``reader``, an NLU that answers in Rasa's parse format (a Rasa
            NLU server, a test script), read without the trained heads (ParseReader).
        knowledge: the shop's knowledge base (loaded at start).
        actions: the action server client (closed with the app).
        dialogue: domain and policy.
        lifecycle: model loading before serving and extra closing after.
        channels: input channels; REST, streaming and the widget's socket when empty.
        answerer: generative answers (None: answers are the best retrieved passage).
        languages: the knowledge of each language the shop speaks (None: ``knowledge`` for all).
        console: builds the agent console (bot/console/) around the store (None: no console).
        metrics: the Prometheus registry the parts record into (None: a new one), /metrics.
    """
    app = web.Application(
        client_max_size=settings.server.max_body_bytes, middlewares=[error_middleware]
    )
    app[SETTINGS] = settings
    app[STORE] = store
    app[ACTIONS] = actions
    app[READY] = {name: False for name, _ in lifecycle.warmups}
    # Messaging apps: turns run after the webhook's 200, replies leave through one client.
    turns = ConversationTasks(max_pending=settings.channels.max_pending_turns)
    outbound = outbound_client(settings.channels)
    app[TURNS], app[OUTBOUND] = turns, outbound
    metrics = metrics or Metrics()
    app[RATE_LIMITS] = RestRateLimits(settings.server.rate_limit)
    desk = None
    if console is not None:
        # The console records every append for analytics and queues handoffs.
        parts = console(settings, store, outbound)
        store = app[STORE] = parts.sessions
        desk = parts.desk
        install(parts, app)
    app[ERASER] = Eraser(
        store,
        parts.db if console is not None else None,
        flush_recorder=parts.sessions.recorder.flush if console is not None else nothing_queued,
        forget=lifecycle.forget,
        lock_ttl_s=settings.sessions.lock_ttl_s,
        lock_wait_s=settings.sessions.lock_wait_s,
    )
    app[STATS] = lambda: {
        **lifecycle.stats(),
        "outbound": outbound.counters.to_dict(),
        "background_turns": turns.stats(),
    }
    # Measured: each turn by channel, its intents and handoffs, every action call.
    app[PIPELINE] = MeteredPipeline(
        metrics=metrics,
        settings=settings,
        store=ObservedSessionStore(store, metrics),
        reader=_reader(reader, parser),
        knowledge=knowledge,
        actions=MeteredActions(actions, metrics),
        domain=dialogue.domain,
        policy=dialogue.policy,
        answerer=answerer,
        languages=languages,
        desk=desk,
    )
    app.add_routes(http_api.routes())
    app.add_routes(openapi.routes())
    for channel in messaging_channels(settings):  # Telegram, WhatsApp when enabled
        app.add_routes(channel.routes())

    async def stop_background_turns(app: web.Application) -> None:
        # Before the store and the action client close: the turns still use them.
        await turns.aclose()
        await outbound.aclose()

    app.on_shutdown.append(stop_background_turns)

    app.add_routes(web_routes.routes())
    serving = tuple(channels) or (RestChannel(), StreamChannel(), WebChatChannel())
    for channel in serving:
        app.add_routes(channel.routes())
    install_metrics(app, metrics, turns=turns, outbound=outbound, channels=serving)

    async def close_channels(app: web.Application) -> None:
        for channel in serving:
            await channel.close()

    app.on_shutdown.append(close_channels)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        try:
            for name, warmup in lifecycle.warmups:
                await warmup()
                app[READY][name] = True
                log.info("loaded %s", name)
            yield
        finally:
            for close in (*lifecycle.closers, actions.aclose, store.aclose):
                try:
                    await close()
                except Exception:  # one failing close must not keep the others open
                    log.exception("error while closing")

    app.cleanup_ctx.append(resources)
    return app


def _reader(reader: Reader | None, parser: RasaParser | None) -> Reader:
    if reader is not None and parser is None:
        return reader
    if parser is not None and reader is None:
        return ParseReader(parser)
    raise TypeError("create_app needs exactly one of reader= or parser=")
