"""Service endpoints beside the channels: health, readiness, parse, conversation admin and
erasure (bot/privacy/erase.py)."""

from __future__ import annotations

import hmac

from aiohttp import web

import bot
from bot.appkeys import (
    ACTIONS,
    EMBEDDED_ACTIONS,
    ERASER,
    PIPELINE,
    RATE_LIMITS,
    READY,
    SETTINGS,
    STATS,
    STORE,
)
from bot.channels.rest import read_json_object
from bot.domain import ConversationId, TrackerView
from bot.errors import BadRequest
from bot.web.routes import demo_page, wants_html


async def root(request: web.Request) -> web.Response:
    """The demo shop page for browsers; the bot's name and version for API clients."""
    if wants_html(request):
        return await demo_page(request)
    return web.json_response({"name": "concierge", "version": bot.__version__})


async def health(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: models loaded, session store and action server reachable.

    Also says which action server the bot talks to: its URL and, when ``bot run`` started
    it, the pid of that process (a stale server on the same port is never used instead).
    """
    checks = {
        "models": all(request.app[READY].values()),
        "sessions": await request.app[STORE].ping(),
        "action_server": await request.app[ACTIONS].health(),
    }
    status = 200 if all(checks.values()) else 503
    embedded = request.app.get(EMBEDDED_ACTIONS)
    action_server = {
        "url": embedded.url if embedded else request.app[SETTINGS].action_server.url,
        "embedded": embedded is not None,
        "pid": embedded.pid if embedded else None,
    }
    body = {"ready": status == 200, "checks": checks, "action_server": action_server}
    return web.json_response(body, status=status)


async def stats(request: web.Request) -> web.Response:
    """Counters for operators: how well concurrent messages share encoder passes, cache hits."""
    return web.json_response(request.app[STATS]())


async def parse(request: web.Request) -> web.Response:
    """Rasa's ``POST /model/parse``: intent, ranking and entities for a text."""
    request.app[RATE_LIMITS].check_address(request)
    body = await read_json_object(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("`text` must be a non-empty string")
    max_chars = request.app[SETTINGS].server.max_message_chars
    if len(text) > max_chars:
        raise BadRequest(f"`text` is longer than {max_chars} characters", status=413)
    return web.json_response(await request.app[PIPELINE].parse(text))


def _authorise(request: web.Request) -> None:
    token = request.app[SETTINGS].server.api_token
    if not token:
        raise web.HTTPForbidden(reason="the conversations API is disabled: set server.api_token")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    # aiohttp keeps a header's non-UTF-8 bytes as surrogate escapes: encode them back.
    if not hmac.compare_digest(given.encode(errors="surrogateescape"), token.encode()):
        raise web.HTTPUnauthorized(reason="missing or wrong bearer token")


async def list_conversations(request: web.Request) -> web.Response:
    _authorise(request)
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise BadRequest("`limit` must be a whole number") from None
    if not 1 <= limit <= 1000:
        raise BadRequest("`limit` must be between 1 and 1000")
    items, cursor = await request.app[STORE].list_conversations(
        cursor=request.query.get("cursor"), limit=limit
    )
    return web.json_response({"conversations": [i.to_dict() for i in items], "next_cursor": cursor})


async def export_conversation(request: web.Request) -> web.Response:
    _authorise(request)
    cid = ConversationId(request.match_info["conversation_id"])
    exported = await request.app[STORE].export(cid)
    if exported is None:
        raise web.HTTPNotFound(reason="no such conversation")
    body = exported.to_dict()
    # What the bot knows now (customer, order, buying profile), so an agent taking over or a
    # data-access request need not replay the events to read it.
    slots = TrackerView.replay(cid, exported.events).slots
    body["slots"] = {name: value for name, value in slots.items() if value is not None}
    return web.json_response(body)


async def delete_conversation(request: web.Request) -> web.Response:
    """Erases the conversation from the session store, the console's database and caches."""
    _authorise(request)
    cid = ConversationId(request.match_info["conversation_id"])
    report = await request.app[ERASER].erase_conversation(cid)
    if not report.found:
        raise web.HTTPNotFound(reason="no such conversation")
    return web.json_response({"deleted": cid, "erased": report.to_dict()})


async def delete_shopper(request: web.Request) -> web.Response:
    """Erases every conversation of a shopper, named by a conversation id or an email."""
    _authorise(request)
    shopper = request.match_info["shopper"].strip()
    if not shopper:
        raise BadRequest("name the shopper by a conversation id or an email address")
    report = await request.app[ERASER].erase_shopper(shopper)
    if not report.found:
        raise web.HTTPNotFound(reason="nothing is stored about this shopper")
    return web.json_response({"shopper": shopper, "erased": report.to_dict()})


async def set_mode(request: web.Request) -> web.Response:
    """Hands a conversation back to the bot (``bot``) or to people (``human``)."""
    _authorise(request)
    body = await read_json_object(request)
    mode = body.get("mode")
    if mode not in ("bot", "human"):
        raise BadRequest("`mode` must be 'bot' or 'human'")
    cid = ConversationId(request.match_info["conversation_id"])
    await request.app[STORE].set_mode(cid, mode)
    return web.json_response({"conversation_id": cid, "mode": mode})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/", root),
        web.get("/health", health),
        web.get("/ready", ready),
        web.get("/stats", stats),
        web.post("/model/parse", parse),
        web.get("/conversations", list_conversations),
        web.get("/conversations/{conversation_id}", export_conversation),
        web.delete("/conversations/{conversation_id}", delete_conversation),
        web.put("/conversations/{conversation_id}/mode", set_mode),
        web.delete("/shoppers/{shopper}", delete_shopper),
    ]
