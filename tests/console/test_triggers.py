"""Handoff triggers through the real pipeline: each recorded as the reason, each configurable;
the bot silent while a person has the conversation; the away notice and the queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from bot.action_client import ActionResult, InMemoryActionExecutor
from bot.config import ROOT, Settings, load_settings
from bot.console.settings import HandoffRule, SupportHours
from bot.console.triggers import agent_connected, amounts, email_in, matching_rule, trigger_mode
from bot.dialogue_state import DialogueState
from bot.domain import ConversationId, IncomingMessage, TrackerView
from bot.errors import ActionServerUnavailable
from bot.pipeline import Pipeline
from bot.sessions import MemorySessionStore
from tests.core.test_pipeline import ScriptedParser, make_pipeline

CID = ConversationId("web-trigger")
SCRIPT = {
    "human please": ("contact_human_agent", {}),
    "I want a refund of $500 for my order": ("get_refund", {}),
    "where is my order": ("track_order", {}),
    "hello": ("greet", {}),
}


class Desk:
    """Records what the pipeline tells the support team's side."""

    def __init__(self, notice: str | None = None) -> None:
        self.notice = notice
        self.queue: list[tuple[str, str, str, str | None]] = []

    async def away_notice(self, language: str | None) -> str | None:
        return self.notice

    async def queued(
        self, cid: ConversationId, *, reason: str, channel: str, language: str | None
    ) -> None:
        self.queue.append((cid, reason, channel, language))


def configured(**handoff: Any) -> Settings:
    base = load_settings(ROOT / "config.yml", env={})
    return dataclasses.replace(base, handoff=dataclasses.replace(base.handoff, **handoff))


def build(
    settings: Settings, desk: Desk | None = None, actions: dict[str, Any] | None = None
) -> tuple[Pipeline, MemorySessionStore]:
    pipeline, store = make_pipeline(
        settings, ScriptedParser(SCRIPT), InMemoryActionExecutor(actions or {})
    )
    if desk is not None:
        pipeline._desk = desk
    return pipeline, store


async def say(pipeline: Pipeline, text: str) -> list[str]:
    replies = await pipeline.handle(IncomingMessage(CID, text, "webchat"))
    return [r.text or "" for r in replies]


async def reason_of(store: MemorySessionStore) -> tuple[str | None, str | None]:
    """The handoff's reason as recorded in its bot event and in the dialogue state."""
    events = await store.events(CID)
    meta = [e["metadata"].get("handoff_reason") for e in events if e["event"] == "bot"]
    tracker = TrackerView.replay(CID, events)
    recorded = next((m for m in reversed(meta) if m), None)
    return recorded, DialogueState.of(tracker).handoff_reason


async def test_asking_for_a_person_queues_the_conversation_with_its_reason() -> None:
    desk = Desk()
    pipeline, store = build(configured(), desk)
    assert "support team" in (await say(pipeline, "human please"))[0]
    assert await store.get_mode(CID) == "human"
    assert await reason_of(store) == ("asked", "asked")
    assert desk.queue == [(CID, "asked", "webchat", "en")]


async def test_two_misunderstandings_hand_off_when_configured() -> None:
    desk = Desk()
    pipeline, store = build(configured(on_misunderstood="handoff"), desk)
    await say(pipeline, "blorp")
    assert await store.get_mode(CID) == "bot"
    replies = await say(pipeline, "zzzq")
    assert await store.get_mode(CID) == "human"
    assert any("support team" in r for r in replies)
    assert await reason_of(store) == ("misunderstood", "misunderstood")
    assert [q[1] for q in desk.queue] == ["misunderstood"]


@pytest.mark.parametrize(("mode", "offered"), [("offer", True), ("off", False)])
async def test_misunderstandings_offer_or_stay_quiet(mode: str, offered: bool) -> None:
    pipeline, store = build(configured(on_misunderstood=mode))
    await say(pipeline, "blorp")
    replies = await say(pipeline, "zzzq")
    assert await store.get_mode(CID) == "bot"
    assert any("connect you with a person" in r for r in replies) is offered


async def test_a_failing_action_hands_off_when_configured() -> None:
    def down(tracker: TrackerView, domain: Any) -> ActionResult:
        raise ActionServerUnavailable("validate_order_status_form", "connection refused")

    desk = Desk()
    pipeline, store = build(
        configured(on_action_failure="handoff"), desk, {"validate_order_status_form": down}
    )
    replies = await say(pipeline, "where is my order")
    assert "can't reach" in replies[0]
    assert await store.get_mode(CID) == "human"
    assert await reason_of(store) == ("action_failed", "action_failed")


async def test_a_shop_rule_hands_a_large_refund_to_a_person() -> None:
    rule = HandoffRule(reason="refund_over_limit", intents=("get_refund",), amount_above=200)
    desk = Desk()
    pipeline, store = build(configured(rules=(rule,)), desk)
    await say(pipeline, "I want a refund of $500 for my order")
    assert await store.get_mode(CID) == "human"
    assert await reason_of(store) == ("refund_over_limit", "refund_over_limit")
    config = configured(rules=(rule,)).handoff
    assert matching_rule(config, "get_refund", "refund 150 dollars please") is None
    assert matching_rule(config, "track_order", "$900") is None


async def test_outside_hours_the_shopper_is_told_when_to_expect_a_reply() -> None:
    desk = Desk(notice="Our team is away until Monday 8:00; leave your email here.")
    pipeline, store = build(configured(), desk)
    replies = await say(pipeline, "human please")
    assert replies[-1].startswith("Our team is away")
    stored = [e for e in await store.events(CID) if e["event"] == "bot"]
    assert stored[-1]["metadata"] == {"handoff_notice": True}


async def test_the_bot_is_silent_while_a_person_has_the_conversation() -> None:
    pipeline, store = build(configured(), Desk())
    await say(pipeline, "human please")
    # Waiting in the queue: the shopper hears someone will come.
    assert "support team" in (await say(pipeline, "anyone there?"))[0]
    agent = {"id": "a-1", "name": "Maya"}
    await store.append(CID, [{"event": "agent_joined", "timestamp": 1.0, "agent": agent}])
    assert await say(pipeline, "my order is late") == []
    users = [e for e in await store.events(CID) if e["event"] == "user"]
    assert users[-1]["text"] == "my order is late"
    assert "intent" not in users[-1]["parse_data"]  # not read: NLU does not run
    # Handed back: the bot answers again, with the conversation so far.
    await store.append(CID, [{"event": "agent_left", "timestamp": 2.0, "agent": agent}])
    await store.set_mode(CID, "bot")
    assert await say(pipeline, "hello")
    assert await store.get_mode(CID) == "bot"


def test_trigger_modes_and_helpers() -> None:
    config = configured(on_frustration="offer", on_unanswerable="off").handoff
    assert trigger_mode(config, "asked") == "handoff"
    assert trigger_mode(config, "frustration") == "offer"
    assert trigger_mode(config, "unanswerable") == "off"
    assert trigger_mode(config, "refund_over_limit") == "handoff"
    assert amounts("refund $1,250.50 or 300 euros, not order 1234") == [1250.5, 300.0]
    assert email_in("write to me: Emma.N@example.com thanks") == "Emma.N@example.com"
    assert email_in("no address") is None
    joined = {"event": "agent_joined"}
    assert agent_connected([joined])
    assert not agent_connected([joined, {"event": "agent_left"}])


def test_support_hours() -> None:
    hours = SupportHours(timezone="America/New_York", days=("mon", "tue"), open="08:00",
                         close="18:00")  # fmt: skip
    monday_noon = dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.UTC)  # 12:00 in New York
    assert hours.is_open(monday_noon)
    tuesday_night = dt.datetime(2026, 12, 9, 2, 0, tzinfo=dt.UTC)  # Tue 21:00 local
    assert not hours.is_open(tuesday_night)
    opening = hours.next_opening(tuesday_night)
    assert (opening.strftime("%a %H:%M"), opening.date()) == ("Mon 08:00", dt.date(2026, 12, 14))
