"""How the bot's messages become Telegram calls and WhatsApp messages, within each API's limits.

Each rendering is also sent to the in-process platform server, which refuses what the real API
refuses (callback_data over 64 bytes, more than three reply buttons, titles too long ...).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels import telegram_render, whatsapp_render
from bot.channels.buttons import button_ref
from bot.channels.outbound import OutboundClient
from bot.channels.settings import TelegramConfig, WhatsAppConfig
from bot.channels.telegram_api import TelegramApi
from bot.channels.whatsapp_api import WhatsAppApi
from bot.domain import BotMessage, Button
from bot.retry import Backoff

from .conftest import ACCESS_TOKEN, BOT_TOKEN
from .fake_platforms import FakeTelegram, FakeWhatsApp
from .payloads import PHONE_NUMBER_ID

ORDER_BUTTONS = tuple(
    Button(f"#W{n}237815, 3 items, $120", f'/inform{{"order_id":"#W{n}237815"}}') for n in range(5)
)


def card(title: str, image: str | None) -> dict[str, Any]:
    payload = f'/product_info{{"product":"{title}"}}'
    return {
        "product_id": "p1",
        "title": title,
        "subtitle": "from $89.00",
        "reason": "Goes with your Trekking Pole Pair",
        "image_url": image,
        "buttons": [{"title": "Tell me more", "payload": payload}],
    }


def cards(*items: dict[str, Any]) -> BotMessage:
    return BotMessage(
        text="Here are a few ideas:", custom={"type": "product_cards", "cards": list(items)}
    )


async def send_telegram(api_server: FakeTelegram, message: BotMessage) -> list[Any]:
    client = OutboundClient(backoff=Backoff(attempts=1))
    api = TelegramApi(client, TelegramConfig(bot_token=BOT_TOKEN, api_base_url=api_server.url))
    try:
        await api.send(7, telegram_render.render([message]), conversation_id="telegram:7")
    finally:
        await client.aclose()
    return [r.body for r in api_server.ok()]


async def send_whatsapp(api_server: FakeWhatsApp, message: BotMessage) -> list[Any]:
    client = OutboundClient(backoff=Backoff(attempts=1))
    config = WhatsAppConfig(
        access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID, api_base_url=api_server.url
    )
    api = WhatsAppApi(client, config)
    try:
        await api.send("1555", whatsapp_render.render([message]), conversation_id="whatsapp:1555")
    finally:
        await client.aclose()
    return [r.body for r in api_server.ok()]


async def test_telegram_quick_replies_are_an_inline_keyboard_of_short_references(
    telegram_api: FakeTelegram,
) -> None:
    long_payload = '/inform{"product":"Hiking Boots Waterproof Leather, size 44 wide"}'
    message = BotMessage(
        text="Which one?", buttons=(*ORDER_BUTTONS[:2], Button("Boots", long_payload))
    )
    [sent] = await send_telegram(telegram_api, message)
    rows = sent["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in rows] == [*(b.title for b in ORDER_BUTTONS[:2]), "Boots"]
    assert rows[2][0]["callback_data"] == button_ref(long_payload)
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in rows)
    assert sent["text"] == "Which one?"


async def test_telegram_product_cards_are_photos_with_caption_and_buttons(
    telegram_api: FakeTelegram,
) -> None:
    message = cards(
        card("Trail Runner 2", "https://shop.example/img/trail.jpg"), card("Rain Shell", None)
    )
    intro, photo, text_card = await send_telegram(telegram_api, message)
    assert intro == {"chat_id": 7, "text": "Here are a few ideas:"}
    assert photo["photo"] == "https://shop.example/img/trail.jpg"
    assert photo["caption"].splitlines() == [
        "Trail Runner 2",
        "from $89.00",
        "Goes with your Trekking Pole Pair",
    ]
    [[more]] = photo["reply_markup"]["inline_keyboard"]
    assert more == {
        "text": "Tell me more",
        "callback_data": button_ref('/product_info{"product":"Trail Runner 2"}'),
    }
    # Without an image a Telegram server could fetch, the card is a text message.
    assert text_card["text"].startswith("Rain Shell\n")
    assert "reply_markup" in text_card


async def test_telegram_long_texts_are_split_and_the_keyboard_rides_the_last_piece(
    telegram_api: FakeTelegram,
) -> None:
    text = "\n".join(f"Line {n}: " + "word " * 30 for n in range(60))
    assert len(text) > 4096
    sent = await send_telegram(telegram_api, BotMessage(text=text, buttons=ORDER_BUTTONS[:1]))
    assert len(sent) >= 3
    assert all(len(s["text"]) <= 4096 for s in sent)
    assert " ".join(s["text"] for s in sent).split() == text.split()  # every word, in order
    assert [("reply_markup" in s) for s in sent] == [False] * (len(sent) - 1) + [True]


async def test_telegram_an_image_message_is_a_photo(telegram_api: FakeTelegram) -> None:
    message = BotMessage(text="Your label", image="https://shop.example/label.png")
    [sent] = await send_telegram(telegram_api, message)
    assert sent["photo"] == "https://shop.example/label.png"
    assert sent["caption"] == "Your label"


async def test_whatsapp_up_to_three_short_options_are_reply_buttons(
    whatsapp_api: FakeWhatsApp,
) -> None:
    buttons = (Button("Yes", "/affirm"), Button("No", "/deny"), Button("Talk to a person", "/h"))
    [sent] = await send_whatsapp(whatsapp_api, BotMessage(text="Cancel it?", buttons=buttons))
    interactive = sent["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"]["text"] == "Cancel it?"
    replies = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [r["title"] for r in replies] == ["Yes", "No", "Talk to a person"]
    assert [r["id"] for r in replies] == [button_ref(b.payload) for b in buttons]


@pytest.mark.parametrize("count", [4, 12])
async def test_whatsapp_more_options_or_long_titles_are_a_list(
    whatsapp_api: FakeWhatsApp, count: int
) -> None:
    buttons = tuple(
        Button(f"Order #W{n:07d} with a long title", f'/inform{{"order_id":"#W{n}"}}')
        for n in range(count)
    )
    [sent] = await send_whatsapp(whatsapp_api, BotMessage(text="Which order?", buttons=buttons))
    interactive = sent["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == min(count, 10)
    assert rows[0]["title"] == "Order #W0000000 with a…"
    assert rows[0]["description"] == "Order #W0000000 with a long title"
    assert rows[0]["id"] == button_ref('/inform{"order_id":"#W0"}')


async def test_whatsapp_one_long_title_makes_a_list_too(whatsapp_api: FakeWhatsApp) -> None:
    [sent] = await send_whatsapp(whatsapp_api, BotMessage(text="Which?", buttons=ORDER_BUTTONS[:2]))
    # Two options, but "#W0237815, 3 items, $120" does not fit a reply button's 20 characters.
    assert sent["interactive"]["type"] == "list"
    rows = sent["interactive"]["action"]["sections"][0]["rows"]
    assert [r["title"] for r in rows] == [b.title for b in ORDER_BUTTONS[:2]]  # 24 fit a row
    assert all("description" not in r for r in rows)


async def test_whatsapp_product_cards_are_images_with_captions(whatsapp_api: FakeWhatsApp) -> None:
    message = cards(
        card("Trail Runner 2", "https://shop.example/img/trail.jpg"), card("Rain Shell", None)
    )
    intro, image, buttons, text_card = await send_whatsapp(whatsapp_api, message)
    assert intro["text"]["body"] == "Here are a few ideas:"
    assert image["type"] == "image"
    assert image["image"]["link"] == "https://shop.example/img/trail.jpg"
    assert image["image"]["caption"].startswith("Trail Runner 2\nfrom $89.00")
    assert buttons["interactive"]["body"]["text"] == "Trail Runner 2"
    [more] = buttons["interactive"]["action"]["buttons"]
    assert more["reply"]["title"] == "Tell me more"
    assert text_card["interactive"]["body"]["text"].startswith("Rain Shell\n")


async def test_whatsapp_long_text_with_buttons_keeps_every_word(whatsapp_api: FakeWhatsApp) -> None:
    text = "word " * 400  # 2000 characters: more than an interactive body holds
    sent = await send_whatsapp(
        whatsapp_api, BotMessage(text=text.strip(), buttons=(Button("OK", "/affirm"),))
    )
    assert sent[0]["type"] == "text"
    assert sent[0]["text"]["body"] == text.strip()
    assert sent[1]["interactive"]["body"]["text"] == "Please choose:"
