"""The one place where exceptions become HTTP answers (JSON, never an HTML 500 page)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.errors import (
    BadRequest,
    ConciergeError,
    ConversationBusy,
    RateLimited,
    SessionStoreError,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def status_for(exc: ConciergeError) -> int:
    if isinstance(exc, BadRequest):
        return exc.status
    if isinstance(exc, ConversationBusy):
        return 409
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, SessionStoreError):
        return 503
    return 500


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # aiohttp's own refusals (413 for bodies over client_max_size, 404, 405) as JSON too,
        # keeping the headers that say what to do next (405's Allow, 503's Retry-After).
        kept = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return web.json_response(
            {"error": exc.reason, "status": exc.status}, status=exc.status, headers=kept or None
        )
    except ConciergeError as exc:
        status = status_for(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, exc)
        # A busy conversation and an unreachable store are both passing: say when to retry
        # (the REST channel's message_id makes the retry safe).
        retry_soon = isinstance(exc, ConversationBusy | SessionStoreError)
        headers = {"Retry-After": "1"} if retry_soon else None
        body: dict[str, object] = {"error": str(exc), "status": status}
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after_s)}
            body["retry_after_s"] = exc.retry_after_s
        return web.json_response(body, status=status, headers=headers)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return web.json_response({"error": "internal error", "status": 500}, status=500)
