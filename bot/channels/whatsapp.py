"""WhatsApp Cloud API channel: ``GET`` and ``POST /webhooks/whatsapp/webhook``.

``GET`` is Meta's verification handshake: ``hub.mode=subscribe``, ``hub.verify_token`` (the
configured ``verify_token``, compared in constant time) and ``hub.challenge``, which is echoed
as plain text; anything else is 403.

``POST`` is a delivery. Its ``X-Hub-Signature-256`` header (``sha256=<hex>``, an HMAC-SHA256 of
the raw body with the app secret) is checked before the body is parsed: missing is 401, wrong
is 403, and nothing is handled. Each message of the delivery (there may be several, across
entries) is queued in its sender's conversation; the answer is 200 at once. Its turn carries
``whatsapp:<wamid>`` as its message id: a redelivered message whose turn was stored runs
nothing and sends nothing (:mod:`bot.channels.messaging`); one answered by a notice alone (a
voice note, an expired button) is claimed before its notice goes out. Status updates of the
bot's replies are acknowledged and ignored. A conversation is ``whatsapp:<wa_id>``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
from functools import partial
from typing import Any, ClassVar

from aiohttp import web

from bot.appkeys import OUTBOUND, PIPELINE, SETTINGS, STORE, TURNS
from bot.channels import buttons, notices
from bot.channels.base import InputChannel
from bot.channels.messaging import first_notice, run_turn
from bot.channels.outbound import DeliveryFailed
from bot.channels.whatsapp_api import WhatsAppApi
from bot.channels.whatsapp_events import WhatsAppMessage, read_delivery
from bot.channels.whatsapp_render import WhatsAppBody, render, text_body
from bot.domain import ConversationId, IncomingMessage
from bot.errors import BadRequest
from bot.input_checks import parse_json

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
PATH = "/webhooks/whatsapp/webhook"


def conversation_id(wa_id: str) -> ConversationId:
    """The conversation of a WhatsApp user."""
    return ConversationId(f"whatsapp:{wa_id}")


def signature(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def check_signature(request: web.Request, body: bytes, app_secret: str) -> None:
    """Refuses a delivery that the app secret did not sign.

    Raises:
        web.HTTPUnauthorized: The header is missing.
        web.HTTPForbidden: The signature does not match the body.
    """
    given = request.headers.get(SIGNATURE_HEADER)
    if given is None:
        raise web.HTTPUnauthorized(reason=f"missing {SIGNATURE_HEADER}")
    expected = signature(body, app_secret)
    # aiohttp keeps a header's non-UTF-8 bytes as surrogate escapes: encode them back.
    given_bytes = given.strip().lower().encode(errors="surrogateescape")
    if not hmac.compare_digest(given_bytes, expected.encode()):
        raise web.HTTPForbidden(reason=f"wrong {SIGNATURE_HEADER}")


class WhatsAppChannel(InputChannel):
    name: ClassVar[str] = "whatsapp"

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.verify), web.post(PATH, self.receive)]

    async def verify(self, request: web.Request) -> web.Response:
        config = request.app[SETTINGS].channels.whatsapp
        query = request.query
        token = query.get("hub.verify_token", "")
        challenge = query.get("hub.challenge")
        token_ok = hmac.compare_digest(token.encode(), config.verify_token.encode())
        if query.get("hub.mode") != "subscribe" or not token_ok or challenge is None:
            raise web.HTTPForbidden(reason="verification failed")
        return web.Response(text=challenge)

    async def receive(self, request: web.Request) -> web.Response:
        app = request.app
        config = app[SETTINGS].channels.whatsapp
        raw = await request.read()  # bounded by the app's client_max_size (413)
        check_signature(request, raw, config.app_secret)
        delivery = read_delivery(_json_object(raw), config.phone_number_id)
        for message in delivery.messages:
            if message.kind == "ignore":
                continue
            cid = conversation_id(message.wa_id)
            if not app[TURNS].has_room():
                # Meta delivers the whole batch again; the turns of those already queued then
                # find them stored and send nothing.
                raise web.HTTPServiceUnavailable(reason="busy", headers={"Retry-After": "5"})
            app[TURNS].submit(cid, partial(self.handle_message, app, cid, message))
        return web.Response()

    async def handle_message(
        self, app: web.Application, cid: ConversationId, message: WhatsAppMessage
    ) -> None:
        """Runs one queued message and sends what answers it."""
        api = WhatsAppApi(app[OUTBOUND], app[SETTINGS].channels.whatsapp)
        text = message.text
        delivery = f"{self.name}:{message.message_id}"
        if message.kind == "unreadable":
            assert message.unreadable is not None
            if await first_notice(app[STORE], cid, delivery):
                notice = notices.cannot_read(message.unreadable)
                await _send(api, message.wa_id, cid, [text_body(notice)])
            return
        if message.kind == "button":
            payload = await buttons.resolve(app[STORE], cid, message.text)
            if payload is None and buttons.is_button_ref(message.text):
                if await first_notice(app[STORE], cid, delivery):
                    await _send(api, message.wa_id, cid, [text_body(notices.BUTTON_EXPIRED)])
                return
            # An id that is not ours (a button of a template message) reads as its title.
            text = payload if payload is not None else message.title or message.text
        max_chars = app[SETTINGS].server.max_message_chars
        turn = IncomingMessage(cid, text[:max_chars], self.name, message_id=delivery)
        replies = await run_turn(app[PIPELINE], turn)
        await _send(api, message.wa_id, cid, render(replies))


async def _send(
    api: WhatsAppApi, wa_id: str, cid: ConversationId, bodies: list[WhatsAppBody]
) -> None:
    with contextlib.suppress(DeliveryFailed):  # logged with the conversation and counted
        await api.send(wa_id, bodies, conversation_id=cid)


def _json_object(raw: bytes) -> dict[str, Any]:
    # Lone surrogates are repaired, not refused: Meta would only deliver the body again.
    body = parse_json(raw, surrogates="replace")
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body
