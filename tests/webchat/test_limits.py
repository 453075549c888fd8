"""The widget socket's defences: origins, sizes, rate limits, abuse, malformed frames."""

from __future__ import annotations

import json

import pytest
from aiohttp import WSCloseCode, WSMsgType, WSServerHandshakeError

from bot.sessions import SessionStore
from tests.webchat.conftest import SOCKET, Factory, Widget, own_origin

pytestmark = pytest.mark.parametrize("store", ["memory"], indirect=True)


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://localhost.evil.example:8080", "null"]
)
async def test_a_foreign_origin_is_refused_at_the_handshake(
    make_client: Factory, origin: str
) -> None:
    client = await make_client()
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(SOCKET, headers={"Origin": origin})
    assert refused.value.status == 403


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://localhost", None])
async def test_the_default_origins_are_the_bot_itself_and_localhost(
    make_client: Factory, origin: str | None
) -> None:
    client = await make_client()
    widget = await Widget.open(client, origin=origin or own_origin(client))
    assert (await widget.next())["type"] == "welcome"


async def test_configured_origins_replace_the_defaults(make_client: Factory) -> None:
    client = await make_client(allowed_origins=("https://*.shop.example",))
    widget = await Widget.open(client, origin="https://www.shop.example")
    assert (await widget.next())["type"] == "welcome"
    for origin in (own_origin(client), "http://localhost:3000"):
        with pytest.raises(WSServerHandshakeError):
            await client.ws_connect(SOCKET, headers={"Origin": origin})


async def test_a_plain_get_is_told_to_speak_websocket(make_client: Factory) -> None:
    client = await make_client()
    response = await client.get(SOCKET)
    assert response.status == 400


async def test_one_address_holds_a_limited_number_of_sockets(make_client: Factory) -> None:
    client = await make_client(max_connections_per_ip=2)
    first, second = await Widget.open(client), await Widget.open(client)
    with pytest.raises(WSServerHandshakeError) as refused:
        await Widget.open(client)
    assert refused.value.status == 429
    await first.next()
    await first.close()
    await second.next()
    third = await Widget.open(client)  # a socket closed frees its place
    assert (await third.next())["type"] == "welcome"


async def test_messages_beyond_the_connection_bucket_are_refused_with_a_reason(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client(connection_burst=2, connection_rate_per_min=6)
    widget = await Widget.open(client)
    await widget.welcome()
    for i in range(3):
        await widget.say("hello", cmid=f"burst-message-{i}")
    frames = await widget.until("typing", on=False)
    frames += await widget.until("typing", on=False)  # the two turns that were let through
    (error,) = [f for f in frames if f["type"] == "error"]
    assert error["code"] == "rate_limited"
    assert error["client_message_id"] == "burst-message-2"
    assert 5 <= error["retry_after_s"] <= 10.5  # one token every 10 s
    acks = [f["client_message_id"] for f in frames if f["type"] == "ack"]
    assert acks == ["burst-message-0", "burst-message-1"]


async def test_the_address_bucket_is_shared_by_its_sockets(make_client: Factory) -> None:
    client = await make_client(ip_burst=2, ip_rate_per_min=1)
    one, two = await Widget.open(client), await Widget.open(client)
    await one.welcome()
    await two.welcome()
    await one.say("hello", cmid="from-socket-one")
    await two.say("hello", cmid="from-socket-two")
    await two.say("hello", cmid="third-from-the-ip")
    error = (await two.until("error"))[-1]
    assert error["code"] == "rate_limited"
    assert error["client_message_id"] == "third-from-the-ip"


async def test_repeated_refusals_close_the_socket(make_client: Factory) -> None:
    client = await make_client(max_refusals=3)
    widget = await Widget.open(client)
    await widget.welcome()
    for _ in range(4):
        await widget.send({"type": "dance"})
    codes = []
    while True:
        message = await widget.ws.receive(timeout=5)
        if message.type != WSMsgType.TEXT:
            break
        codes.append(json.loads(message.data)["code"])
    assert codes == ["bad_frame"] * 4  # three are let go; the fourth is told, then closed
    assert widget.ws.close_code == WSCloseCode.POLICY_VIOLATION


async def test_an_overlong_message_gets_an_error_frame_and_nothing_is_stored(
    make_client: Factory, store: SessionStore
) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    welcome, _ = await widget.welcome()
    await widget.say("x" * 4001, cmid="too-long-message")
    error = await widget.next()
    assert error["code"] == "too_large"
    assert error["client_message_id"] == "too-long-message"
    assert await store.events(welcome["conversation_id"]) == []


async def test_a_frame_over_the_size_limit_closes_the_socket(make_client: Factory) -> None:
    client = await make_client(max_frame_bytes=2048)
    widget = await Widget.open(client)
    await widget.welcome()
    await widget.say("x" * 3000)
    message = await widget.ws.receive(timeout=5)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert widget.ws.close_code == WSCloseCode.MESSAGE_TOO_BIG


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "client_message_id": "short", "text": "hi"},
        {"type": "message", "client_message_id": "valid-id-123", "text": "  "},
        {"type": "message", "client_message_id": "valid-id-123", "text": "a", "payload": "/b"},
        {"type": "message", "client_message_id": "valid-id-123", "payload": "no slash"},
        {"type": "feedback", "event": -1, "value": "up"},
        {"type": "feedback", "event": 3, "value": "meh"},
        {"type": "csat", "score": 6},
        {"type": "csat", "score": True},
        {"type": "hello", "locale": "en"},
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_stays(
    make_client: Factory, frame: dict[str, object]
) -> None:
    client = await make_client()
    widget = await Widget.open(client)
    await widget.welcome()
    await widget.send(frame)
    error = await widget.next()
    assert error["type"] == "error"
    assert error["code"] == "bad_frame"
    frames = await widget.turn("hello")
    assert any(f["type"] == "message" for f in frames)


async def test_the_first_frame_must_be_hello(make_client: Factory) -> None:
    client = await make_client()
    ws = await client.ws_connect(SOCKET, headers={"Origin": own_origin(client)})
    await ws.send_str(json.dumps({"type": "message", "client_message_id": "x" * 10, "text": "hi"}))
    message = await ws.receive(timeout=5)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == WSCloseCode.POLICY_VIOLATION
