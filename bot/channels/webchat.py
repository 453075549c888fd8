"""The website chat widget's channel: a WebSocket at ``GET /webhooks/webchat/ws``.

The protocol is in docs/widget-protocol.md; frames are read and built in
:mod:`bot.channels.webchat_frames`, and one socket is served by
:class:`~bot.channels.webchat_session.WebChatSession`. This module is the handshake: the
page's Origin must be allowed (``widget.allowed_origins``, else 403) and one IP may hold at
most ``widget.max_connections_per_ip`` sockets (else 429), both refused before the upgrade.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

from aiohttp import WSCloseCode, web

from bot.appkeys import PIPELINE, SETTINGS, STORE
from bot.channels.base import InputChannel
from bot.channels.origins import OriginPolicy
from bot.channels.ratelimit import ConnectionCounter, KeyedBuckets
from bot.channels.webchat_session import CHANNEL, Shared, WebChatSession

log = logging.getLogger(__name__)

SOCKET_PATH = "/webhooks/webchat/ws"


class WebChatChannel(InputChannel):
    """The widget's socket; its limits are built from the app's settings on first use."""

    name: ClassVar[str] = CHANNEL

    def __init__(self) -> None:
        self._shared: Shared | None = None
        self._origins: OriginPolicy | None = None
        self._connections: ConnectionCounter | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.get(SOCKET_PATH, self.socket)]

    def _setup(self, app: web.Application) -> tuple[Shared, OriginPolicy, ConnectionCounter]:
        if self._shared is None or self._origins is None or self._connections is None:
            settings = app[SETTINGS]
            widget = settings.widget
            self._origins = OriginPolicy(widget.allowed_origins)
            self._connections = ConnectionCounter(widget.max_connections_per_ip)
            self._shared = Shared(
                settings=settings,
                pipeline=app[PIPELINE],
                store=app[STORE],
                ip_buckets=KeyedBuckets(widget.ip_rate_per_min / 60, widget.ip_burst),
                background=set(),
            )
        return self._shared, self._origins, self._connections

    async def socket(self, request: web.Request) -> web.StreamResponse:
        """The handshake; refusals are plain HTTP answers, before the upgrade."""
        shared, origins, connections = self._setup(request.app)
        origin = request.headers.get("Origin")
        if not origins.allows(origin, f"{request.scheme}://{request.host}"):
            log.info("widget socket refused for origin %r", origin)
            raise web.HTTPForbidden(reason="this page's origin may not open the chat")
        ws = web.WebSocketResponse(
            heartbeat=shared.settings.widget.heartbeat_s,
            max_msg_size=shared.settings.widget.max_frame_bytes,
        )
        if not ws.can_prepare(request).ok:
            raise web.HTTPBadRequest(reason="this endpoint speaks WebSocket only")
        ip = request.remote or "unknown"
        if not connections.acquire(ip):
            raise web.HTTPTooManyRequests(reason="too many open chats from this address")
        try:
            await ws.prepare(request)
            self._sockets.add(ws)
            await WebChatSession(ws, shared, ip).run()
            if not ws.closed:
                await ws.close()
        finally:
            connections.release(ip)
            self._sockets.discard(ws)
        return ws

    async def close(self) -> None:
        """Tells open widgets the server is going away (they reconnect elsewhere)."""
        sockets = list(self._sockets)
        await asyncio.gather(
            *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"restarting") for ws in sockets),
            return_exceptions=True,
        )
        if self._shared is not None and self._shared.background:
            # Turns whose sockets went away are finished and stored, not cut off.
            await asyncio.gather(*self._shared.background, return_exceptions=True)

    def open_sockets(self) -> int:
        """How many widgets are connected to this worker (for /stats and tests)."""
        return len(self._sockets)
