"""``GET /openapi.json``: the HTTP API's description (``bot/openapi.yaml``), as JSON.

The description is data, written by hand beside the code; tests/hardening/test_openapi.py
holds it to the application's routes in both directions. What config.yml can change (the
longest message) is filled in from the running bot's settings when it is served, so clients
and fuzzers read the limits this bot enforces.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

import bot
from bot.appkeys import SETTINGS
from bot.config import Settings

SPEC_PATH = Path(__file__).with_name("openapi.yaml")


def load_spec() -> dict[str, Any]:
    """The description as written in ``bot/openapi.yaml``."""
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def spec_for(settings: Settings, written: dict[str, Any] | None = None) -> dict[str, Any]:
    """The description with this bot's version and configured limits filled in."""
    spec = copy.deepcopy(written if written is not None else load_spec())
    spec["info"]["version"] = bot.__version__
    text = spec["components"]["schemas"]["MessageText"]
    text["maxLength"] = settings.server.max_message_chars
    return spec


def routes() -> list[web.RouteDef]:
    """The route serving the description (read from disk once, on the first request)."""
    served: dict[str, Any] = {}

    async def openapi(request: web.Request) -> web.Response:
        if not served:
            served.update(spec_for(request.app[SETTINGS]))
        return web.json_response(served)

    return [web.get("/openapi.json", openapi)]
