"""Streaming variant of the REST channel: ``POST /webhooks/stream/webhook``.

The request is the Rasa REST body. The response is newline-delimited JSON
(``application/x-ndjson``), one event per line, flushed as it happens::

    {"type": "delta", "text": "You can return most items "}   # answer text, as it is checked
    {"type": "message", "recipient_id": "...", "text": "..."}  # each final message (REST shape)
    {"type": "done"}

Deltas are a draft: the ``message`` events that follow are the turn's final replies, and a
client shows them in place of the draft (they differ when the guard replaced an answer with
the best passage). When the client goes away mid-answer, generation stops and the turn is
still stored, so the conversation's history stays whole.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar

from aiohttp import web

from bot.appkeys import PIPELINE, RATE_LIMITS, SETTINGS
from bot.channels.base import InputChannel
from bot.channels.rest import incoming_message, read_json_object
from bot.errors import ConciergeError
from bot.generation.backend import ConsumerGone
from bot.pipeline import rest_messages

log = logging.getLogger(__name__)


class StreamChannel(InputChannel):
    name: ClassVar[str] = "stream"

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/webhooks/stream/webhook", self.receive)]

    async def receive(self, request: web.Request) -> web.StreamResponse:
        # Everything that can be refused is checked before the 200 is sent.
        limits = request.app[RATE_LIMITS]
        limits.check_address(request)
        body = await read_json_object(request)
        settings = request.app[SETTINGS]
        message = incoming_message(body, self.name, settings.server.max_message_chars)
        limits.check_sender(message.sender)
        response = web.StreamResponse(
            headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        gone = False

        async def send(event: dict[str, Any]) -> None:
            nonlocal gone
            if gone:
                raise ConsumerGone("the client closed the stream")
            try:
                await response.write(json.dumps(event, ensure_ascii=False).encode() + b"\n")
            except (ConnectionResetError, RuntimeError) as exc:  # aiohttp: closing transport
                gone = True
                raise ConsumerGone("the client closed the stream") from exc

        async def delta(text: str) -> None:
            await send({"type": "delta", "text": text})

        # The turn runs in its own task: if aiohttp cancels this handler because the client
        # left, the turn still finishes (its generation stopped by ``gone``) and is stored.
        turn = asyncio.create_task(
            request.app[PIPELINE].handle(message, sink=delta, gone=lambda: gone)
        )
        try:
            try:
                replies = await asyncio.shield(turn)
            except asyncio.CancelledError:
                gone = True
                raise
            for item in rest_messages(message.sender, replies):
                await send({"type": "message", **item})
            await send({"type": "done"})
            await response.write_eof()
        except ConsumerGone:
            log.info("stream client for %s left; the turn was stored", message.sender)
        except ConciergeError as exc:
            # The status line is gone already; the error travels as the stream's last event.
            log.warning("stream turn for %s failed: %s", message.sender, exc)
            try:
                await send({"type": "error", "message": str(exc)})
                await response.write_eof()
            except ConsumerGone:
                pass
        return response
