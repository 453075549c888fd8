"""One turn of a conversation, end to end (see docs/architecture.md).

lock the conversation -> load its events and dialogue state -> read the message once (the
Reading: language, intent, act, feeling, references, screening) -> policy -> carry out the
decisions (answer from knowledge, run forms and actions on the action server, hand off) ->
append the new events and the new dialogue state -> unlock. Everything the turn produces is
appended in one atomic write, so a crash mid-turn loses the turn rather than leaving half of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from bot.action_client import ActionExecutor
from bot.config import Settings
from bot.console.triggers import HandoffDesk, agent_connected, matching_rule, trigger_mode
from bot.deliveries import stored_replies
from bot.dialogue_state import LANGUAGE_SLOT, STATE_SLOT, DialogueState, TurnOutcome, advance
from bot.domain import (
    ACTION_LISTEN,
    REQUESTED_SLOT,
    BotMessage,
    Button,
    Event,
    IncomingMessage,
    TrackerView,
    action_event,
    active_loop_event,
    session_started_event,
    slot_event,
    user_event,
)
from bot.errors import ActionNotFound, ActionRejected, ActionServerError
from bot.generation.answerer import DeltaSink, GroundedAnswerer
from bot.knowledge import KnowledgeBase, fill_placeholders
from bot.knowledge.followup import FollowUpContext, Topic
from bot.knowledge.languages import Bars, KnowledgeByLanguage, Source
from bot.nlu.reading import Reading
from bot.policy.decisions import (
    Answer,
    Decision,
    Empathize,
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
from bot.turn import Turn, known_facts, recent_turns, rest_messages

log = logging.getLogger(__name__)

__all__ = ["Pipeline", "Reader", "known_facts", "recent_turns", "rest_messages", "to_rasa"]

# Actions whose result is a report the shopper may ask about next ("what does it weigh?").
_REPORTS = {"action_product_info": "product", "action_order_status": "order"}


class Reader(Protocol):
    """Reads a message in its conversation (``bot.nlu.understand.Understander``)."""

    @property
    def languages(self) -> tuple[str, ...]: ...

    async def read(
        self,
        text: str,
        state: DialogueState,
        *,
        requested_slot: str | None = None,
        language_hint: str | None = None,
    ) -> Reading: ...


class Pipeline:
    """Serves turns; shared by every channel and safe for concurrent conversations."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: SessionStore,
        reader: Reader,
        knowledge: KnowledgeBase,
        actions: ActionExecutor,
        domain: RasaDomain,
        policy: Policy,
        answerer: GroundedAnswerer | None = None,
        languages: KnowledgeByLanguage | None = None,
        desk: HandoffDesk | None = None,
    ) -> None:
        self._settings = settings
        self._desk = desk
        self._languages = languages
        self._answerer = answerer
        self._store = store
        self._reader = reader
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
        return (await self._reader.read(text, DialogueState())).to_rasa()

    async def handle(
        self,
        message: IncomingMessage,
        *,
        sink: DeltaSink | None = None,
        gone: Callable[[], bool] | None = None,
        taken: Callable[[], Awaitable[None]] | None = None,
    ) -> list[BotMessage]:
        """Runs one turn and returns what to send back to the shopper.

        A message whose ``message_id`` is already stored in the conversation runs nothing:
        the replies stored for it are returned, and ``taken`` is not called.

        Args:
            message: the shopper's message.
            sink: receives a generated answer's text while it is produced (streaming
                channels). What it received is a draft: the returned messages are final.
            gone: tells whether the streaming client has left (generation then stops).
            taken: awaited under the conversation's lock once the message is known to be new,
                before the turn runs; a channel learns from it that this is not a repeat.
        """
        sessions = self._settings.sessions
        cid = message.sender
        async with self._store.lock(cid, ttl_s=sessions.lock_ttl_s, wait_s=sessions.lock_wait_s):
            history, mode = await self._store.snapshot(cid)
            if message.message_id is not None:
                # Read under the lock, from what was stored: a retry of a handled message.
                earlier = stored_replies(history, message.message_id)
                if earlier is not None:
                    return earlier
            if taken is not None:
                await taken()
            tracker = TrackerView.replay(cid, history, tuple(self._domain.slots))
            turn = Turn(tracker, sink=sink, gone=gone)
            if self._session_expired(tracker):
                turn.add(session_started_event(), action_event(ACTION_LISTEN))
            if mode == "human":
                # A person has the conversation: the message is kept for them, not read.
                turn.add(user_event(message.text, {"text": message.text}, message.channel,
                                    **message.event_metadata()))  # fmt: skip
                if not agent_connected(history):
                    # Still in the queue: the shopper hears that someone will come. Once a
                    # person has joined, the bot says nothing at all.
                    self._respond(turn, "utter_in_handoff")
            else:
                await self._bot_turn(message, turn)
                if turn.handoff and self._desk is not None:
                    notice = await self._desk.away_notice(turn.language)
                    if notice:
                        turn.say(BotMessage(text=notice), handoff_notice=True)
            turn.add(action_event(ACTION_LISTEN))
            await self._store.append(cid, turn.new_events)
            if turn.handoff:
                await self._store.set_mode(cid, "human")
                if self._desk is not None:
                    await self._desk.queued(cid, reason=turn.handoff_reason or "asked",
                                            channel=message.channel,
                                            language=turn.language)  # fmt: skip
        return turn.messages

    async def _bot_turn(self, message: IncomingMessage, turn: Turn) -> None:
        state = DialogueState.of(turn.tracker)
        requested = turn.tracker.slots.get(REQUESTED_SLOT) if turn.tracker.active_loop else None
        hint = message.metadata.get("language")
        reading = await self._reader.read(
            message.text,
            state,
            requested_slot=requested,
            language_hint=hint if isinstance(hint, str) else None,
        )
        turn.reading = reading
        turn.add(user_event(message.text, reading.to_rasa(), message.channel,
                            **message.event_metadata()))  # fmt: skip
        if turn.tracker.slots.get(LANGUAGE_SLOT) != reading.language:
            # Set before any action runs: the actions word their replies in it.
            turn.add(slot_event(LANGUAGE_SLOT, reading.language))
        if reading.screening is not None:
            # Refused before the policy or any model acts on it (bot/nlu/screening.py).
            category = reading.screening.category
            log.info("deflected %s message in %s: %s", category, message.sender,
                     reading.screening.reason)  # fmt: skip
            if _upset_screened(reading) and state.upset_in_a_row >= 1:
                # Insults, or an angry demand for compensation, after an upset message are
                # the anger going on, not a new topic: as with two upset messages in a row, a
                # person takes over, acknowledged rather than told to keep it friendly or
                # read the policy.
                for decision in self._policy.hand_over_upset(turn.tracker):
                    await self._carry_out(decision, turn)
            else:
                self._respond(turn, f"utter_deflect_{category}", deflected=category)
        else:
            turn.pending_slots = self._policy.slot_events(turn.tracker, reading)
            filled = list(turn.pending_slots)
            rule = matching_rule(self._settings.handoff, reading.intent.name, reading.text)
            decisions = (
                [Handoff(rule.reason)]  # a shop rule: a person decides, not the bot
                if rule is not None
                else self._policy.decide(reading, state, turn.tracker, filled)
            )
            for decision in decisions:
                await self._carry_out(decision, turn)
            turn.flush_slots()
        report = next((_REPORTS[name] for name in reversed(turn.ran) if name in _REPORTS), None)
        outcome = TurnOutcome(
            language=reading.language,
            shopper_text=reading.text,
            # An insult counts as upset for the next message, acknowledged or not.
            upset=turn.empathized or _upset_screened(reading),
            misunderstood=turn.misunderstood,
            answered_topic=turn.answered_topic or ((reading.text,) if report else None),
            topic_kind="knowledge" if turn.answered_topic else report,  # type: ignore[arg-type]
            product=reading.entity("product"),
            handoff_reason=turn.handoff_reason,
        )
        new_state = advance(state, outcome, turn.new_events, turn.tracker)
        turn.add(slot_event(STATE_SLOT, new_state.to_slot()))

    def _session_expired(self, tracker: TrackerView) -> bool:
        if not tracker.events:
            return True
        minutes = self._settings.policy.session_expiration_minutes
        last = tracker.last_event_time
        return bool(minutes) and last is not None and time.time() - last > minutes * 60

    async def _carry_out(self, decision: Decision, turn: Turn) -> None:
        # The message's slots stay pending through an acknowledgement or an offer said before
        # a form ("I'm sorry about this" / "shall I get a person?"): a form validates only the
        # slot events after its own start, so flushed before it they would be asked again.
        if not isinstance(decision, RunForm | Empathize | OfferHandoff):
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
            case Empathize():
                self._respond(turn, "utter_empathy", empathy=True)
                turn.empathized = True
            case Handoff(reason=reason):
                self._escalate(turn, reason)
            case OfferHandoff():
                self._respond(turn, "utter_offer_handoff", handoff_offer=True)
            case Fallback():
                self._fallback(turn)

    def _respond(self, turn: Turn, name: str, **metadata: Any) -> None:
        values = {**self._placeholders, **turn.tracker.slots}
        turn.add(action_event(name))
        turn.say(self._domain.render(name, values, language=turn.language), **metadata)

    def _escalate(self, turn: Turn, reason: str) -> None:
        """A handoff trigger fired: hand off, offer a person, or nothing (``handoff.on_*``)."""
        mode = trigger_mode(self._settings.handoff, reason)
        if mode == "handoff" and not turn.handoff:
            turn.add(action_event("action_handoff"))
            self._respond(turn, "utter_handoff", handoff_reason=reason)
            turn.handoff, turn.handoff_reason = True, reason
        elif mode == "offer":
            self._respond(turn, "utter_offer_handoff", handoff_offer=True)

    def _fallback(self, turn: Turn) -> None:
        in_a_row = DialogueState.of(turn.tracker).misunderstood_in_a_row + 1
        self._respond(turn, "utter_default", fallback=True)
        if in_a_row >= self._settings.policy.fallbacks_before_handoff_offer:
            self._escalate(turn, "misunderstood")

    def _topic(self, decision: Answer, turn: Turn) -> tuple[FollowUpContext | None, list[str]]:
        """What the question is searched with beside itself, and the topic after the answer.

        A message the reading takes for a follow-up may lean on the last answer's topic
        entirely; any other message is searched with the topic beside it but must be about
        the section on its own too (``knowledge.standalone_floor``).
        """
        state = DialogueState.of(turn.tracker)
        topic = Topic.of(state.topic if state.topic_kind == "knowledge" else ())
        context = topic.context(follow_up=bool(turn.reading and turn.reading.follow_up))
        return context, list(topic.after(decision.query, context).messages)

    def _source(self, decision: Answer, turn: Turn) -> tuple[Source, float]:
        """Where the turn's language is answered from, and the bar its best passage needs."""
        policy = self._settings.policy
        own = Source(self._knowledge, Bars(policy.answer_min_score, policy.unsure_answer_min_score))
        source = self._languages.for_language(turn.language) if self._languages else own
        if source.base is self._knowledge:
            return source, decision.min_score or policy.answer_min_score
        return source, source.bars.unsure if decision.min_score is not None else source.bars.answer

    def _retrieval_intent(
        self, decision: Answer, context: FollowUpContext | None, turn: Turn
    ) -> str | None:
        """The intent that steers retrieval: none for a follow-up, whose own words ("and if
        it's been 6 weeks?") say little of its topic; the topic beside it says more. Nor the
        message's own intent when the NLU is unsure of it (``knowledge.steer_min_confidence``):
        a wrong guess would lift passages on another topic above the words' best match."""
        if context is not None and context.elliptic:
            return None
        reading = turn.reading
        unsure = (
            reading is not None
            and decision.intent == reading.intent.name
            and reading.intent.confidence < self._settings.knowledge.steer_min_confidence
        )
        return None if unsure else decision.intent

    async def _answer(self, decision: Answer, turn: Turn) -> None:
        source, min_score = self._source(decision, turn)
        context, next_topic = self._topic(decision, turn)
        if self._answerer is not None and source.base is self._knowledge:
            # The model answers in the shop's language from the shop's own pages.
            await self._generate_answer(decision, turn, min_score, context, next_topic)
            return
        hits = await source.base.search_relevant(
            decision.query,
            self._settings.knowledge.top_k,
            min_similarity=min_score,
            intent=self._retrieval_intent(decision, context, turn),
            context=context,
        )
        if not hits:
            await self._nothing_relevant(decision, turn)
            return
        best = hits[0]
        text = fill_placeholders(best.passage.text, self._placeholders)
        if source.quoted:
            # The shop's pages are not in the shopper's language: say so, in theirs.
            self._respond(turn, "utter_passage_in_shop_language")
        turn.add(action_event("action_answer_from_knowledge"))
        turn.say(
            BotMessage(text=text),
            sources=[{"id": h.passage.id, "score": round(h.score, 4)} for h in hits],
            topic=next_topic,
            **({"shop_text": True} if source.quoted else {}),
        )
        turn.answered_topic = tuple(next_topic)
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
            intent=self._retrieval_intent(decision, context, turn),
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
        turn.answered_topic = tuple(next_topic)
        if result.offer_handoff and not decision.offer_handoff:
            self._escalate(turn, "unanswerable")
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
        turn.ran.append(name)
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
        mode = trigger_mode(self._settings.handoff, "action_failed")
        # The apology itself offers a person (its button); "handoff" also hands off at once.
        self._respond(turn, "utter_action_failed", handoff_offer=mode == "offer")
        if mode == "handoff":
            self._escalate(turn, "action_failed")

    def _message_from_action(self, response: Mapping[str, Any], turn: Turn) -> BotMessage | None:
        template = response.get("response") or response.get("template")
        if template:
            values = {**self._placeholders, **turn.tracker.slots, **(response.get("kwargs") or {})}
            return self._domain.render(str(template), values, language=turn.language)
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


def _upset_screened(reading: Reading) -> bool:
    """Whether the message was screened as abuse (insults, threats), or as a demand beyond
    policy made in anger ("I want my money back NOW, this is outrageous")."""
    if reading.screening is None:
        return False
    category = reading.screening.category
    return category == "abuse" or (category == "unearned_promise" and reading.upset)
