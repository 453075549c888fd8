"""The WhatsApp webhook against a Cloud API server in this process, on the real app and pipeline."""

from __future__ import annotations

import pytest

from bot.channels.buttons import button_ref
from bot.channels.notices import BUTTON_EXPIRED
from bot.domain import BotMessage, Button, ConversationId, bot_event

from .conftest import APP_SECRET, VERIFY_TOKEN, MakeBot
from .payloads import (
    wa_button_reply,
    wa_list_reply,
    wa_media,
    wa_reaction,
    wa_text,
    whatsapp_delivery,
    whatsapp_messages,
    whatsapp_statuses,
)

WA = "16315551181"
CID = ConversationId(f"whatsapp:{WA}")
PATH = "/webhooks/whatsapp/webhook"


async def test_the_verification_handshake_echoes_the_challenge(make_bot: MakeBot) -> None:
    bot = await make_bot()
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = await bot.client.get(PATH, params=query)
    assert response.status == 200
    assert await response.text() == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
    ],
)
async def test_a_wrong_handshake_is_403(make_bot: MakeBot, query: dict[str, str]) -> None:
    bot = await make_bot()
    response = await bot.client.get(PATH, params=query)
    assert response.status == 403
    assert await response.text() != "1"


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("not-the-app-secret", 403)])
async def test_an_unsigned_or_forged_delivery_is_refused_and_nothing_is_handled(
    make_bot: MakeBot, secret: str | None, status: int
) -> None:
    bot = await make_bot()
    body = whatsapp_delivery(whatsapp_messages(WA, wa_text("wamid.A1", "hi")))
    assert await bot.whatsapp_delivery(body, secret=secret) == status
    await bot.settle()
    assert bot.turns.received == []
    assert await bot.store.events(CID) == []
    assert bot.whatsapp.received == []
    # The genuine delivery is then handled: nothing was claimed by the refusal.
    assert await bot.whatsapp_delivery(body) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == ["hi"]


async def test_a_body_changed_after_signing_is_403(make_bot: MakeBot) -> None:
    bot = await make_bot()
    from .payloads import signed

    body = whatsapp_delivery(whatsapp_messages(WA, wa_text("wamid.A2", "hi")))
    raw, headers = signed(body, APP_SECRET)
    tampered = raw.replace(b'"hi"', b'"yo"')
    response = await bot.client.post(PATH, data=tampered, headers=headers)
    assert response.status == 403
    await bot.settle()
    assert bot.turns.received == []


async def test_a_text_message_runs_a_turn_and_the_reply_is_sent(make_bot: MakeBot) -> None:
    bot = await make_bot()
    body = whatsapp_delivery(whatsapp_messages(WA, wa_text("wamid.B1", "hi")))
    assert await bot.whatsapp_delivery(body) == 200
    await bot.settle()
    [message] = bot.turns.received
    assert (message.sender, message.text, message.channel) == (CID, "hi", "whatsapp")
    [sent] = bot.whatsapp.ok()
    assert sent.body["to"] == WA
    assert sent.body["messaging_product"] == "whatsapp"
    assert sent.body["type"] == "text"
    assert "assistant" in sent.body["text"]["body"]


async def test_every_message_of_a_batched_delivery_is_handled(make_bot: MakeBot) -> None:
    bot = await make_bot()
    other = "447700900123"
    body = whatsapp_delivery(
        whatsapp_messages(WA, wa_text("wamid.C1", "hi"), wa_text("wamid.C2", "hello")),
        whatsapp_statuses("sent", "delivered", "read"),
        whatsapp_messages(other, wa_text("wamid.C3", "hi")),
        entries=2,
    )
    assert len(body["entry"]) == 2
    assert await bot.whatsapp_delivery(body) == 200
    await bot.settle()
    handled = [(m.sender, m.text) for m in bot.turns.received]
    assert sorted(handled) == sorted(
        [(CID, "hi"), (CID, "hello"), (ConversationId(f"whatsapp:{other}"), "hi")]
    )
    # One shopper's two messages ran in their order.
    assert [t for s, t in handled if s == CID] == ["hi", "hello"]
    assert sorted(r.body["to"] for r in bot.whatsapp.ok()) == sorted([WA, WA, other])


async def test_a_redelivery_is_handled_once(make_bot: MakeBot) -> None:
    bot = await make_bot()
    body = whatsapp_delivery(whatsapp_messages(WA, wa_text("wamid.D1", "hi")))
    assert [await bot.whatsapp_delivery(body) for _ in range(3)] == [200, 200, 200]
    await bot.settle()
    assert len(bot.turns.received) == 1
    assert len(bot.whatsapp.ok()) == 1


@pytest.mark.parametrize("states", [("sent", "delivered", "read"), ("failed",)])
async def test_status_callbacks_are_acknowledged_and_ignored(
    make_bot: MakeBot, states: tuple[str, ...]
) -> None:
    bot = await make_bot()
    assert await bot.whatsapp_delivery(whatsapp_delivery(whatsapp_statuses(*states))) == 200
    await bot.settle()
    assert bot.turns.received == []
    assert bot.whatsapp.received == []


@pytest.mark.parametrize("reply", [wa_button_reply, wa_list_reply], ids=["button", "list"])
async def test_an_interactive_reply_runs_the_offered_payload(
    make_bot: MakeBot, reply: object
) -> None:
    bot = await make_bot()
    payload = '/inform{"order_id":"#W2378156"}'
    offer = BotMessage(text="Which order?", buttons=(Button("#W2378156", payload),))
    await bot.store.append(CID, [bot_event(offer)])
    message = reply("wamid.E1", button_ref(payload), "#W2378156")  # type: ignore[operator]
    assert await bot.whatsapp_delivery(whatsapp_delivery(whatsapp_messages(WA, message))) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == [payload]


async def test_a_forged_button_id_runs_nothing(make_bot: MakeBot) -> None:
    bot = await make_bot()
    message = wa_button_reply("wamid.E2", button_ref('/cancel_order{"order_id":"#1"}'), "Yes")
    await bot.whatsapp_delivery(whatsapp_delivery(whatsapp_messages(WA, message)))
    await bot.settle()
    assert bot.turns.received == []
    [sent] = bot.whatsapp.ok()
    assert sent.body["text"]["body"] == BUTTON_EXPIRED


@pytest.mark.parametrize(
    ("kind", "needle"),
    [("image", "pictures"), ("sticker", "stickers"), ("audio", "voice"), ("document", "files")],
)
async def test_media_gets_a_polite_line(make_bot: MakeBot, kind: str, needle: str) -> None:
    bot = await make_bot()
    body = whatsapp_delivery(whatsapp_messages(WA, wa_media("wamid.F1", kind)))
    assert await bot.whatsapp_delivery(body) == 200
    await bot.settle()
    assert bot.turns.received == []
    [sent] = bot.whatsapp.ok()
    assert needle in sent.body["text"]["body"]


async def test_reactions_and_other_numbers_are_ignored(make_bot: MakeBot) -> None:
    bot = await make_bot()
    reaction = whatsapp_delivery(whatsapp_messages(WA, wa_reaction("wamid.G1")))
    elsewhere = whatsapp_delivery(
        whatsapp_messages(WA, wa_text("wamid.G2", "hi")), phone_number_id="999"
    )
    assert await bot.whatsapp_delivery(reaction) == 200
    assert await bot.whatsapp_delivery(elsewhere) == 200
    await bot.settle()
    assert bot.turns.received == []
    assert bot.whatsapp.received == []


async def test_a_body_that_is_not_a_delivery_is_400(make_bot: MakeBot) -> None:
    bot = await make_bot()
    assert await bot.whatsapp_delivery({"object": "page", "entry": []}) == 400
