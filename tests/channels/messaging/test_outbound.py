"""The outbound client and a platform outage: retried, honouring 429, then counted as failed."""

from __future__ import annotations

import logging
import time

import pytest

from bot.channels.outbound import DeliveryFailed, OutboundClient
from bot.retry import Backoff

from .conftest import BOT_TOKEN, MakeBot
from .fake_platforms import Failure, FakeTelegram, FakeWhatsApp, telegram_error
from .payloads import telegram_text, wa_text, whatsapp_delivery, whatsapp_messages

QUICK = Backoff(attempts=3, base_s=0.01, factor=2.0, cap_s=0.05, jitter=0.0)


def send_message_url(api: FakeTelegram) -> str:
    return f"{api.url}/bot{BOT_TOKEN}/sendMessage"


async def test_server_errors_are_retried_until_one_succeeds(telegram_api: FakeTelegram) -> None:
    client = OutboundClient(backoff=QUICK)
    telegram_api.fail_next(Failure(500), Failure(502, {"ok": False, "description": "Bad Gateway"}))
    try:
        answer = await client.post_json(
            send_message_url(telegram_api), {"chat_id": 1, "text": "hi"}, what="test"
        )
    finally:
        await client.aclose()
    assert answer["ok"] is True
    assert [r.status for r in telegram_api.received] == [500, 502, 200]
    assert client.counters.to_dict() == {"sent": 1, "retried": 2, "failed": 0}


async def test_telegram_429_waits_the_retry_after_it_names(telegram_api: FakeTelegram) -> None:
    client = OutboundClient(backoff=QUICK)
    flood = telegram_error(429, "Too Many Requests: retry after 1", retry_after=1)
    telegram_api.fail_next(Failure(429, flood))
    started = time.monotonic()
    try:
        await client.post_json(
            send_message_url(telegram_api), {"chat_id": 1, "text": "hi"}, what="t"
        )
    finally:
        await client.aclose()
    waited = time.monotonic() - started
    assert 1.0 <= waited < 3.0, waited  # the backoff alone would wait 0.01 s
    assert client.counters.to_dict() == {"sent": 1, "retried": 1, "failed": 0}


async def test_a_retry_after_header_is_honoured(whatsapp_api: FakeWhatsApp) -> None:
    client = OutboundClient(backoff=QUICK)
    throttled = {"error": {"message": "Rate limit hit", "code": 130429}}
    whatsapp_api.fail_next(Failure(429, throttled, headers={"Retry-After": "1"}))
    started = time.monotonic()
    body = {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}}
    try:
        await client.post_json(
            f"{whatsapp_api.url}/{whatsapp_api.phone_number_id}/messages",
            body,
            what="t",
            headers={"Authorization": f"Bearer {whatsapp_api.access_token}"},
        )
    finally:
        await client.aclose()
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in whatsapp_api.received] == [429, 200]


async def test_graph_throttling_sent_as_400_is_retried(whatsapp_api: FakeWhatsApp) -> None:
    client = OutboundClient(backoff=QUICK)
    throttled = {"error": {"message": "Spam rate limit hit", "code": 131048}}
    whatsapp_api.fail_next(Failure(400, throttled))
    body = {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}}
    try:
        await client.post_json(
            f"{whatsapp_api.url}/{whatsapp_api.phone_number_id}/messages",
            body,
            what="t",
            headers={"Authorization": f"Bearer {whatsapp_api.access_token}"},
        )
    finally:
        await client.aclose()
    assert [r.status for r in whatsapp_api.received] == [400, 200]


async def test_a_refusal_is_not_retried(telegram_api: FakeTelegram) -> None:
    client = OutboundClient(backoff=QUICK)
    blocked = telegram_error(403, "Forbidden: bot was blocked by the user")
    telegram_api.fail_next(Failure(403, blocked))
    try:
        with pytest.raises(DeliveryFailed, match="blocked by the user") as caught:
            await client.post_json(
                send_message_url(telegram_api),
                {"chat_id": 1, "text": "hi"},
                what="telegram sendMessage",
                conversation_id="telegram:1",
            )
    finally:
        await client.aclose()
    assert caught.value.conversation_id == "telegram:1"
    assert len(telegram_api.received) == 1
    assert client.counters.to_dict() == {"sent": 0, "retried": 0, "failed": 1}


async def test_a_wait_longer_than_allowed_gives_up_at_once(telegram_api: FakeTelegram) -> None:
    client = OutboundClient(backoff=QUICK, max_retry_after_s=5)
    telegram_api.fail_next(Failure(429, telegram_error(429, "Too Many Requests", retry_after=3600)))
    try:
        with pytest.raises(DeliveryFailed):
            await client.post_json(send_message_url(telegram_api), {"chat_id": 1}, what="t")
    finally:
        await client.aclose()
    assert len(telegram_api.received) == 1


async def test_timeouts_are_retried_then_given_up(telegram_api: FakeTelegram) -> None:
    client = OutboundClient(timeout_s=0.2, backoff=QUICK)
    telegram_api.fail_always(Failure(200, {"ok": True}, delay_s=1.0))
    started = time.monotonic()
    try:
        with pytest.raises(DeliveryFailed, match="Timeout"):
            await client.post_json(send_message_url(telegram_api), {"chat_id": 1}, what="t")
    finally:
        await client.aclose()
    assert time.monotonic() - started < 2.0  # three tries of 0.2 s, not three of 1 s
    assert len(telegram_api.received) == 3
    assert client.counters.to_dict() == {"sent": 0, "retried": 2, "failed": 1}


async def test_a_telegram_outage_is_logged_with_the_conversation_and_counted(
    make_bot: MakeBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await make_bot()
    bot.telegram.fail_always(Failure(503, {"ok": False, "description": "Service Unavailable"}))
    with caplog.at_level(logging.WARNING, logger="bot.channels.outbound"):
        assert await bot.telegram_update(telegram_text(1, 4242, "hi")) == 200
        await bot.settle()
    assert len(bot.turns.received) == 1  # the turn ran and was stored ...
    assert len(bot.telegram.received) == 3  # ... its reply was tried three times ...
    stats = await bot.stats()
    assert stats["outbound"] == {"sent": 0, "retried": 2, "failed": 1}  # ... and given up
    given_up = [r for r in caplog.records if "given up" in r.getMessage()]
    assert given_up
    assert "telegram:4242" in given_up[0].getMessage()


async def test_a_whatsapp_outage_gives_up_the_rest_of_the_turn(make_bot: MakeBot) -> None:
    bot = await make_bot()
    bot.whatsapp.fail_always(Failure(500, {"error": {"message": "Internal", "code": 1}}))
    body = whatsapp_delivery(whatsapp_messages("16315551181", wa_text("wamid.O1", "hi")))
    assert await bot.whatsapp_delivery(body) == 200
    await bot.settle()
    stats = await bot.stats()
    assert stats["outbound"]["failed"] >= 1
    assert stats["outbound"]["sent"] == 0
    # Recovered: the next message is answered.
    bot.whatsapp.recover()
    body = whatsapp_delivery(whatsapp_messages("16315551181", wa_text("wamid.O2", "hi")))
    await bot.whatsapp_delivery(body)
    await bot.settle()
    assert (await bot.stats())["outbound"]["sent"] == 1
