"""The bot's web files: the demo shop page, the widget script, its styles, texts and pictures.

``GET /widget.js`` and what it loads are meant to be fetched from any shop's pages, so they
allow cross-origin use and are cached (an ETag makes a revalidation a 304). Pages the bot
renders itself carry a Content-Security-Policy that allows nothing but the bot's own files.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.appkeys import SETTINGS
from bot.channels.webchat_frames import LOCALES, normalise_locale
from bot.web.catalogue import find, load_products, showcase
from bot.web.demo_page import render_demo_page
from bot.web.product_art import product_svg

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""For the demo page: the widget's socket is same-origin, and no inline script or style runs."""
CACHE_FILES = "public, max-age=300, stale-while-revalidate=86400"
CACHE_ART = "public, max-age=86400"
_PRODUCT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


@functools.lru_cache(maxsize=32)
def _read(path: Path, content_type: str) -> StaticFile:
    body = path.read_bytes()
    return StaticFile(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def _serve(request: web.Request, file: StaticFile, *, cache: str = CACHE_FILES) -> web.Response:
    headers = {
        "Cache-Control": cache,
        "ETag": file.etag,
        "X-Content-Type-Options": "nosniff",
        # Loaded by shops' pages on other origins: the script, its styles, texts and pictures.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    if file.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=file.body, content_type=file.content_type, headers=headers)


def wants_html(request: web.Request) -> bool:
    """A browser asking for a page (JSON API clients of ``/`` keep getting JSON)."""
    return "text/html" in request.headers.get("Accept", "")


async def demo_page(request: web.Request) -> web.Response:
    """The demo shop with the widget; ``?lang=de`` shows the widget in another language."""
    settings = request.app[SETTINGS]
    products = load_products(settings.path(settings.shop_store.data_dir) / "products.json")
    lang = normalise_locale(request.query.get("lang", "en"))
    html = render_demo_page(shop_name=settings.shop.name, products=showcase(products), lang=lang)
    return web.Response(
        text=html,
        content_type="text/html",
        headers={
            "Content-Security-Policy": PAGE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


async def widget_script(request: web.Request) -> web.Response:
    return _serve(request, _read(STATIC / "widget.js", "text/javascript"))


async def widget_styles(request: web.Request) -> web.Response:
    return _serve(request, _read(STATIC / "widget.css", "text/css"))


async def demo_styles(request: web.Request) -> web.Response:
    return _serve(request, _read(STATIC / "demo.css", "text/css"))


async def widget_locale(request: web.Request) -> web.Response:
    locale = request.match_info["locale"]
    if locale not in LOCALES:
        raise web.HTTPNotFound(reason="no such locale")
    return _serve(request, _read(STATIC / "locales" / f"{locale}.json", "application/json"))


async def product_art(request: web.Request) -> web.Response:
    """A drawn picture of a product (cards and the demo page have no photos)."""
    product_id = request.match_info["product_id"]
    if not _PRODUCT_ID.fullmatch(product_id):
        raise web.HTTPNotFound(reason="no such product")
    settings = request.app[SETTINGS]
    products = load_products(settings.path(settings.shop_store.data_dir) / "products.json")
    product = find(products, product_id)
    name, category = (product.name, product.category) if product else ("Product", None)
    svg = product_svg(product_id, name, category).encode()
    file = StaticFile(svg, "image/svg+xml", '"' + hashlib.sha256(svg).hexdigest()[:20] + '"')
    response = _serve(request, file, cache=CACHE_ART)
    # An SVG opened on its own is a document: it may not run anything.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def routes() -> list[web.RouteDef]:
    return [
        web.get("/widget.js", widget_script),
        web.get("/widget/widget.css", widget_styles),
        web.get("/widget/locales/{locale}.json", widget_locale),
        web.get("/widget/art/{product_id}.svg", product_art),
        web.get("/demo/demo.css", demo_styles),
    ]
