"""The rules that turn intent + entities + session state into decisions.

The policy is pure: it reads a :class:`TrackerView` and a Rasa parse result and returns
decisions, so every rule is tested without I/O. Slot filling follows Rasa's slot mappings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import HandoffConfig, PolicyConfig
from bot.domain import REQUESTED_SLOT, Event, TrackerView, slot_event
from bot.knowledge.followup import answered_topic, looks_like_follow_up
from bot.policy.asking import reading, reads_as_question
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
from bot.policy.flows import Flow, Flows
from bot.policy.rasa_domain import RasaDomain

# Intents that carry no topic of their own: inside a form they answer its question.
NEUTRAL_INTENTS = frozenset({"inform", "out_of_scope", "affirm"})


@dataclass(frozen=True)
class Policy:
    domain: RasaDomain
    flows: Flows
    config: PolicyConfig
    handoff: HandoffConfig

    def slot_events(self, tracker: TrackerView, parse: Mapping[str, Any]) -> list[Event]:
        """SlotSet events the message fills through the domain's slot mappings."""
        intent = _intent(parse)
        confidence = _confidence(parse)
        entities: Sequence[Mapping[str, Any]] = parse.get("entities") or []
        requested = tracker.slots.get(REQUESTED_SLOT) if tracker.active_loop else None
        # Free text only answers the question asked, not a new topic the shopper raised.
        text_is_answer = intent in NEUTRAL_INTENTS or confidence < self.config.switch_confidence
        events: list[Event] = []
        for slot, mappings in self.domain.slots.items():
            for mapping in mappings:
                if not mapping.applies(tracker.active_loop, requested):
                    continue
                value: Any = None
                if mapping.type == "from_entity":
                    value = next(
                        (e.get("value") for e in entities if e.get("entity") == mapping.entity),
                        None,
                    )
                elif mapping.type == "from_intent" and intent in mapping.intent:
                    value = mapping.value
                elif mapping.type == "from_text" and mapping.conditions and text_is_answer:
                    text = str(parse.get("text") or "").strip()
                    value = text or None
                if value is not None:
                    if tracker.slots.get(slot) != value:
                        events.append(slot_event(slot, value))
                    break
        return events

    def decide(
        self, tracker: TrackerView, parse: Mapping[str, Any], filled: Sequence[Event] = ()
    ) -> list[Decision]:
        """Decisions for the shopper's latest message.

        Args:
            tracker: the conversation including the latest user event and ``filled``.
            parse: the NLU result for the latest message (Rasa parse format).
            filled: the slot events this message produced.
        """
        intent = _intent(parse)
        confidence = _confidence(parse)
        text = str(parse.get("text") or "")
        flow = self.flows.for_intent(intent)
        if flow.handoff or intent in self.handoff.intents:
            return [StopForm(), Handoff()] if tracker.active_loop else [Handoff()]
        if self._answers_handoff_offer(tracker) and intent in ("affirm", "deny"):
            return [Handoff()] if intent == "affirm" else [Respond("utter_thanks")]
        offered = _last_bot_metadata(tracker).get("action_offer")
        if isinstance(offered, str) and intent in ("affirm", "deny") and not tracker.active_loop:
            if intent == "deny":
                return [Respond("utter_anything_else")]
            return self._serve(self.flows.for_intent(offered), text)
        if tracker.active_loop:
            return self._inside_form(tracker, tracker.active_loop, intent, confidence, filled)
        if intent in ("inform", "out_of_scope", "affirm", "deny"):
            resumed = self._resume(tracker, filled)
            if resumed is not None:
                return [resumed]
            if intent == "out_of_scope" or self._asks_after_an_answer(tracker, text):
                # An unknown intent is answered only from a passage clearly about it. So is a
                # question after an answer that the NLU took for a yes, no or detail ("is that
                # free?" read as `deny`): it follows up the answer, not a question of the bot.
                bar = self.config.unsure_answer_min_score
                return [Answer(text, intent, min_score=bar)]
            return [Fallback()]
        served = self._serve(flow, text)
        if (flow.form or flow.then) and self._asks_about(tracker, text):
            # "Can I cancel an order?" wants the rules, not the cancellation form; the form
            # starts only when the knowledge base has nothing relevant to say.
            offer = f"utter_offer_{intent}"
            return [
                Answer(
                    text,
                    intent,
                    otherwise=tuple(served),
                    offer_action=offer if offer in self.domain.responses else None,
                )
            ]
        return served

    def _asks_after_an_answer(self, tracker: TrackerView, text: str) -> bool:
        return bool(answered_topic(tracker).messages) and reads_as_question(text)

    def _asks_about(self, tracker: TrackerView, text: str) -> bool:
        """Whether a message on a business topic asks about it rather than for it."""
        if not self.config.answer_questions_about_actions:
            return False
        read = reading(text)
        if read is not None:
            return read == "question"
        return bool(answered_topic(tracker).messages) and looks_like_follow_up(text)

    def _inside_form(
        self,
        tracker: TrackerView,
        form: str,
        intent: str,
        confidence: float,
        filled: Sequence[Event],
    ) -> list[Decision]:
        form_flow = self.flows.for_form(form)
        then = form_flow.then if form_flow and form_flow.then else ""
        continue_form = RunForm(form, then)
        if intent == "deny" and confidence >= self.config.switch_confidence:
            if self._answers_question(tracker, form, intent):
                # "No" to a yes/no question the form asked (a confirmation) is the form's to
                # handle: "no, use PayPal instead" corrects a detail rather than stopping.
                return [continue_form]
            return [StopForm(), Respond("utter_form_stopped")]
        staying = (
            intent in NEUTRAL_INTENTS
            or intent == "deny"
            or (form_flow is not None and intent == form_flow.intent)
            or confidence < self.config.switch_confidence
            or any(e["name"] in self.domain.forms[form] for e in filled)
        )
        if staying:
            return [continue_form]
        flow = self.flows.for_intent(intent)
        if flow.form:
            return [StopForm(), RunForm(flow.form, flow.then or "")]
        # A digression: serve it, then come back to the question the form was asking.
        text = str(tracker.latest_message.get("text") or "")
        return [*self._serve(flow, text), continue_form]

    def _answers_question(self, tracker: TrackerView, form: str, intent: str) -> bool:
        """Whether ``intent`` answers the question asked, through a from_intent mapping."""
        requested = tracker.slots.get(REQUESTED_SLOT)
        if not isinstance(requested, str):
            return False
        return any(
            mapping.type == "from_intent"
            and intent in mapping.intent
            and mapping.applies(form, requested)
            for mapping in self.domain.slots.get(requested, ())
        )

    def _serve(self, flow: Flow, text: str) -> list[Decision]:
        if flow.form:
            return [RunForm(flow.form, flow.then or "")]
        if flow.then:
            return [RunAction(flow.then)]
        if flow.respond:
            return [Respond(flow.respond)]
        if flow.handoff:
            return [Handoff()]
        offer = flow.offer_handoff or flow.intent in self.handoff.offer_on_intents
        return [Answer(text, flow.intent, offer_handoff=offer)]

    def _resume(self, tracker: TrackerView, filled: Sequence[Event]) -> RunForm | None:
        """A bare answer ("#4821937") after a flow resumes that flow with the new value."""
        if not filled:
            return None
        for event in reversed(tracker.events[:-1]):
            if event.get("event") != "user":
                continue
            flow = self.flows.for_intent(_intent(event.get("parse_data") or {}))
            if flow.form and any(e["name"] in self.domain.forms[flow.form] for e in filled):
                return RunForm(flow.form, flow.then or "")
            if flow.form or flow.intent not in NEUTRAL_INTENTS:
                return None
        return None

    def _answers_handoff_offer(self, tracker: TrackerView) -> bool:
        return bool(_last_bot_metadata(tracker).get("handoff_offer"))

    def fallbacks_in_a_row(self, tracker: TrackerView) -> int:
        """How many of the bot's latest answers in a row were 'I didn't understand'."""
        count = 0
        for event in reversed(tracker.events):
            if event.get("event") != "bot":
                continue
            if not (event.get("metadata") or {}).get("fallback"):
                break
            count += 1
        return count


def _last_bot_metadata(tracker: TrackerView) -> Mapping[str, Any]:
    """The metadata of the bot's latest message (offers it made are read from there)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            metadata: Mapping[str, Any] = event.get("metadata") or {}
            return metadata
    return {}


def _intent(parse: Mapping[str, Any]) -> str:
    return str((parse.get("intent") or {}).get("name") or "out_of_scope")


def _confidence(parse: Mapping[str, Any]) -> float:
    return float((parse.get("intent") or {}).get("confidence") or 0.0)


__all__ = [
    "Answer",
    "Decision",
    "Fallback",
    "Handoff",
    "OfferHandoff",
    "Policy",
    "Respond",
    "RunAction",
    "RunForm",
    "StopForm",
]
