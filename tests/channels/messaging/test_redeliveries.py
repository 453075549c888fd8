"""Telegram and WhatsApp redeliveries, recognised by the stored conversation (bot/deliveries.py).

A platform delivers again when it missed the acknowledgement. The turn carries the platform's
id on the stored user event, written in the same atomic append as the replies, and the
pipeline reads it under the conversation's lock: a redelivery of a stored message runs
nothing and sends nothing, and a message whose turn stored nothing is never taken as handled,
whatever claim the store holds (benchmarks/chaos.py lost messages to claims written first).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from bot.channels import messaging
from bot.channels.notices import TURN_FAILED
from bot.domain import ConversationId, Event
from bot.errors import SessionStoreError
from bot.sessions import MemorySessionStore

from .conftest import Bot, MakeBot
from .payloads import (
    telegram_sticker,
    telegram_text,
    wa_media,
    wa_text,
    whatsapp_delivery,
    whatsapp_messages,
)

CHAT = 6660001
WA = "15550006666"


@dataclass(frozen=True)
class Platform:
    name: str
    cid: ConversationId
    deliver_text: Callable[[Bot, int, str], Awaitable[int]]
    deliver_unreadable: Callable[[Bot, int], Awaitable[int]]
    message_id: Callable[[int], str]
    """The id the stored user event carries for a delivery."""

    def replies(self, bot: Bot) -> list[str]:
        """The texts the shopper was sent, in order."""
        if self.name == "telegram":
            return [r.body["text"] for r in bot.telegram.ok("sendMessage")]
        return [r.body["text"]["body"] for r in bot.whatsapp.ok() if r.body["type"] == "text"]


async def _telegram(bot: Bot, n: int, text: str) -> int:
    return await bot.telegram_update(telegram_text(n, CHAT, text))


async def _telegram_sticker(bot: Bot, n: int) -> int:
    return await bot.telegram_update(telegram_sticker(n, CHAT))


async def _whatsapp(bot: Bot, n: int, text: str) -> int:
    return await bot.whatsapp_delivery(
        whatsapp_delivery(whatsapp_messages(WA, wa_text(f"wamid.{n}", text)))
    )


async def _whatsapp_voice(bot: Bot, n: int) -> int:
    return await bot.whatsapp_delivery(
        whatsapp_delivery(whatsapp_messages(WA, wa_media(f"wamid.{n}", "voice")))
    )


PLATFORMS = [
    Platform(
        "telegram",
        ConversationId(f"telegram:{CHAT}"),
        _telegram,
        _telegram_sticker,
        lambda n: f"telegram:{n}",
    ),
    Platform(
        "whatsapp",
        ConversationId(f"whatsapp:{WA}"),
        _whatsapp,
        _whatsapp_voice,
        lambda n: f"whatsapp:wamid.{n}",
    ),
]


@pytest.fixture(params=PLATFORMS, ids=lambda p: p.name)
def platform(request: pytest.FixtureRequest) -> Platform:
    result: Platform = request.param
    return result


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messaging, "STORE_RETRY_DELAYS_S", (0.01, 0.01))


async def _user_ids(bot: Bot, cid: ConversationId) -> list[Any]:
    events = await bot.store.events(cid)
    return [e["metadata"].get("message_id") for e in events if e["event"] == "user"]


async def test_a_redelivery_of_a_stored_message_runs_nothing_and_sends_nothing(
    make_bot: MakeBot, platform: Platform
) -> None:
    bot = await make_bot()
    assert await platform.deliver_text(bot, 30, "hi") == 200
    await bot.settle()
    first = platform.replies(bot)
    assert len(first) == 1
    # Delivered again, at once and later: acknowledged each time, answered once.
    statuses = [await platform.deliver_text(bot, 30, "hi") for _ in range(2)]
    await bot.settle()
    statuses.append(await platform.deliver_text(bot, 30, "hi"))
    await bot.settle()
    assert statuses == [200, 200, 200]
    assert platform.replies(bot) == first
    assert len(bot.turns.given) == 4
    assert len(bot.turns.received) == 1
    assert await _user_ids(bot, platform.cid) == [platform.message_id(30)]
    # Another id is another message.
    await platform.deliver_text(bot, 31, "hi")
    await bot.settle()
    assert len(platform.replies(bot)) == 2
    assert await _user_ids(bot, platform.cid) == [platform.message_id(30), platform.message_id(31)]


async def test_a_claim_left_without_a_stored_message_does_not_drop_it(
    make_bot: MakeBot, platform: Platform
) -> None:
    # What a claim applied after its reply timed out, or a killed worker, left behind: the id
    # is claimed (under the old key and the new one) and nothing of the turn is stored.
    bot = await make_bot()
    for key in (platform.message_id(40), platform.message_id(40).split(":", 1)[1]):
        assert await bot.store.claim_delivery(platform.cid, key)
    assert await platform.deliver_text(bot, 40, "hi") == 200
    await bot.settle()
    assert len(platform.replies(bot)) == 1
    assert TURN_FAILED not in platform.replies(bot)
    assert await _user_ids(bot, platform.cid) == [platform.message_id(40)]


class FailingAppends(MemorySessionStore):
    """Appends fail ``failures`` times; ``applied`` makes a failed append land all the same
    (Redis applied it, its answer was lost)."""

    def __init__(self, failures: int, *, applied: bool = False) -> None:
        super().__init__()
        self.failures = failures
        self.applied = applied

    async def append(self, cid: ConversationId, events: Sequence[Event]) -> int:
        if self.failures > 0 and any(e.get("event") == "user" for e in events):
            self.failures -= 1
            if self.applied:
                await super().append(cid, events)
            raise SessionStoreError("session store: append failed: Timeout reading from socket")
        return await super().append(cid, events)


async def test_an_acknowledged_message_the_store_refused_runs_again_and_is_answered_once(
    make_bot: MakeBot, platform: Platform
) -> None:
    bot = await make_bot(store=FailingAppends(2))
    assert await platform.deliver_text(bot, 50, "hi") == 200
    await bot.settle()
    replies = platform.replies(bot)
    assert len(replies) == 1
    assert replies != [TURN_FAILED]
    assert await _user_ids(bot, platform.cid) == [platform.message_id(50)]


async def test_a_refused_append_that_landed_sends_its_stored_replies_once(
    make_bot: MakeBot, platform: Platform
) -> None:
    bot = await make_bot(store=FailingAppends(1, applied=True))
    assert await platform.deliver_text(bot, 60, "hi") == 200
    await bot.settle()
    replies = platform.replies(bot)
    assert len(replies) == 1
    assert replies != [TURN_FAILED]
    assert len(bot.turns.received) == 1  # the retry found it stored and ran nothing
    assert await _user_ids(bot, platform.cid) == [platform.message_id(60)]


async def test_a_store_down_for_every_attempt_is_an_apology_and_an_error_with_the_conversation(
    make_bot: MakeBot, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    store = FailingAppends(100)
    bot = await make_bot(store=store)
    with caplog.at_level(logging.ERROR, logger="bot.channels.messaging"):
        assert await platform.deliver_text(bot, 70, "hi") == 200
        await bot.settle()
    assert platform.replies(bot) == [TURN_FAILED]
    assert store.failures == 100 - 3  # the first attempt and two retries
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert platform.cid in record.getMessage()
    assert platform.message_id(70) in record.getMessage()
    assert "not handled" in record.getMessage()


async def test_a_redelivered_unreadable_message_gets_one_notice(
    make_bot: MakeBot, platform: Platform
) -> None:
    bot = await make_bot()
    for _ in range(2):
        assert await platform.deliver_unreadable(bot, 80) == 200
        await bot.settle()
    assert len(platform.replies(bot)) == 1
    assert await bot.store.events(platform.cid) == []
