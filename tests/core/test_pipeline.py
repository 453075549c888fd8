"""The pipeline's mechanics with in-process parts: scripted NLU, handlers for actions."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from bot.action_client import ActionResult, InMemoryActionExecutor
from bot.app import Dialogue
from bot.composition import retrieval_settings
from bot.config import ROOT, Settings, load_settings
from bot.dialogue_state import DialogueState, TurnOutcome, advance
from bot.domain import ConversationId, IncomingMessage, TrackerView, slot_event
from bot.errors import ActionRejected, ActionServerUnavailable
from bot.knowledge import KnowledgeBase, Passage
from bot.nlu.encoder import Vectors
from bot.nlu.external import ParseReader
from bot.nlu.reading import Reading
from bot.pipeline import Pipeline
from bot.sessions.memory import MemorySessionStore

CID = ConversationId("p1")


class HashEncoder:
    """A deterministic bag-of-words encoder: enough for retrieval over two passages."""

    dimension = 64

    def encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.strip("?.,!").encode(), digest_size=2).digest()
                out[row, int.from_bytes(digest) % self.dimension] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out


class ScriptedParser:
    """Returns the parse given for each text; unknown texts are out_of_scope."""

    def __init__(self, script: dict[str, tuple[str, dict[str, str]]]) -> None:
        self.script = script
        self.requested: list[str | None] = []

    async def parse(self, text: str, *, requested_slot: str | None = None) -> dict[str, Any]:
        self.requested.append(requested_slot)
        intent, entities = self.script.get(text, ("out_of_scope", {}))
        return {
            "text": text,
            "intent": {"name": intent, "confidence": 0.95 if intent != "out_of_scope" else 0.2},
            "intent_ranking": [],
            "entities": [{"entity": k, "value": v} for k, v in entities.items()],
        }


FOLLOW_UPS = ("what about that?",)


class ScriptedReader:
    """Reads with the scripted parser (acts from intents, see bot/nlu/external.py); the
    texts in ``follow_ups`` read as follow-ups, as the trained follow-up head would."""

    languages = ("en",)

    def __init__(self, parser: ScriptedParser, follow_ups: Sequence[str] = FOLLOW_UPS) -> None:
        self._reader = ParseReader(parser)
        self._follow_ups = set(follow_ups)

    async def read(
        self,
        text: str,
        state: DialogueState,
        *,
        requested_slot: str | None = None,
        language_hint: str | None = None,
    ) -> Reading:
        reading = await self._reader.read(text, state, requested_slot=requested_slot)
        if text in self._follow_ups and state.topic:
            return dataclasses.replace(reading, follow_up=True, act="question")
        return reading


@pytest.fixture
def settings() -> Settings:
    return load_settings(ROOT / "config.yml", env={})


def make_pipeline(
    settings: Settings, parser: ScriptedParser, actions: InMemoryActionExecutor
) -> tuple[Pipeline, MemorySessionStore]:
    passages = [
        Passage(
            id="returns.md#window",
            source="returns.md",
            title="Returns",
            heading="Return window",
            text="You can return items within 30 days at {{Shop Name}}.",
            questions=("how many days do I have to return items?",),
        ),
        Passage(
            id="shipping.md#time",
            source="shipping.md",
            title="Shipping",
            heading="Delivery time",
            text="Standard shipping takes 3 to 5 business days.",
            questions=("how long does shipping take?",),
        ),
    ]
    store = MemorySessionStore()
    dialogue = Dialogue.from_settings(settings)
    pipeline = Pipeline(
        settings=settings,
        store=store,
        reader=ScriptedReader(parser),
        knowledge=KnowledgeBase(passages, HashEncoder(), settings=retrieval_settings(settings)),
        actions=actions,
        domain=dialogue.domain,
        policy=dialogue.policy,
    )
    return pipeline, store


def identify(tracker: TrackerView, domain: Any) -> ActionResult:
    email = tracker.slots.get("email")
    if email == "known@example.com":
        events = [slot_event("customer_id", "u1")]
        order = tracker.slots.get("order_id")
        events.append(slot_event("requested_slot", None if order else "order_id"))
        return ActionResult(events=tuple(events))
    if email is None:  # nothing new to validate: just ask
        return ActionResult(events=(slot_event("requested_slot", "email"),))
    return ActionResult(
        events=(slot_event("email", None), slot_event("requested_slot", "email")),
        responses=({"text": "No account with that email."},),
    )


def status(tracker: TrackerView, domain: Any) -> ActionResult:
    order = tracker.slots["order_id"]
    return ActionResult(
        events=(slot_event("order_id", None),),
        responses=({"text": f"Order {order} is on its way."},),
    )


SCRIPT = {
    "where is my order": ("track_order", {}),
    "known@example.com": ("inform", {"email": "known@example.com"}),
    "wrong@example.com": ("inform", {"email": "wrong@example.com"}),
    "#1234567": ("inform", {"order_id": "#1234567"}),
    "how many days can I return items": ("check_refund_policy", {}),
    "human please": ("contact_human_agent", {}),
}


async def say(pipeline: Pipeline, text: str) -> list[str]:
    replies = await pipeline.handle(IncomingMessage(CID, text))
    return [r.text or "" for r in replies]


async def test_form_asks_validates_and_runs_the_action(settings: Settings) -> None:
    parser = ScriptedParser(SCRIPT)
    actions = InMemoryActionExecutor(
        {"validate_order_status_form": identify, "action_order_status": status}
    )
    pipeline, store = make_pipeline(settings, parser, actions)
    assert "email" in (await say(pipeline, "where is my order"))[0]
    assert await say(pipeline, "wrong@example.com") == [
        "No account with that email.",
        pipeline._domain.render("utter_ask_email", {}).text,
    ]
    asked = await say(pipeline, "known@example.com")
    assert "order number" in asked[0]
    assert parser.requested[-1] == "email"
    assert await say(pipeline, "#1234567") == ["Order #1234567 is on its way."]
    assert parser.requested[-1] == "order_id"
    assert actions.calls.count("action_order_status") == 1
    tracker = TrackerView.replay(CID, await store.events(CID))
    assert tracker.active_loop is None
    assert tracker.slots["customer_id"] == "u1"
    assert tracker.events[-1]["name"] == "action_listen"


async def test_digression_answers_from_knowledge_and_asks_again(settings: Settings) -> None:
    actions = InMemoryActionExecutor({"validate_order_status_form": identify})
    pipeline, store = make_pipeline(settings, ScriptedParser(SCRIPT), actions)
    await say(pipeline, "where is my order")
    replies = await say(pipeline, "how many days can I return items")
    assert replies[0] == "You can return items within 30 days at Northwind Outfitters."
    assert "email" in replies[-1]
    bot_events = [e for e in await store.events(CID) if e["event"] == "bot"]
    assert bot_events[-2]["metadata"]["sources"][0]["id"] == "returns.md#window"


async def test_rejected_action_is_explained_politely(settings: Settings) -> None:
    def reject(tracker: TrackerView, domain: Any) -> ActionResult:
        raise ActionRejected("validate_order_status_form", "refused")

    pipeline, _ = make_pipeline(
        settings,
        ScriptedParser(SCRIPT),
        InMemoryActionExecutor({"validate_order_status_form": reject}),
    )
    replies = await say(pipeline, "where is my order")
    assert replies == [pipeline._domain.render("utter_action_rejected", {}).text]


async def test_unavailable_action_server_offers_a_person(settings: Settings) -> None:
    def down(tracker: TrackerView, domain: Any) -> ActionResult:
        raise ActionServerUnavailable("validate_order_status_form", "connection refused")

    pipeline, store = make_pipeline(
        settings,
        ScriptedParser(SCRIPT),
        InMemoryActionExecutor({"validate_order_status_form": down}),
    )
    replies = await pipeline.handle(IncomingMessage(CID, "where is my order"))
    assert "can't reach" in (replies[0].text or "")
    assert replies[0].buttons[0].payload == "/contact_human_agent"
    tracker = TrackerView.replay(CID, await store.events(CID))
    assert tracker.active_loop is None  # the form does not stay stuck


async def test_handoff_switches_the_session_to_people(settings: Settings) -> None:
    pipeline, store = make_pipeline(settings, ScriptedParser(SCRIPT), InMemoryActionExecutor({}))
    assert "support team" in (await say(pipeline, "human please"))[0]
    assert await store.get_mode(CID) == "human"
    assert "support team" in (await say(pipeline, "anyone there?"))[0]
    users = [e for e in await store.events(CID) if e["event"] == "user"]
    assert [u["text"] for u in users] == ["human please", "anyone there?"]


async def test_a_failing_turn_stores_nothing(settings: Settings) -> None:
    def boom(tracker: TrackerView, domain: Any) -> ActionResult:
        raise RuntimeError("bug in a handler")

    pipeline, store = make_pipeline(
        settings,
        ScriptedParser(SCRIPT),
        InMemoryActionExecutor({"validate_order_status_form": boom}),
    )
    with pytest.raises(RuntimeError):
        await say(pipeline, "where is my order")
    assert await store.events(CID) == []


def test_known_facts_include_the_customer_and_their_buying_profile() -> None:
    from bot.domain import TrackerView
    from bot.pipeline import known_facts

    slots = {
        "customer_name": "Ada Lovelace",
        "order_id": "#W1",
        "customer_profile": {"summary": "3 orders · likes Camp & Hike"},
    }
    tracker = TrackerView("c1", [], slots, None, {}, None)
    assert known_facts(tracker) == [
        "The shopper's name is Ada Lovelace.",
        "The order being discussed is #W1.",
        "The shopper's buying so far: 3 orders · likes Camp & Hike.",
    ]
    assert known_facts(TrackerView("c2", [], {"customer_profile": "odd"}, None, {}, None)) == []


async def test_a_follow_up_is_answered_from_the_previous_answers_topic(
    settings: Settings,
) -> None:
    # The bag-of-words test encoder sees nothing of "what about that?" in either passage, so
    # the topic is given the weight a real encoder does not need.
    knowledge = dataclasses.replace(settings.knowledge, follow_up_weight=3.0)
    # The same encoder finds "what about that?" 0.35-0.40 like "Standard shipping takes …" on
    # its own; a bar above that, not the configured one, keeps it from being an answer.
    policy = dataclasses.replace(settings.policy, unsure_answer_min_score=0.45)
    settings = dataclasses.replace(settings, knowledge=knowledge, policy=policy)
    pipeline, store = make_pipeline(settings, ScriptedParser(SCRIPT), InMemoryActionExecutor({}))
    fallback = pipeline._domain.render("utter_default", {}).text

    assert await say(pipeline, "what about that?") == [fallback]  # no topic yet
    await say(pipeline, "how many days can I return items")
    assert await say(pipeline, "what about that?") == [
        "You can return items within 30 days at Northwind Outfitters."
    ]
    answers = [e for e in await store.events(CID) if e["event"] == "bot"]
    assert answers[-1]["metadata"]["topic"] == [
        "how many days can I return items",
        "what about that?",
    ]

    assert await say(pipeline, "quick brown foxes jump high") == [fallback]  # no answer ...
    assert (await say(pipeline, "what about that?"))[0] == fallback  # ... ends the topic


def test_only_the_turn_just_before_gives_a_topic() -> None:
    view = TrackerView.replay(CID, [])
    answered = TurnOutcome(
        "en",
        "can I return a coat?",
        upset=False,
        misunderstood=False,
        answered_topic=("can I return a coat?",),
        topic_kind="knowledge",
    )
    state = advance(DialogueState(), answered, [], view)
    assert state.topic == ("can I return a coat?",)
    nothing = TurnOutcome("en", "hm", upset=False, misunderstood=True)
    assert advance(state, nothing, [], view).topic == ()
    # A new session starts without the old state (its slots are cleared).
    restarted = TrackerView.replay(
        CID, [slot_event("dialogue_state", state.to_slot()), {"event": "session_started"}]
    )
    assert DialogueState.of(restarted) == DialogueState()


def test_the_order_a_turn_reported_stays_the_last_order_when_its_flow_clears_the_slot() -> None:
    # The order-status flow resets order_id when done, so the next flow asks afresh; "what's
    # the tracking number?" must still mean that order.
    turn = [slot_event("order_id", "#4977043"), slot_event("order_id", None)]
    view = TrackerView.replay(CID, turn)
    reported = TurnOutcome("en", "where is #4977043?", upset=False, misunderstood=False)
    state = advance(DialogueState(last_order="#1111111"), reported, turn, view)
    assert state.last_order == "#4977043"
    # A turn that touched no order keeps the one before.
    assert advance(state, reported, [], TrackerView.replay(CID, [])).last_order == "#4977043"


def test_an_intent_the_nlu_is_unsure_of_does_not_steer_retrieval() -> None:
    from types import SimpleNamespace

    from bot.nlu.reading import IntentGuess
    from bot.policy.decisions import Answer
    from bot.turn import Turn

    settings = load_settings(ROOT / "config.yml", env={})
    owner = SimpleNamespace(_settings=settings)
    bar = settings.knowledge.steer_min_confidence

    def steering(confidence: float) -> str | None:
        reading = Reading(
            text="q", language="en", intent=IntentGuess("place_order", confidence), ranking=()
        )
        turn = Turn(tracker=TrackerView.replay(CID, []), reading=reading)
        answer = Answer("q", "place_order")
        return Pipeline._retrieval_intent(owner, answer, None, turn)  # type: ignore[arg-type]

    assert steering(bar) == "place_order"
    assert steering(bar - 0.01) is None
