"""Retried messages, recognised by the stored conversation itself.

A client that sends a message id (the REST ``message_id``, the widget's
``client_message_id``, a Telegram ``update_id`` or WhatsApp ``wamid``) may send the same
message again when it got no answer: the worker died mid-turn, the store was unreachable, the
connection broke, the platform missed the acknowledgement. Whether that message was already
handled is read from the conversation, under the turn's lock: its user event carries the id
(:data:`MESSAGE_ID_KEY` in the event's metadata) and is written in the same atomic append as
the turn's replies. So a turn that stored nothing
runs again on the retry, and a turn that was stored is never run twice; the retry gets the
replies that were stored for it.

A separate claim written before the turn cannot give both: a claim left by a killed worker,
or one that the store applied after its reply timed out, made the retry look handled while
nothing was stored (``benchmarks/chaos.py`` lost messages that way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain import MESSAGE_ID_KEY, BotMessage, Button, Event


def stored_replies(events: Sequence[Event], message_id: str) -> list[BotMessage] | None:
    """The bot's replies stored for the user message with ``message_id``; None if not stored.

    The replies are the ``bot`` events between that user event and the next one.
    """
    replies: list[BotMessage] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if replies is not None:
                break
            if (event.get("metadata") or {}).get(MESSAGE_ID_KEY) == message_id:
                replies = []
        elif kind == "bot" and replies is not None:
            replies.append(_message(event))
    return replies


def _message(event: Event) -> BotMessage:
    data: Mapping[str, Any] = event.get("data") or {}
    raw_buttons = data.get("buttons") or ()
    buttons = tuple(Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in raw_buttons)
    return BotMessage(
        text=event.get("text"), buttons=buttons, image=data.get("image"), custom=data.get("custom")
    )
