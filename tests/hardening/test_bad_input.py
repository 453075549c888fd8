"""Bad input at every text entry point gets a clear 4xx (or is repaired), never a 5xx.

The quick app runs the real channels, error middleware and stores with a scripted NLU; the
real NLU (whose tokenizer raised on a lone surrogate) is covered by test_fuzz.py's bot.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import WSMsgType

from bot.config import Settings
from bot.domain import ConversationId
from bot.sessions import MemorySessionStore
from tests.channels.messaging.conftest import Bot, MakeBot
from tests.channels.messaging.payloads import (
    telegram_text,
    wa_text,
    whatsapp_delivery,
    whatsapp_messages,
)

from .conftest import quick_app

REST = "/webhooks/rest/webhook"
NESTED = b"[" * 5000 + b"]" * 5000
SURROGATE = b'{"sender": "x", "message": "hello \\ud800 there"}'
BAD_BODIES = {
    "lone surrogate in message": (SURROGATE, "`message` is not valid Unicode"),
    "lone surrogate in sender": (b'{"sender": "\\udfff", "message": "hi"}', "`sender`"),
    "lone surrogate in metadata": (
        b'{"sender": "x", "message": "hi", "metadata": {"a": ["\\udc00"]}}',
        "`metadata.a[0]`",
    ),
    "5000 nested brackets": (NESTED, "nested deeper than"),
    "nesting inside a field": (b'{"sender": "x", "message": ' + NESTED + b"}", "nested"),
    "NaN in metadata": (b'{"sender": "x", "message": "hi", "metadata": {"n": NaN}}', "NaN"),
    "1e999": (b'{"sender": "x", "message": "hi", "metadata": {"n": 1e999}}', "range"),
    "5000-digit sender": (b'{"sender": ' + b"7" * 5000 + b', "message": "hi"}', "digits"),
    "surrogate as UTF-8 bytes": (b'{"sender": "x", "message": "\xed\xa0\x80"}', "UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
@pytest.mark.parametrize(
    "path", [REST, "/webhooks/stream/webhook", "/model/parse", "/conversations/x/mode"]
)
async def test_bad_bodies_are_a_clear_400_everywhere(
    client_for: Any, settings: Settings, path: str, case: str
) -> None:
    body, needle = BAD_BODIES[case]
    if path == "/model/parse":
        body = body.replace(b'"message"', b'"text"')
        needle = needle.replace("`message`", "`text`")
    client = await client_for(quick_app(settings))
    method = client.put if path.endswith("/mode") else client.post
    response = await method(
        path, data=body, headers={"Content-Type": "application/json", "Authorization": "Bearer t"}
    )
    assert response.status == 400, await response.text()
    error = await response.json()
    assert error["status"] == 400
    assert needle.lower() in error["error"].lower()


async def test_nothing_of_a_refused_message_is_stored(client_for: Any, settings: Settings) -> None:
    store = MemorySessionStore()
    client = await client_for(quick_app(settings, store=store))
    assert (await client.post(REST, data=SURROGATE)).status == 400
    assert await store.events(ConversationId("x")) == []
    # The same conversation answers a good message afterwards.
    response = await client.post(REST, json={"sender": "x", "message": "hello"})
    assert response.status == 200
    assert (await response.json())[0]["recipient_id"] == "x"


async def test_a_wrong_header_byte_in_the_bearer_token_is_401_not_500(
    client_for: Any, settings: Settings
) -> None:
    client = await client_for(quick_app(settings))
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"GET /conversations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
        b"Connection: close\r\n\r\n"
    )
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:80]


async def test_the_widget_answers_bad_frames_with_an_error_frame(
    client_for: Any, settings: Settings
) -> None:
    client = await client_for(quick_app(settings))
    origin = str(client.make_url("/")).rstrip("/")
    ws = await client.ws_connect("/webhooks/webchat/ws", headers={"Origin": origin})
    await ws.send_str(json.dumps({"type": "hello", "locale": "en"}))
    for expected in ("welcome", "history"):
        assert json.loads((await ws.receive(timeout=5)).data)["type"] == expected
    frames = [
        '{"type": "message", "client_message_id": "abcdefgh1", "text": "hi \\ud800"}',
        "[" * 5000 + "]" * 5000,
        '{"type": "message", "client_message_id": "abcdefgh2", "text": "hi", "x": NaN}',
    ]
    for frame in frames:
        await ws.send_str(frame)
        message = await ws.receive(timeout=5)
        assert message.type == WSMsgType.TEXT
        reply = json.loads(message.data)
        assert reply["type"] == "error", reply
        assert reply["code"] == "bad_frame"
    # The socket stays usable: a good message is answered.
    await ws.send_str(
        json.dumps({"type": "message", "client_message_id": "abcdefgh3", "text": "hello"})
    )
    kinds = []
    async with asyncio.timeout(5):
        while "message" not in kinds:
            kinds.append(json.loads((await ws.receive()).data)["type"])
    await ws.close()


async def test_telegram_text_with_a_lone_surrogate_is_repaired_and_answered(
    make_bot: MakeBot,
) -> None:
    bot: Bot = await make_bot()
    assert await bot.telegram_update(telegram_text(7001, 42, "hello \ud800 there")) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == ["hello \ufffd there"]
    assert bot.telegram.received, "a reply went to Telegram"


async def test_whatsapp_text_with_a_lone_surrogate_is_repaired_and_answered(
    make_bot: MakeBot,
) -> None:
    bot: Bot = await make_bot()
    body = whatsapp_delivery(whatsapp_messages("16315551181", wa_text("wamid.S1", "hi \udc80")))
    assert await bot.whatsapp_delivery(body) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == ["hi \ufffd"]
    assert bot.whatsapp.received, "a reply went to WhatsApp"


@pytest.mark.parametrize(
    "body", [NESTED, b'{"update_id": 1, "message": {"text": NaN}}', b"\xff\xfe"]
)
async def test_telegram_refuses_bodies_it_cannot_read_with_400(
    make_bot: MakeBot, body: bytes
) -> None:
    bot: Bot = await make_bot()
    response = await bot.client.post(
        "/webhooks/telegram/webhook",
        data=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cr3t-Token_1"},
    )
    assert response.status == 400


async def test_a_wrong_method_is_405_with_allow(client_for: Any, settings: Settings) -> None:
    client = await client_for(quick_app(settings))
    response = await client.put(REST, json={"sender": "x", "message": "hi"})
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert (await response.json())["status"] == 405
