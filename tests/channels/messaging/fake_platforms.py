"""Small in-process servers that speak the platform endpoints the bot calls.

Telegram: ``POST /bot<token>/<method>`` for sendMessage, sendPhoto, answerCallbackQuery,
setWebhook, deleteWebhook and getWebhookInfo, answering ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code", "description", "parameters"?}`` as the Bot API does, and
refusing what the API refuses (a wrong token, ``callback_data`` over 64 bytes, a text over 4096
characters, a caption over 1024). WhatsApp: ``POST /<phone_number_id>/messages`` with a bearer
token, checking the Cloud API's limits (three reply buttons of 20 characters, ten list rows of
24, bodies of 1024) and answering with the new message's ``wamid``.

Each records every request it received, and can be told to fail the next ones: a status with
a body and headers (500, a 429 with ``retry_after``), or a delay longer than the bot's timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 0

    @property
    def method(self) -> str:
        """The API method (Telegram) or the last path segment."""
        return self.path.rsplit("/", 1)[-1]


@dataclass
class Failure:
    status: int = 500
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class FakePlatform:
    """Shared mechanics: start on port 0, record, fail on demand."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._failures: deque[Failure] = deque()
        self._server: TestServer | None = None

    def fail_next(self, *failures: Failure) -> None:
        self._failures.extend(failures)

    def fail_always(self, failure: Failure, times: int = 100) -> None:
        self._failures.extend([failure] * times)

    def recover(self) -> None:
        """Forgets the failures still planned."""
        self._failures.clear()

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    def ok(self, method: str | None = None) -> list[Received]:
        """Requests that were answered 2xx, optionally of one method."""
        return [
            r
            for r in self.received
            if 200 <= r.status < 300 and (method is None or r.method == method)
        ]

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        record = Received(request.path, body, dict(request.headers))
        self.received.append(record)
        if self._failures:
            failure = self._failures.popleft()
            if failure.delay_s:
                await asyncio.sleep(failure.delay_s)
            response = web.json_response(
                failure.body or {}, status=failure.status, headers=failure.headers
            )
        else:
            response = self.answer(request, body)
        record.status = response.status
        return response

    def answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        raise NotImplementedError


def telegram_error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        error["parameters"] = parameters
    return error


class FakeTelegram(FakePlatform):
    """The Bot API methods Concierge calls, for one bot token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.webhook: dict[str, Any] = {}
        self._message_ids = itertools.count(100)

    def answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request.path)
        if match is None or match[1] != self.token:
            return web.json_response(telegram_error(401, "Unauthorized"), status=401)
        method = match[2]
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return web.json_response(telegram_error(404, "Not Found"), status=404)
        try:
            result = handler(body)
        except ValueError as exc:
            return web.json_response(telegram_error(400, f"Bad Request: {exc}"), status=400)
        return web.json_response({"ok": True, "result": result})

    def _message(self, body: dict[str, Any], **content: Any) -> dict[str, Any]:
        if not isinstance(body.get("chat_id"), int | str):
            raise ValueError("chat not found")
        _check_keyboard(body.get("reply_markup"))
        chat = {"id": body["chat_id"], "type": "private"}
        return {"message_id": next(self._message_ids), "date": 1, "chat": chat, **content}

    def _sendMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("message text is empty")
        if len(text) > 4096:
            raise ValueError("message is too long")
        return self._message(body, text=text)

    def _sendPhoto(self, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("photo"), str):
            raise ValueError("there is no photo in the request")
        if len(body.get("caption", "")) > 1024:
            raise ValueError("message caption is too long")
        return self._message(body, photo=[{"file_id": "f", "width": 1, "height": 1}])

    def _answerCallbackQuery(self, body: dict[str, Any]) -> bool:
        if not isinstance(body.get("callback_query_id"), str):
            raise ValueError("query is too old and response timeout expired or query ID is invalid")
        if len(body.get("text", "")) > 200:
            raise ValueError("text is too long")
        return True

    def _setWebhook(self, body: dict[str, Any]) -> bool:
        url = body.get("url", "")
        if not url.startswith("https://"):
            raise ValueError("bad webhook: An HTTPS URL must be provided for webhook")
        secret = body.get("secret_token", "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("bad webhook: secret token contains unallowed characters")
        self.webhook = dict(body)
        return True

    def _deleteWebhook(self, body: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _getWebhookInfo(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
            "allowed_updates": self.webhook.get("allowed_updates", []),
        }


def _check_keyboard(markup: Any) -> None:
    if markup is None:
        return
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise ValueError("can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise ValueError("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data", "")
            if not 1 <= len(data.encode()) <= 64:
                raise ValueError("BUTTON_DATA_INVALID")


def graph_error(code: int, message: str, status: int = 400) -> web.Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    return web.json_response(body, status=status)


class FakeWhatsApp(FakePlatform):
    """``POST /<phone_number_id>/messages`` of the Cloud API, for one number and token."""

    def __init__(self, phone_number_id: str, access_token: str) -> None:
        super().__init__()
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self._ids = itertools.count(1)

    def answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return graph_error(190, "Invalid OAuth access token.", status=401)
        if request.path != f"/{self.phone_number_id}/messages":
            return graph_error(100, "Unsupported post request.")
        try:
            _check_message(body)
        except ValueError as exc:
            return graph_error(100, f"(#100) Invalid parameter: {exc}")
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": f"wamid.OUT{next(self._ids)}"}],
            }
        )


def _check_message(body: dict[str, Any]) -> None:
    if body.get("messaging_product") != "whatsapp" or not body.get("to"):
        raise ValueError("messaging_product and to are required")
    kind = body.get("type")
    if kind == "text":
        text = body.get("text", {}).get("body", "")
        if not text or len(text) > 4096:
            raise ValueError("text.body must be 1 to 4096 characters")
    elif kind == "image":
        image = body.get("image", {})
        if not image.get("link") or len(image.get("caption", "")) > 1024:
            raise ValueError("image.link is required; caption at most 1024")
    elif kind == "interactive":
        _check_interactive(body.get("interactive", {}))
    else:
        raise ValueError(f"type {kind!r}")


def _check_interactive(interactive: dict[str, Any]) -> None:
    text = interactive.get("body", {}).get("text", "")
    if not text or len(text) > 1024:
        raise ValueError("interactive.body.text must be 1 to 1024 characters")
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        buttons = action.get("buttons", [])
        if not 1 <= len(buttons) <= 3:
            raise ValueError("1 to 3 reply buttons")
        titles = [b["reply"]["title"] for b in buttons]
        if any(not 1 <= len(t) <= 20 for t in titles) or len(set(titles)) != len(titles):
            raise ValueError("button titles must be unique, 1 to 20 characters")
        if any(not 1 <= len(b["reply"]["id"]) <= 256 for b in buttons):
            raise ValueError("button ids must be 1 to 256 characters")
    elif interactive.get("type") == "list":
        if not 1 <= len(action.get("button", "")) <= 20:
            raise ValueError("list button label must be 1 to 20 characters")
        rows = [row for section in action.get("sections", []) for row in section["rows"]]
        if not 1 <= len(rows) <= 10:
            raise ValueError("1 to 10 rows")
        for row in rows:
            if not 1 <= len(row["title"]) <= 24 or len(row.get("description", "")) > 72:
                raise ValueError("row title 1 to 24, description at most 72 characters")
            if not 1 <= len(row["id"]) <= 200:
                raise ValueError("row id 1 to 200 characters")
    else:
        raise ValueError(f"interactive type {interactive.get('type')!r}")
