"""Webhook bodies in the shapes the platforms document.

Telegram: https://core.telegram.org/bots/api#update (Message, CallbackQuery, Sticker, Voice,
Document). WhatsApp: the Cloud API's ``messages`` webhook (text, interactive ``button_reply``
and ``list_reply``, image, sticker, audio, reaction, and ``statuses``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SHOPPER = {
    "id": 111222333,
    "is_bot": False,
    "first_name": "Ada",
    "username": "ada_l",
    "language_code": "en",
}


def telegram_chat(chat_id: int, kind: str = "private") -> dict[str, Any]:
    if kind == "private":
        return {"id": chat_id, "first_name": "Ada", "username": "ada_l", "type": "private"}
    return {"id": chat_id, "title": "Hikers", "type": kind}


def telegram_message(
    update_id: int, chat_id: int, *, kind: str = "private", **content: Any
) -> dict[str, Any]:
    message = {
        "message_id": update_id % 10_000,
        "from": {**SHOPPER, "id": chat_id if kind == "private" else SHOPPER["id"]},
        "chat": telegram_chat(chat_id, kind),
        "date": 1_735_000_000,
        **content,
    }
    return {"update_id": update_id, "message": message}


def telegram_text(update_id: int, chat_id: int, text: str, **kw: Any) -> dict[str, Any]:
    return telegram_message(update_id, chat_id, text=text, **kw)


def telegram_sticker(update_id: int, chat_id: int) -> dict[str, Any]:
    sticker = {
        "file_id": "CAACAgIAAxkBAAIBZ2Z",
        "file_unique_id": "AgADmQADr8ZRGg",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
    return telegram_message(update_id, chat_id, sticker=sticker)


def telegram_voice(update_id: int, chat_id: int) -> dict[str, Any]:
    voice = {
        "duration": 3,
        "mime_type": "audio/ogg",
        "file_id": "AwACAgIAAxkBAAIBa",
        "file_unique_id": "AgADbQ",
        "file_size": 9000,
    }
    return telegram_message(update_id, chat_id, voice=voice)


def telegram_document(update_id: int, chat_id: int) -> dict[str, Any]:
    document = {
        "file_name": "receipt.pdf",
        "mime_type": "application/pdf",
        "file_id": "BQACAgIAAxkBAAIBb",
        "file_unique_id": "AgADcA",
        "file_size": 52_000,
    }
    return telegram_message(update_id, chat_id, document=document, caption="my receipt")


def telegram_edited(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    update = telegram_text(update_id, chat_id, text)
    message = update.pop("message")
    message["edit_date"] = 1_735_000_100
    return {"update_id": update_id, "edited_message": message}


def telegram_callback(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    shown = {
        "message_id": 77,
        "from": {"id": 999, "is_bot": True, "first_name": "Northwind", "username": "nw_bot"},
        "chat": telegram_chat(chat_id),
        "date": 1_735_000_000,
        "text": "Which order?",
    }
    query = {
        "id": f"4382bfdwdsb323b2d{update_id}",
        "from": {**SHOPPER, "id": chat_id},
        "message": shown,
        "chat_instance": "-7425562178932178",
        "data": data,
    }
    return {"update_id": update_id, "callback_query": query}


def telegram_blocked(update_id: int, chat_id: int) -> dict[str, Any]:
    """``my_chat_member``: the shopper blocked the bot."""
    member = {
        "chat": telegram_chat(chat_id),
        "from": {**SHOPPER, "id": chat_id},
        "date": 1_735_000_000,
        "old_chat_member": {"user": {"id": 999, "is_bot": True}, "status": "member"},
        "new_chat_member": {"user": {"id": 999, "is_bot": True}, "status": "kicked"},
    }
    return {"update_id": update_id, "my_chat_member": member}


PHONE_NUMBER_ID = "106540352242922"


def whatsapp_delivery(
    *changes: dict[str, Any], entries: int = 1, phone_number_id: str = PHONE_NUMBER_ID
) -> dict[str, Any]:
    """A delivery whose changes are spread over ``entries`` entries."""
    entry_list: list[dict[str, Any]] = [
        {"id": "102290129340398", "changes": []} for _ in range(entries)
    ]
    for index, value in enumerate(changes):
        full_value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550783881",
                "phone_number_id": phone_number_id,
            },
            **value,
        }
        entry_list[index % entries]["changes"].append({"value": full_value, "field": "messages"})
    return {"object": "whatsapp_business_account", "entry": entry_list}


def whatsapp_messages(wa_id: str, *messages: dict[str, Any]) -> dict[str, Any]:
    contacts = [{"profile": {"name": "Ada Lovelace"}, "wa_id": wa_id}]
    return {"contacts": contacts, "messages": [{"from": wa_id, **m} for m in messages]}


def wa_text(message_id: str, body: str) -> dict[str, Any]:
    return {"id": message_id, "timestamp": "1735000000", "type": "text", "text": {"body": body}}


def wa_button_reply(message_id: str, button_id: str, title: str) -> dict[str, Any]:
    return {
        "context": {"from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4"},
        "id": message_id,
        "timestamp": "1735000000",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }


def wa_list_reply(message_id: str, row_id: str, title: str) -> dict[str, Any]:
    reply = {"id": row_id, "title": title, "description": title}
    return {
        "context": {"from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE5"},
        "id": message_id,
        "timestamp": "1735000000",
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": reply},
    }


def wa_media(message_id: str, kind: str) -> dict[str, Any]:
    media: dict[str, Any] = {
        "mime_type": "image/jpeg",
        "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3",
        "id": "2754859441498128",
    }
    if kind == "audio":
        media = {**media, "mime_type": "audio/ogg; codecs=opus", "voice": True}
    return {"id": message_id, "timestamp": "1735000000", "type": kind, kind: media}


def wa_reaction(message_id: str) -> dict[str, Any]:
    reaction = {"message_id": "wamid.OUT1", "emoji": "👍"}
    return {"id": message_id, "timestamp": "1735000000", "type": "reaction", "reaction": reaction}


def whatsapp_statuses(*states: str, recipient: str = "16315551181") -> dict[str, Any]:
    statuses = []
    for n, state in enumerate(states):
        status: dict[str, Any] = {
            "id": f"wamid.OUT{n}",
            "status": state,
            "timestamp": "1735000000",
            "recipient_id": recipient,
        }
        if state == "failed":
            status["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
        statuses.append(status)
    return {"statuses": statuses}


def signed(body: dict[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers Meta sends with it."""
    raw = json.dumps(body).encode()
    digest = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    return raw, headers
