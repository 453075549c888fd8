"""Telegram Bot API channel: ``POST /webhooks/telegram/webhook``.

Telegram POSTs each ``Update`` with the secret given to ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header (``python -m bot telegram set-webhook`` registers
it). The handler checks the header in constant time (missing: 401, wrong: 403, nothing
handled), queues the work and answers 200 at once; the turn runs afterwards, in order per
chat, and its replies go out through the shared outbound client. The turn carries
``telegram:<update_id>`` as its message id: a redelivered update whose turn was stored runs
nothing and sends nothing (:mod:`bot.channels.messaging`). An update answered by a notice
alone (an edit, a sticker, an expired button) is claimed before its notice goes out.

A conversation is ``telegram:<chat id>``. A pressed inline button is a callback query whose
data is a reference to a payload the bot offered (:mod:`bot.channels.buttons`): the query is
answered (which stops the button's spinner) and the payload runs as the shopper's message.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from functools import partial
from typing import ClassVar

from aiohttp import web

from bot.appkeys import OUTBOUND, PIPELINE, SETTINGS, STORE, TURNS
from bot.channels import buttons, notices
from bot.channels.base import InputChannel
from bot.channels.messaging import first_notice, run_turn
from bot.channels.outbound import DeliveryFailed
from bot.channels.rest import read_json_object
from bot.channels.telegram_api import TelegramApi
from bot.channels.telegram_render import TelegramCall, render
from bot.channels.telegram_updates import TelegramUpdate, read_update
from bot.domain import ConversationId, IncomingMessage

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/webhooks/telegram/webhook"


def conversation_id(chat_id: int) -> ConversationId:
    """The conversation of a Telegram chat."""
    return ConversationId(f"telegram:{chat_id}")


def check_secret(request: web.Request, secret: str) -> None:
    """Refuses a request without the configured secret token header.

    Raises:
        web.HTTPUnauthorized: The header is missing.
        web.HTTPForbidden: The header does not match.
    """
    given = request.headers.get(SECRET_HEADER)
    if given is None:
        raise web.HTTPUnauthorized(reason=f"missing {SECRET_HEADER}")
    # aiohttp keeps a header's non-UTF-8 bytes as surrogate escapes: encode them back.
    if not hmac.compare_digest(given.encode(errors="surrogateescape"), secret.encode()):
        raise web.HTTPForbidden(reason=f"wrong {SECRET_HEADER}")


class TelegramChannel(InputChannel):
    name: ClassVar[str] = "telegram"

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        app = request.app
        config = app[SETTINGS].channels.telegram
        check_secret(request, config.secret_token)
        # Lone surrogates are repaired, not refused: Telegram would only deliver it again.
        update = read_update(await read_json_object(request, surrogates="replace"))
        if update.kind == "ignore" or update.chat_id is None:
            return web.Response()
        cid = conversation_id(update.chat_id)
        if not app[TURNS].has_room():
            # Not queued: Telegram delivers it again later.
            raise web.HTTPServiceUnavailable(reason="busy", headers={"Retry-After": "5"})
        # A redelivery is queued too: its turn finds the update stored and sends nothing.
        app[TURNS].submit(cid, partial(self._handle, app, cid, update))
        return web.Response()

    async def _handle(
        self, app: web.Application, cid: ConversationId, update: TelegramUpdate
    ) -> None:
        assert update.chat_id is not None  # receive() queues only updates of a chat
        api = TelegramApi(app[OUTBOUND], app[SETTINGS].channels.telegram)
        text = update.text
        delivery = f"{self.name}:{update.update_id}"
        if update.kind == "button":
            payload = await buttons.resolve(app[STORE], cid, update.text)
            assert update.callback_query_id is not None
            if payload is None and not await first_notice(app[STORE], cid, delivery):
                return
            expired = notices.BUTTON_EXPIRED if payload is None else None
            # A failure is logged and counted; the turn still runs and is answered in the chat.
            with contextlib.suppress(DeliveryFailed):
                await api.answer_callback(update.callback_query_id, expired, cid)
            if payload is None:
                return
            text = payload
        elif update.kind in ("edited", "unreadable"):
            if not await first_notice(app[STORE], cid, delivery):
                return
            if update.kind == "edited":
                notice = notices.EDITED
            else:
                assert update.unreadable is not None
                notice = notices.cannot_read(update.unreadable)
            await self._send(api, update.chat_id, cid, [_notice(notice)])
            return
        max_chars = app[SETTINGS].server.max_message_chars
        message = IncomingMessage(cid, text[:max_chars], self.name, message_id=delivery)
        replies = await run_turn(app[PIPELINE], message)
        await self._send(api, update.chat_id, cid, render(replies))

    async def _send(
        self, api: TelegramApi, chat_id: int, cid: ConversationId, calls: list[TelegramCall]
    ) -> None:
        with contextlib.suppress(DeliveryFailed):  # logged with the conversation and counted
            await api.send(chat_id, calls, conversation_id=cid)


def _notice(text: str) -> TelegramCall:
    return TelegramCall("sendMessage", {"text": text})
