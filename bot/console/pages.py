"""The console's pages: ``/console`` (queue, chat, customer, assist) and ``/console/analytics``.

Plain HTML, CSS and JavaScript from ``bot/static/console/`` with no build step, as the widget.
The pages hold no data: everything comes from the API after sign-in. A strict Content Security
Policy allows only the console's own scripts, styles and connections, and no framing.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
ASSETS = {
    "console.js": "text/javascript",
    "console.css": "text/css",
    "analytics.js": "text/javascript",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(name: str) -> web.Response:
    return web.Response(
        body=(STATIC / name).read_bytes(), content_type="text/html", charset="utf-8",
        headers=HEADERS,
    )  # fmt: skip


async def console_page(request: web.Request) -> web.Response:
    return _page("index.html")


async def analytics_page(request: web.Request) -> web.Response:
    return _page("analytics.html")


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.Response(
        body=(STATIC / name).read_bytes(),
        content_type=ASSETS[name],
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/console", console_page),
        web.get("/console/", console_page),
        web.get("/console/analytics", analytics_page),
        web.get("/console/static/{name}", asset),
    ]
