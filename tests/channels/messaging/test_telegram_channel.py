"""The Telegram webhook against a Bot API server in this process, on the real app and pipeline."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.channels.buttons import button_ref
from bot.channels.notices import BUTTON_EXPIRED, EDITED
from bot.domain import BotMessage, Button, ConversationId, bot_event

from .conftest import MakeBot
from .payloads import (
    telegram_blocked,
    telegram_callback,
    telegram_document,
    telegram_edited,
    telegram_sticker,
    telegram_text,
    telegram_voice,
)

CHAT = 5550001
CID = ConversationId(f"telegram:{CHAT}")


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("wrong-token", 403), ("", 403)])
async def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_handled(
    make_bot: MakeBot, secret: str | None, status: int
) -> None:
    bot = await make_bot()
    assert await bot.telegram_update(telegram_text(1, CHAT, "hi"), secret=secret) == status
    await bot.settle()
    assert bot.turns.received == []
    assert await bot.store.events(CID) == []
    assert bot.telegram.received == []
    # The same update with the right secret is then handled: the refusal claimed nothing.
    assert await bot.telegram_update(telegram_text(1, CHAT, "hi")) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == ["hi"]


async def test_a_text_message_runs_a_turn_and_the_reply_is_sent(make_bot: MakeBot) -> None:
    bot = await make_bot()
    assert await bot.telegram_update(telegram_text(10, CHAT, "hi")) == 200
    await bot.settle()
    [message] = bot.turns.received
    assert (message.sender, message.text, message.channel) == (CID, "hi", "telegram")
    [sent] = bot.telegram.ok("sendMessage")
    assert sent.body["chat_id"] == CHAT
    assert "assistant" in sent.body["text"]  # utter_greet
    assert "parse_mode" not in sent.body
    events = await bot.store.events(CID)
    assert [e["text"] for e in events if e["event"] == "user"] == ["hi"]


async def test_start_command_greets(make_bot: MakeBot) -> None:
    bot = await make_bot()
    await bot.telegram_update(telegram_text(11, CHAT, "/start"))
    await bot.settle()
    assert bot.turns.received[0].text == "/greet"
    assert "assistant" in bot.telegram.ok("sendMessage")[0].body["text"]


async def test_a_redelivered_update_is_acknowledged_and_handled_once(make_bot: MakeBot) -> None:
    bot = await make_bot()
    update = telegram_text(20, CHAT, "hi")
    statuses = [await bot.telegram_update(update) for _ in range(3)]
    await bot.settle()
    statuses.append(await bot.telegram_update(update))
    await bot.settle()
    assert statuses == [200, 200, 200, 200]
    assert len(bot.turns.received) == 1
    assert len(bot.telegram.ok("sendMessage")) == 1
    # The same update id in another chat is another delivery.
    await bot.telegram_update(telegram_text(20, CHAT + 1, "hi"))
    await bot.settle()
    assert len(bot.turns.received) == 2


async def test_a_button_press_runs_its_payload_and_answers_the_query(make_bot: MakeBot) -> None:
    bot = await make_bot()
    payload = '/inform{"order_id":"#W2378156","product":"Hiking Boots Waterproof Leather"}'
    assert len(payload.encode()) > 64  # would not fit callback_data itself
    offer = BotMessage(text="Which order?", buttons=(Button("#W2378156", payload),))
    await bot.store.append(CID, [bot_event(offer)])
    assert await bot.telegram_update(telegram_callback(30, CHAT, button_ref(payload))) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == [payload]
    [answered] = bot.telegram.ok("answerCallbackQuery")
    assert answered.body == {"callback_query_id": "4382bfdwdsb323b2d30"}
    assert bot.telegram.ok("sendMessage")  # the turn's reply


async def test_a_card_button_is_found_too(make_bot: MakeBot) -> None:
    bot = await make_bot()
    payload = '/product_info{"product":"Trekking Pole Pair"}'
    card = {
        "title": "Trekking Pole Pair",
        "buttons": [{"title": "Tell me more", "payload": payload}],
    }
    custom = {"type": "product_cards", "cards": [card]}
    await bot.store.append(CID, [bot_event(BotMessage(text="Ideas:", custom=custom))])
    await bot.telegram_update(telegram_callback(31, CHAT, button_ref(payload)))
    await bot.settle()
    assert [m.text for m in bot.turns.received] == [payload]


@pytest.mark.parametrize("data", ["b:forgedforgedforgedforg", "/inform{}", button_ref("/greet")])
async def test_a_button_the_bot_never_offered_runs_nothing(make_bot: MakeBot, data: str) -> None:
    bot = await make_bot()
    await bot.telegram_update(telegram_callback(40, CHAT, data))
    await bot.settle()
    assert bot.turns.received == []
    [answered] = bot.telegram.ok("answerCallbackQuery")
    assert answered.body["text"] == BUTTON_EXPIRED
    assert bot.telegram.ok("sendMessage") == []


@pytest.mark.parametrize(
    ("update", "needle"),
    [
        (telegram_sticker(50, CHAT), "stickers"),
        (telegram_voice(50, CHAT), "voice messages"),
        (telegram_document(50, CHAT), "files"),
        (telegram_edited(50, CHAT, "hi, my order is #W1"), EDITED),
    ],
    ids=["sticker", "voice", "document", "edited"],
)
async def test_what_the_bot_cannot_read_gets_a_polite_line(
    make_bot: MakeBot, update: dict[str, object], needle: str
) -> None:
    bot = await make_bot()
    assert await bot.telegram_update(update) == 200
    await bot.settle()
    assert bot.turns.received == []
    [sent] = bot.telegram.ok("sendMessage")
    assert needle in sent.body["text"]
    assert sent.body["chat_id"] == CHAT


@pytest.mark.parametrize(
    "update",
    [telegram_blocked(60, CHAT), telegram_text(61, -100200, "hi all", kind="group")],
    ids=["blocked", "group"],
)
async def test_updates_without_a_conversation_are_acknowledged_and_ignored(
    make_bot: MakeBot, update: dict[str, object]
) -> None:
    bot = await make_bot()
    assert await bot.telegram_update(update) == 200
    await bot.settle()
    assert bot.turns.received == []
    assert bot.telegram.received == []


async def test_a_body_that_is_not_an_update_is_400(make_bot: MakeBot) -> None:
    bot = await make_bot()
    assert await bot.telegram_update({"message": {"text": "no id"}}) == 400


async def test_the_webhook_answers_before_the_turn_ends(make_bot: MakeBot) -> None:
    bot = await make_bot()
    bot.turns.delay_s = 1.5
    started = time.monotonic()
    assert await bot.telegram_update(telegram_text(70, CHAT, "hi")) == 200
    acknowledged = time.monotonic() - started
    assert acknowledged < 0.5, acknowledged
    assert bot.telegram.received == []
    await bot.settle()
    assert len(bot.telegram.ok("sendMessage")) == 1


async def test_turns_of_one_chat_stay_in_order(make_bot: MakeBot) -> None:
    bot = await make_bot()
    bot.turns.delay_s = 0.2
    texts = ["hi", "where is my parcel", "hello"]
    for n, text in enumerate(texts):
        assert await bot.telegram_update(telegram_text(80 + n, CHAT, text)) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == texts
    stored = [e["text"] for e in await bot.store.events(CID) if e["event"] == "user"]
    assert stored == texts


async def test_shutdown_cancels_a_turn_in_flight(make_bot: MakeBot) -> None:
    bot = await make_bot()
    bot.turns.delay_s = 30
    await bot.telegram_update(telegram_text(90, CHAT, "hi"))
    await asyncio.wait_for(bot.turns.started.wait(), 5)
    started = time.monotonic()
    await bot.client.close()
    assert time.monotonic() - started < 5
    assert bot.telegram.received == []


async def test_a_full_queue_refuses_with_503_and_claims_nothing(make_bot: MakeBot) -> None:
    bot = await make_bot(max_pending_turns=1)
    bot.turns.delay_s = 0.5
    assert await bot.telegram_update(telegram_text(100, CHAT, "hi")) == 200
    assert await bot.telegram_update(telegram_text(101, CHAT, "hello")) == 503
    await bot.settle()
    # Telegram delivers the refused update again; now there is room and it runs.
    assert await bot.telegram_update(telegram_text(101, CHAT, "hello")) == 200
    await bot.settle()
    assert [m.text for m in bot.turns.received] == ["hi", "hello"]


async def test_stats_show_the_outbound_counters(make_bot: MakeBot) -> None:
    bot = await make_bot()
    await bot.telegram_update(telegram_text(110, CHAT, "hi"))
    await bot.settle()
    stats = await bot.stats()
    assert stats["outbound"] == {"sent": 1, "retried": 0, "failed": 0}
    assert stats["background_turns"]["done"] == 1
    json.dumps(stats)
