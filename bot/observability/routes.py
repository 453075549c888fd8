"""``GET /metrics`` and the middleware that counts every HTTP answer by route and status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.appkeys import METRICS

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def metrics_page(request: web.Request) -> web.StreamResponse:
    """The application's metrics in Prometheus' text format (OpenMetrics when asked)."""
    handler = make_aiohttp_handler(request.app[METRICS].registry)
    response: web.StreamResponse = await handler(request)
    return response


def routes() -> list[web.RouteDef]:
    return [web.get("/metrics", metrics_page)]


def _route(request: web.Request) -> str:
    # The route's template, not the path: ids in paths would make a label value each.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts each answer in ``concierge_http_responses`` (outside the error middleware)."""
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects and refusals the error middleware passed on
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away first (nginx's code for it)
        raise
    finally:
        metrics = request.app.get(METRICS)
        if metrics is not None:
            method = request.method if request.method in _METHODS else "other"
            metrics.http_responses.labels(method, _route(request), str(status)).inc()
