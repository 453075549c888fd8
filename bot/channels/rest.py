"""Rasa-compatible REST channel: ``POST /webhooks/rest/webhook``.

Request ``{"sender": "...", "message": "...", "metadata": {...}?}``; response a JSON list of
``{"recipient_id", "text"?, "buttons"?, "image"?, "custom"?}``, exactly as Rasa's ``rest``
channel, so existing Rasa front ends and test tools work unchanged.

Requests over ``server.rate_limit`` (per sender, per client address) are answered 429 with
``Retry-After`` (bot/channels/rest_limits.py).

An optional ``"message_id"`` (a string or number, at most 256 characters) makes a retry safe:
the turn stores it on the shopper's event, in the same atomic append as the replies, and a
message id already stored in this conversation is answered with the replies stored for it;
nothing runs again. Whether it is stored is read under the conversation's lock
(bot/deliveries.py), so a turn that failed or was cut off (409, 503, a killed worker) stored
nothing and its retry runs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from aiohttp import web

from bot.appkeys import PIPELINE, RATE_LIMITS, SETTINGS
from bot.channels.base import InputChannel
from bot.domain import ConversationId, IncomingMessage
from bot.errors import BadRequest
from bot.input_checks import SurrogatePolicy, parse_json, require_unicode
from bot.pipeline import rest_messages
from bot.sessions.base import MAX_DELIVERY_ID_CHARS

MAX_SENDER_CHARS = 256


async def read_json_object(
    request: web.Request, *, surrogates: SurrogatePolicy = "reject"
) -> dict[str, Any]:
    """The request body as a JSON object, or a :class:`BadRequest` that says what is wrong.

    The body is checked where it enters (:mod:`bot.input_checks`): nesting is bounded and
    every string, keys included, is valid Unicode (``surrogates="replace"`` repairs lone
    surrogates instead, for platforms that would only deliver the same update again).
    """
    max_bytes = request.app[SETTINGS].server.max_body_bytes
    if request.content_length is not None and request.content_length >= max_bytes:
        raise BadRequest(f"body too large: at most {max_bytes - 1} bytes", status=413)
    raw = await request.read()
    if len(raw) >= max_bytes:
        raise BadRequest(f"body too large: at most {max_bytes - 1} bytes", status=413)
    if not raw.strip():
        raise BadRequest("empty body: send a JSON object")
    body = parse_json(raw, surrogates=surrogates)
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def incoming_message(body: dict[str, Any], channel: str, max_chars: int) -> IncomingMessage:
    sender = body.get("sender", "default")
    if isinstance(sender, bool) or not isinstance(sender, str | int):
        raise BadRequest("`sender` must be a string")
    sender = require_unicode(str(sender).strip(), "sender")
    if not sender or len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f"`sender` must be 1 to {MAX_SENDER_CHARS} characters")
    message = body.get("message")
    if not isinstance(message, str):
        raise BadRequest("`message` must be a string")
    require_unicode(message, "message")
    if not message.strip():
        raise BadRequest("`message` is empty")
    if len(message) > max_chars:
        raise BadRequest(f"`message` is longer than {max_chars} characters", status=413)
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest("`metadata` must be a JSON object")
    return IncomingMessage(ConversationId(sender), message.strip(), channel, metadata)


def delivery_id(body: dict[str, Any]) -> str | None:
    """The optional ``message_id`` of a REST body, as the store's delivery id."""
    value = body.get("message_id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRequest("`message_id` must be a string or a number")
    text = str(value)
    if not text or len(text) > MAX_DELIVERY_ID_CHARS:
        raise BadRequest(f"`message_id` must be 1 to {MAX_DELIVERY_ID_CHARS} characters")
    return text


class RestChannel(InputChannel):
    name: ClassVar[str] = "rest"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/webhooks/rest/", self.status),
            web.post("/webhooks/rest/webhook", self.receive),
        ]

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def receive(self, request: web.Request) -> web.Response:
        limits = request.app[RATE_LIMITS]
        limits.check_address(request)  # before the body is read: floods are refused cheaply
        body = await read_json_object(request)
        settings = request.app[SETTINGS]
        message = incoming_message(body, self.name, settings.server.max_message_chars)
        limits.check_sender(message.sender)
        message = replace(message, message_id=delivery_id(body))
        replies = await self.handle(request.app[PIPELINE], message)
        return web.json_response(rest_messages(message.sender, replies))
