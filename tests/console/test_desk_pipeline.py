"""Handoffs through the real pipeline and the real :class:`~bot.console.desk.Desk`: the
frustration and unanswerable triggers recorded as reasons, the away notices the shopper reads
(a fixed clock), and an email written while waiting reaching the queue entry.

The pipeline is built as ``tests/console/test_triggers.py`` builds it; here its desk and its
store are the console's own (a migrated SQLite console database, the in-process bus, the
recording session store).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.action_client import InMemoryActionExecutor
from bot.app import Dialogue
from bot.channels.messaging import outbound_client
from bot.composition import retrieval_settings
from bot.config import Settings
from bot.console import analytics, migrate, notices
from bot.console.auth import hash_password
from bot.console.bus import MemoryConsoleBus
from bot.console.delivery import ChannelDelivery
from bot.console.desk import Desk
from bot.console.factory import create_console_store
from bot.console.recorder import Recorder, RecordingSessionStore
from bot.console.settings import SupportHours
from bot.console.store import AgentId, ConsoleStore
from bot.dialogue_state import DialogueState
from bot.domain import ConversationId, IncomingMessage, TrackerView
from bot.generation.answerer import AnswerSettings, GroundedAnswerer
from bot.generation.prompt import ABSTAIN
from bot.knowledge import KnowledgeBase
from bot.nlu.reading import Reading
from bot.pipeline import Pipeline
from bot.sessions import MemorySessionStore
from tests.console.test_triggers import configured
from tests.core.test_pipeline import HashEncoder, ScriptedParser, ScriptedReader
from tests.generation.scripted import ScriptedGenerator
from tests.generation.test_answerer import PASSAGES

CID = ConversationId("web-desk")
SCRIPT = {
    "human please": ("contact_human_agent", {}),
    "where is my order": ("track_order", {}),
    "this is useless, where is my order": ("track_order", {}),
    "I am fed up, where is my order": ("track_order", {}),
    "how many days do I have to return items": ("check_refund_policy", {}),
}
UPSET = {"this is useless, where is my order", "I am fed up, where is my order"}
# Monday 7 December 2026, 20:00 in New York: after hours; the team is back Tuesday 08:00.
MONDAY_EVENING = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC).timestamp()
HOURS = SupportHours(timezone="America/New_York", days=("mon", "tue", "wed", "thu", "fri"),
                     open="08:00", close="18:00")  # fmt: skip


class FeelingReader(ScriptedReader):
    """The scripted reading, upset for the texts in :data:`UPSET` (as the feeling head)."""

    async def read(self, text: str, state: DialogueState, **kwargs: Any) -> Reading:
        reading = await super().read(text, state, **kwargs)
        return dataclasses.replace(reading, feeling="frustrated") if text in UPSET else reading


class Parts:
    """The pipeline with the console's desk, store and database."""

    def __init__(self, pipeline: Pipeline, store: RecordingSessionStore, db: ConsoleStore,
                 bus: MemoryConsoleBus, desk: Desk) -> None:  # fmt: skip
        self.pipeline, self.store, self.db, self.bus, self.desk = pipeline, store, db, bus, desk

    async def say(self, text: str) -> list[str]:
        replies = await self.pipeline.handle(IncomingMessage(CID, text, "webchat"))
        return [r.text or "" for r in replies]

    async def reasons(self) -> tuple[str | None, str | None, list[str]]:
        """The reason on the bot event, in the dialogue state and on the queue."""
        events = await self.store.events(CID)
        meta = [e["metadata"].get("handoff_reason") for e in events if e["event"] == "bot"]
        state = DialogueState.of(TrackerView.replay(CID, events))
        queued = [h.reason for h in await self.db.handoffs_of(CID)]
        return next((m for m in reversed(meta) if m), None), state.handoff_reason, queued


OPENED: list[Parts] = []


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[ConsoleStore]:
    url = f"sqlite:///{tmp_path / 'console.sqlite'}"
    migrate.upgrade(url)
    db = create_console_store(url)
    yield db
    while OPENED:  # the recorder finishes writing before its database closes
        await OPENED.pop().store.aclose()
    await db.aclose()


def parts(
    settings: Settings,
    db: ConsoleStore,
    *,
    clock: float | None = None,
    answer: str | None = None,
) -> Parts:
    # The test encoder's similarities are low: the bar as the console's API tests set it.
    settings = dataclasses.replace(
        settings, policy=dataclasses.replace(settings.policy, answer_min_score=0.1)
    )
    inner = MemorySessionStore()
    store = RecordingSessionStore(inner, Recorder(db, inner))
    bus = MemoryConsoleBus()
    desk = Desk(
        settings, sessions=store, db=db, bus=bus,
        delivery=ChannelDelivery(settings.channels, outbound_client(settings.channels)),
        **({"clock": lambda: clock} if clock is not None else {}),
    )  # fmt: skip
    knowledge = KnowledgeBase(PASSAGES, HashEncoder(), settings=retrieval_settings(settings))
    answerer = (
        GroundedAnswerer(
            knowledge,
            ScriptedGenerator(answer),
            shop_name=settings.shop.name,
            placeholders=settings.shop.placeholders(),
            settings=AnswerSettings(min_similarity=0.1),
        )
        if answer is not None
        else None
    )
    dialogue = Dialogue.from_settings(settings)
    pipeline = Pipeline(
        settings=settings,
        store=store,
        reader=FeelingReader(ScriptedParser(SCRIPT)),
        knowledge=knowledge,
        actions=InMemoryActionExecutor({}),
        domain=dialogue.domain,
        policy=dialogue.policy,
        answerer=answerer,
        desk=desk,
    )
    OPENED.append(Parts(pipeline, store, db, bus, desk))
    return OPENED[-1]


def always_open(settings: Settings) -> Settings:
    hours = dataclasses.replace(HOURS, days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
                                open="00:00", close="23:59")  # fmt: skip
    return dataclasses.replace(settings, handoff=dataclasses.replace(settings.handoff, hours=hours))


async def test_upset_twice_hands_off_as_frustration(database: ConsoleStore) -> None:
    desk = parts(always_open(configured(on_frustration="handoff")), database)
    await desk.bus.heartbeat("a-maya", 60)  # someone is online: no away notice
    await desk.say("this is useless, where is my order")
    assert await desk.store.get_mode(CID) == "bot"  # once is not enough
    await desk.say("I am fed up, where is my order")
    assert await desk.store.get_mode(CID) == "human"
    assert await desk.reasons() == ("frustration", "frustration", ["frustration"])


async def test_frustration_set_off_does_not_hand_off(database: ConsoleStore) -> None:
    desk = parts(always_open(configured(on_frustration="off")), database)
    await desk.say("this is useless, where is my order")
    await desk.say("I am fed up, where is my order")
    assert await desk.store.get_mode(CID) == "bot"
    assert await database.handoffs_of(CID) == []


async def test_a_question_the_answer_guard_cannot_answer_hands_off_as_unanswerable(
    database: ConsoleStore,
) -> None:
    desk = parts(always_open(configured(on_unanswerable="handoff")), database, answer=ABSTAIN)
    await desk.bus.heartbeat("a-maya", 60)
    replies = await desk.say("how many days do I have to return items")
    assert any("30 days" in r for r in replies)  # the passage, with a person beside it
    assert await desk.store.get_mode(CID) == "human"
    assert await desk.reasons() == ("unanswerable", "unanswerable", ["unanswerable"])


async def test_outside_support_hours_the_shopper_reads_when_the_team_is_back(
    database: ConsoleStore,
) -> None:
    settings = configured(hours=HOURS)
    desk = parts(settings, database, clock=MONDAY_EVENING)
    replies = await desk.say("human please")
    expected = notices.away(HOURS.next_opening(dt.datetime.fromtimestamp(MONDAY_EVENING, dt.UTC)),
                            "en")  # fmt: skip
    assert replies[-1] == expected
    assert "back Tuesday at 08:00 (EST)" in replies[-1]
    assert "leave your address" in replies[-1]
    assert [h.reason for h in await database.handoffs_of(CID)] == ["asked"]


async def test_in_hours_with_nobody_online_the_shopper_is_told_so(
    database: ConsoleStore,
) -> None:
    desk = parts(configured(hours=HOURS), database, clock=MONDAY_EVENING - 8 * 3600)  # 12:00
    replies = await desk.say("human please")
    assert replies[-1] == notices.nobody_online("en")
    assert replies[-1].startswith("No one from our team is online")
    # With an agent's console open, no notice at all.
    await desk.bus.heartbeat("a-maya", 60)
    assert await desk.desk.away_notice("en") is None


async def test_an_email_written_while_waiting_reaches_the_queue(database: ConsoleStore) -> None:
    desk = parts(always_open(configured()), database)
    await desk.say("human please")
    assert await desk.store.get_mode(CID) == "human"
    await desk.say("you can write to me at Emma.N@example.com, thanks")
    await desk.store.recorder.flush()
    (handoff,) = await database.handoffs_of(CID)
    assert handoff.email == "Emma.N@example.com"
    assert [h.email for h in await database.handoffs() if h.conversation_id == CID] == [
        "Emma.N@example.com"
    ]


async def test_median_first_response_per_agent_on_a_fixed_clock(database: ConsoleStore) -> None:
    now = [MONDAY_EVENING]
    settings = configured()
    desk = Desk(
        settings, sessions=MemorySessionStore(), db=database, bus=MemoryConsoleBus(),
        delivery=ChannelDelivery(settings.channels, outbound_client(settings.channels)),
        clock=lambda: now[0],
    )  # fmt: skip
    agents = {}
    for agent_id, name in (("a-maya", "Maya"), ("a-ben", "Ben")):
        await database.add_agent(AgentId(agent_id), f"{name}@shop.example", name, "agent",
                                 hash_password("correct horse battery"), now[0])  # fmt: skip
        account = await database.get_agent(AgentId(agent_id))
        assert account is not None
        agents[name] = account

    async def answered(cid: str, agent: str, after_s: float) -> None:
        """Queued now, claimed 10 s later, first answered ``after_s`` after that, answered
        again: the first response counts from entering the queue."""
        await desk.queued(ConversationId(cid), reason="asked", channel="webchat", language="en")
        (handoff,) = await database.handoffs_of(cid)
        now[0] += 10
        await desk.claim(agents[agent], handoff.id)
        now[0] += after_s
        await desk.reply(agents[agent], handoff.id, "Hello, I'm here.")
        now[0] += 1000  # a later reply is no first response
        await desk.reply(agents[agent], handoff.id, "Anything else?")

    for cid, agent, after_s in (("web-1", "Maya", 30), ("web-2", "Maya", 600),
                                ("web-3", "Ben", 45), ("web-4", "Maya", 90)):  # fmt: skip
        await answered(cid, agent, after_s)
    result = await analytics.figures(database, days=1, now=now[0])
    assert result["first_response"] == [
        {"agent_id": "a-ben", "name": "Ben", "median_s": 55.0, "conversations": 1},
        {"agent_id": "a-maya", "name": "Maya", "median_s": 100.0, "conversations": 3},
    ]
