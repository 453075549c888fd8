"""The console's JSON API under ``/console/api``: sign-in, queue, conversations, analytics.

Every handler but login checks the sign-in first (401 anonymous, 403 wrong role, CSRF token
or origin); errors are JSON through the app's error middleware.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from bot.channels.rest import read_json_object
from bot.console import analytics
from bot.console.assist import assist
from bot.console.auth import LoginRefused, SignedIn
from bot.console.customer import customer_panel, shopper_name
from bot.console.service import CONSOLE, Console
from bot.console.store import AgentAccount, AgentId, Handoff
from bot.console.transcript import transcript
from bot.domain import ConversationId, TrackerView
from bot.errors import BadRequest

PREFIX = "/console/api"


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def _me(signed_in: SignedIn) -> dict[str, Any]:
    return {"agent": signed_in.agent.public(), "csrf": signed_in.session.csrf_token}


def _string(body: dict[str, Any], key: str, limit: int = 4000) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"`{key}` must be a non-empty string")
    if len(value) > limit:
        raise BadRequest(f"`{key}` is longer than {limit} characters", status=413)
    return value


def _handoff_id(request: web.Request) -> int:
    try:
        return int(request.match_info["handoff_id"])
    except ValueError:
        raise BadRequest("handoff ids are numbers", status=404) from None


async def login(request: web.Request) -> web.Response:
    console = _console(request)
    body = await read_json_object(request)
    try:
        signed_in, token = await console.auth.login(
            _string(body, "email", 320), _string(body, "password", 1024)
        )
    except LoginRefused as exc:
        return web.json_response({"error": str(exc), "status": exc.status}, status=exc.status)
    response = web.json_response(_me(signed_in))
    console.auth.set_cookie(request, response, token)
    return response


async def logout(request: web.Request) -> web.Response:
    console = _console(request)
    signed_in = await console.auth.check(request)
    await console.auth.logout(signed_in)
    response = web.json_response({"signed_out": True})
    console.auth.clear_cookie(request, response)
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(_me(await _console(request).auth.check(request)))


async def _names(console: Console) -> dict[str, str]:
    return {a.id: a.name for a in await console.db.list_agents()}


def _row(handoff: Handoff, names: dict[str, str], now: float) -> dict[str, Any]:
    return {
        **handoff.to_dict(),
        "agent_name": names.get(handoff.agent_id or ""),
        "waiting_s": round((handoff.claimed_at or now) - handoff.created, 1),
    }


async def queue(request: web.Request) -> web.Response:
    console = _console(request)
    await console.auth.check(request)
    names, now = await _names(console), time.time()
    online = await console.bus.online()
    rows = [_row(h, names, now) for h in await console.db.handoffs()]
    return web.json_response(
        {
            "handoffs": rows,
            "now": now,
            "online": sorted(names.get(a, a) for a in online),
        }
    )


async def agents(request: web.Request) -> web.Response:
    console = _console(request)
    await console.auth.check(request)
    online = await console.bus.online()
    return web.json_response(
        {
            "agents": [
                {**a.public(), "online": a.id in online}
                for a in await console.db.list_agents()
                if not a.disabled
            ]
        }
    )


async def _act(request: web.Request, action: str) -> web.Response:
    console = _console(request)
    signed_in = await console.auth.check(request)
    agent, handoff_id = signed_in.agent, _handoff_id(request)
    desk = console.desk
    if action == "claim":
        handoff = await desk.claim(agent, handoff_id)
    elif action == "reply":
        body = await read_json_object(request)
        handoff = await desk.reply(agent, handoff_id, _string(body, "text"))
    elif action == "transfer":
        body = await read_json_object(request)
        to = await console.db.get_agent(AgentId(_string(body, "agent_id", 64)))
        if to is None:
            raise BadRequest("no such agent", status=404)
        handoff = await desk.transfer(agent, handoff_id, to)
    elif action == "hand-back":
        handoff = await desk.hand_back(agent, handoff_id)
    else:
        handoff = await desk.close(agent, handoff_id)
    return web.json_response({"handoff": _row(handoff, await _names(console), time.time())})


def _action(name: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return await _act(request, name)

    return handler


async def conversation(request: web.Request) -> web.Response:
    """Transcript, handoffs, notes and the customer panel of one conversation."""
    console = _console(request)
    await console.auth.check(request)
    cid = ConversationId(request.match_info["cid"])
    events = await console.sessions.events(cid)
    if not events:
        raise BadRequest("no such conversation", status=404)
    slots = TrackerView.replay(cid, events).slots
    names, now = await _names(console), time.time()
    return web.json_response(
        {
            "conversation_id": cid,
            "mode": await console.sessions.get_mode(cid),
            "next": len(events),
            "items": transcript(events),
            "handoffs": [_row(h, names, now) for h in await console.db.handoffs_of(cid)],
            "notes": [
                {"id": n.id, "agent": n.agent_name, "text": n.text, "created": n.created}
                for n in await console.db.notes(cid)
            ],
            "customer": await customer_panel(
                cid, events, slots, db=console.db, orders=console.orders
            ),
        }
    )


async def assistance(request: web.Request) -> web.Response:
    """Policy passages for the shopper's last question and a suggested reply."""
    console = _console(request)
    await console.auth.check(request)
    cid = ConversationId(request.match_info["cid"])
    if console.knowledge is None:
        raise BadRequest("the knowledge base is not loaded yet", status=503)
    events = await console.sessions.events(cid)
    settings = console.settings
    slots = dict(TrackerView.replay(cid, events).slots)
    slots["customer_name"] = await shopper_name(slots, console.orders)
    return web.json_response(
        await assist(
            console.knowledge,
            events,
            slots,
            placeholders=settings.shop.placeholders(),
            min_similarity=settings.policy.answer_min_score,
            top_k=settings.knowledge.top_k,
        )
    )


async def add_note(request: web.Request) -> web.Response:
    console = _console(request)
    signed_in = await console.auth.check(request)
    body = await read_json_object(request)
    note = await console.desk.note(
        signed_in.agent, request.match_info["cid"], _string(body, "text")
    )
    return web.json_response(
        {
            "note": {
                "id": note.id,
                "agent": note.agent_name,
                "text": note.text,
                "created": note.created,
            }
        },
        status=201,
    )


async def figures(request: web.Request) -> web.Response:
    """The analytics page's figures (admins only)."""
    console = _console(request)
    await console.auth.check(request, role="admin")
    try:
        days = int(request.query.get("days", console.settings.console.analytics_days))
    except ValueError:
        raise BadRequest("`days` must be a whole number") from None
    if not 1 <= days <= 366:
        raise BadRequest("`days` must be 1 to 366")
    await console.sessions.recorder.flush()
    return web.json_response(await analytics.figures(console.db, days=days, now=time.time()))


def routes() -> list[web.RouteDef]:
    handoff = PREFIX + "/handoffs/{handoff_id}/"
    return [
        web.post(PREFIX + "/login", login),
        web.post(PREFIX + "/logout", logout),
        web.get(PREFIX + "/me", me),
        web.get(PREFIX + "/queue", queue),
        web.get(PREFIX + "/agents", agents),
        *(
            web.post(handoff + name, _action(name))
            for name in ("claim", "reply", "transfer", "hand-back", "close")
        ),
        web.get(PREFIX + "/conversations/{cid}", conversation),
        web.get(PREFIX + "/conversations/{cid}/assist", assistance),
        web.post(PREFIX + "/conversations/{cid}/notes", add_note),
        web.get(PREFIX + "/analytics", figures),
    ]


__all__ = ["AgentAccount", "routes"]
