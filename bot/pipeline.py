"""One turn of a conversation, end to end (see docs/architecture.md).

lock the conversation -> load its events -> NLU -> policy -> carry out the decisions (answer from
knowledge, run forms and actions on the action server, hand off) -> append the new events ->
unlock. Everything the turn produces is appended in one atomic write, so a crash mid-turn loses
the turn rather than leaving half of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.action_client import ActionExecutor
from bot.config import Settings
from bot.domain import (
    ACTION_LISTEN,
    REQUESTED_SLOT,
    BotMessage,
    Button,
    ConversationId,
    Event,
    IncomingMessage,
    TrackerView,
    action_event,
    active_loop_event,
    bot_event,
    session_started_event,
    slot_event,
    user_event,
)
from bot.errors import ActionNotFound, ActionRejected, ActionServerError
from bot.generation.answerer import DeltaSink, GroundedAnswerer
from bot.generation.backend import ChatMessage
from bot.generation.screening import screen_request
from bot.knowledge import KnowledgeBase, fill_placeholders
from bot.knowledge.followup import FollowUpContext, answered_topic
from bot.policy.decisions import (
    Answer,
    Decision,
    Fallback,
    Handoff,
    OfferHandoff,
    Respond,
    RunAction,
    RunForm,
    StopForm,
)
from bot.policy.policy import Policy
from bot.policy.rasa_domain import RasaDomain
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)


class Parser(Protocol):
    async def parse(self, text: str, *, requested_slot: str | None = None) -> Any: ...


@dataclass
class Turn:
    """The events and messages one turn adds; nothing is stored until the turn ends."""

    tracker: TrackerView
    new_events: list[Event] = field(default_factory=list)
    messages: list[BotMessage] = field(default_factory=list)
    pending_slots: list[Event] = field(default_factory=list)
    handoff: bool = False
    sink: DeltaSink | None = None
    gone: Callable[[], bool] | None = None

    def add(self, *events: Event) -> None:
        for event in events:
            self.tracker.apply(event)
            self.new_events.append(event)

    def flush_slots(self) -> list[Event]:
        flushed, self.pending_slots = self.pending_slots, []
        self.add(*flushed)
        return flushed

    def say(self, message: BotMessage, **metadata: Any) -> None:
        event = bot_event(message)
        event["metadata"] = dict(metadata)
        self.add(event)
        self.messages.append(message)


class Pipeline:
    """Serves turns; shared by every channel and safe for concurrent conversations."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: SessionStore,
        parser: Parser,
        knowledge: KnowledgeBase,
        actions: ActionExecutor,
        domain: RasaDomain,
        policy: Policy,
        answerer: GroundedAnswerer | None = None,
    ) -> None:
        self._settings = settings
        self._answerer = answerer
        self._store = store
        self._parser = parser
        self._knowledge = knowledge
        self._actions = actions
        self._domain = domain
        self._policy = policy
        self._domain_for_actions = domain.for_action_server()
        self._placeholders = settings.shop.placeholders()

    @property
    def knowledge(self) -> KnowledgeBase:
        """The shop's knowledge base the answers come from."""
        return self._knowledge

    async def parse(self, text: str) -> dict[str, Any]:
        """The Rasa parse result for a text, outside any conversation."""
        return to_rasa(await self._parser.parse(text))

    async def handle(
        self,
        message: IncomingMessage,
        *,
        sink: DeltaSink | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> list[BotMessage]:
        """Runs one turn and returns what to send back to the shopper.

        Args:
            message: the shopper's message.
            sink: receives a generated answer's text while it is produced (streaming
                channels). What it received is a draft: the returned messages are final.
            gone: tells whether the streaming client has left (generation then stops).
        """
        sessions = self._settings.sessions
        cid = message.sender
        async with self._store.lock(cid, ttl_s=sessions.lock_ttl_s, wait_s=sessions.lock_wait_s):
            history, mode = await self._store.snapshot(cid)
            tracker = TrackerView.replay(cid, history, tuple(self._domain.slots))
            turn = Turn(tracker, sink=sink, gone=gone)
            if self._session_expired(tracker):
                turn.add(session_started_event(), action_event(ACTION_LISTEN))
            requested = tracker.slots.get(REQUESTED_SLOT) if tracker.active_loop else None
            parse = to_rasa(await self._parser.parse(message.text, requested_slot=requested))
            turn.add(user_event(message.text, parse, message.channel, **dict(message.metadata)))
            screened = screen_request(message.text) if mode == "bot" else None
            if mode == "human":
                self._respond(turn, "utter_in_handoff")
            elif screened is not None:
                # Refused before NLU, policy or any model acts on it (bot/generation/screening.py).
                log.info("deflected %s message in %s: %s", screened.category, cid, screened.reason)
                self._respond(
                    turn, f"utter_deflect_{screened.category}", deflected=screened.category
                )
            else:
                turn.pending_slots = self._policy.slot_events(turn.tracker, parse)
                filled = list(turn.pending_slots)
                for decision in self._policy.decide(turn.tracker, parse, filled):
                    await self._carry_out(decision, turn)
                turn.flush_slots()
            turn.add(action_event(ACTION_LISTEN))
            await self._store.append(cid, turn.new_events)
            if turn.handoff:
                await self._store.set_mode(cid, "human")
        return turn.messages

    def _session_expired(self, tracker: TrackerView) -> bool:
        if not tracker.events:
            return True
        minutes = self._settings.policy.session_expiration_minutes
        last = tracker.last_event_time
        return bool(minutes) and last is not None and time.time() - last > minutes * 60

    async def _carry_out(self, decision: Decision, turn: Turn) -> None:
        if not isinstance(decision, RunForm):
            turn.flush_slots()
        match decision:
            case Respond(response=name):
                self._respond(turn, name)
            case Answer():
                await self._answer(decision, turn)
            case RunForm(form=form, then=then):
                await self._run_form(form, then, turn)
            case RunAction(action=name):
                await self._run_action(name, turn)
            case StopForm():
                if turn.tracker.active_loop:
                    turn.add(active_loop_event(None), slot_event(REQUESTED_SLOT, None))
            case Handoff():
                turn.add(action_event("action_handoff"))
                self._respond(turn, "utter_handoff")
                turn.handoff = True
            case OfferHandoff():
                self._respond(turn, "utter_offer_handoff", handoff_offer=True)
            case Fallback():
                self._fallback(turn)

    def _respond(self, turn: Turn, name: str, **metadata: Any) -> None:
        values = {**self._placeholders, **turn.tracker.slots}
        turn.add(action_event(name))
        turn.say(self._domain.render(name, values), **metadata)

    def _fallback(self, turn: Turn) -> None:
        in_a_row = self._policy.fallbacks_in_a_row(turn.tracker) + 1
        self._respond(turn, "utter_default", fallback=True)
        if in_a_row >= self._settings.policy.fallbacks_before_handoff_offer:
            self._respond(turn, "utter_offer_handoff", handoff_offer=True)

    async def _answer(self, decision: Answer, turn: Turn) -> None:
        min_score = decision.min_score or self._settings.policy.answer_min_score
        topic = answered_topic(turn.tracker)
        context = topic.context_for(decision.query)
        # Stored with the answer, so that the next message can follow it up.
        next_topic = list(topic.after(decision.query, context).messages)
        if self._answerer is not None:
            await self._generate_answer(decision, turn, min_score, context, next_topic)
            return
        hits = await self._knowledge.search_relevant(
            decision.query,
            self._settings.knowledge.top_k,
            min_similarity=min_score,
            intent=decision.intent,
            context=context,
        )
        if not hits:
            await self._nothing_relevant(decision, turn)
            return
        best = hits[0]
        text = fill_placeholders(best.passage.text, self._placeholders)
        turn.add(action_event("action_answer_from_knowledge"))
        turn.say(
            BotMessage(text=text),
            sources=[{"id": h.passage.id, "score": round(h.score, 4)} for h in hits],
            topic=next_topic,
        )
        self._offer_after_answer(decision, turn)

    def _offer_after_answer(self, decision: Answer, turn: Turn) -> None:
        if decision.offer_action:
            self._respond(turn, decision.offer_action, action_offer=decision.intent)
        if decision.offer_handoff:
            self._respond(turn, "utter_offer_handoff", handoff_offer=True)

    async def _nothing_relevant(self, decision: Answer, turn: Turn) -> None:
        if not decision.otherwise:
            self._fallback(turn)
            return
        for then in decision.otherwise:
            await self._carry_out(then, turn)

    async def _generate_answer(
        self,
        decision: Answer,
        turn: Turn,
        min_score: float,
        context: FollowUpContext | None,
        next_topic: list[str],
    ) -> None:
        assert self._answerer is not None
        result = await self._answerer.answer(
            decision.query,
            intent=decision.intent,
            history=recent_turns(turn.tracker, skip_last_user=True),
            facts=known_facts(turn.tracker),
            sink=turn.sink,
            gone=turn.gone,
            min_similarity=min_score,
            context=context,
        )
        if result.kind == "fallback":
            await self._nothing_relevant(decision, turn)
            return
        name = (
            "action_answer_generated"
            if result.kind == "generated"
            else "action_answer_from_knowledge"
        )
        turn.add(action_event(name))
        metadata: dict[str, Any] = {
            "sources": [{"id": source} for source in result.sources],
            "generated": result.kind == "generated",
            "topic": next_topic,
        }
        if result.reason:
            metadata["fallback_reason"] = result.reason
        if result.verdict is not None and result.verdict.claims:
            metadata["checked_claims"] = [c.text for c in result.verdict.claims]
        turn.say(BotMessage(text=result.text), **metadata)
        if result.offer_handoff and not decision.offer_handoff:
            self._respond(turn, "utter_offer_handoff", handoff_offer=True)
        self._offer_after_answer(decision, turn)

    async def _run_form(self, form: str, then: str, turn: Turn) -> None:
        if turn.tracker.active_loop != form:
            if turn.tracker.active_loop:
                turn.add(active_loop_event(None))
            turn.add(action_event(form), active_loop_event(form))
        # rasa-sdk validates the slot events at the very end of the tracker, so they go last.
        turn.flush_slots()
        validated: list[Event] = []
        validator = f"validate_{form}"
        if validator in self._domain.actions:
            events = await self._run_action(validator, turn)
            if events is None:
                turn.add(active_loop_event(None), slot_event(REQUESTED_SLOT, None))
                return
            validated = events
        # A validator with dynamic required slots names the next one itself (None = complete).
        named = [e for e in validated if e.get("event") == "slot" and e["name"] == REQUESTED_SLOT]
        if named:
            next_slot = named[-1].get("value")
        else:
            required = self._domain.forms[form]
            next_slot = next((s for s in required if turn.tracker.slots.get(s) is None), None)
        if next_slot:
            if turn.tracker.slots.get(REQUESTED_SLOT) != next_slot:
                turn.add(slot_event(REQUESTED_SLOT, next_slot))
            ask_action = f"action_ask_{next_slot}"
            asked = ask_action in self._domain.actions and (
                await self._run_action(ask_action, turn, quiet=True) is not None
            )
            if asked:
                return
            self._respond(turn, f"utter_ask_{next_slot}")
            return
        turn.add(active_loop_event(None), slot_event(REQUESTED_SLOT, None))
        if then:
            await self._run_action(then, turn)

    async def _run_action(
        self, name: str, turn: Turn, *, quiet: bool = False
    ) -> list[Event] | None:
        """Runs an action on the action server; None when it failed.

        The shopper is told of the failure unless ``quiet`` (for actions with a fallback, such
        as a custom question whose plain ``utter_ask_<slot>`` can stand in).
        """
        try:
            result = await self._actions.run(name, turn.tracker, self._domain_for_actions)
        except ActionServerError as exc:
            if quiet:
                log.warning("action %s failed, using its fallback: %s", name, exc)
                return None
            self._action_failed(name, exc, turn)
            return None
        turn.add(action_event(name))
        events = [dict(e) for e in result.events]
        turn.add(*events)
        for response in result.responses:
            message = self._message_from_action(response, turn)
            if message is not None:
                turn.say(message)
        return events

    def _action_failed(self, name: str, exc: ActionServerError, turn: Turn) -> None:
        """Tells the shopper, in words, that an action could not run; never a 500."""
        if isinstance(exc, ActionRejected):
            log.info("action %s rejected in %s: %s", name, turn.tracker.sender_id, exc)
            self._respond(turn, "utter_action_rejected")
            return
        if isinstance(exc, ActionNotFound):
            log.error("action %s is not registered on the action server (configuration)", name)
        else:
            log.warning("action server failed for %s: %s", name, exc)
        self._respond(turn, "utter_action_failed", handoff_offer=True)

    def _message_from_action(self, response: Mapping[str, Any], turn: Turn) -> BotMessage | None:
        template = response.get("response") or response.get("template")
        if template:
            values = {**self._placeholders, **turn.tracker.slots, **(response.get("kwargs") or {})}
            return self._domain.render(str(template), values)
        buttons = tuple(
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in response.get("buttons") or ()
        )
        custom = response.get("custom") or response.get("json_message") or None
        message = BotMessage(
            text=response.get("text") or None,
            buttons=buttons,
            image=response.get("image") or None,
            custom=custom,
        )
        if not (message.text or message.buttons or message.image or message.custom):
            return None
        return message


def to_rasa(result: Any) -> dict[str, Any]:
    """A parser's result in Rasa's parse format (a parse that already is one passes through)."""
    if isinstance(result, Mapping):
        return dict(result)
    converted: dict[str, Any] = result.to_rasa()
    return converted


def rest_messages(
    recipient: ConversationId, messages: Sequence[BotMessage]
) -> list[dict[str, Any]]:
    """Rasa REST channel output: one dict per message, text and buttons kept together."""
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"recipient_id": recipient}
        if message.text is not None:
            item["text"] = message.text
        if message.buttons:
            item["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        if message.image:
            item["image"] = message.image
        if message.custom is not None:
            item["custom"] = dict(message.custom)
        out.append(item)
    return out


def recent_turns(
    tracker: TrackerView, *, limit: int = 4, skip_last_user: bool = False
) -> list[ChatMessage]:
    """The last shopper and bot texts of the conversation, oldest first, for the prompt."""
    texts: list[ChatMessage] = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if kind in ("user", "bot") and isinstance(text, str) and text.strip():
            texts.append(ChatMessage("user" if kind == "user" else "assistant", text))
    if skip_last_user and texts and texts[-1].role == "user":
        texts.pop()
    return texts[-limit:]


def known_facts(tracker: TrackerView) -> list[str]:
    """What the conversation has established about the shopper, as prompt facts."""
    slots = tracker.slots
    facts = []
    if slots.get("customer_name"):
        facts.append(f"The shopper's name is {slots['customer_name']}.")
    if slots.get("order_id"):
        facts.append(f"The order being discussed is {slots['order_id']}.")
    profile = slots.get("customer_profile")
    if isinstance(profile, dict) and profile.get("summary"):
        facts.append(f"The shopper's buying so far: {profile['summary']}.")
    return facts
