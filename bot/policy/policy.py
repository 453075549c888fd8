"""The rules that turn a reading of the message and the dialogue state into decisions.

The policy is pure: it reads the :class:`~bot.nlu.reading.Reading` of the latest message, the
:class:`~bot.dialogue_state.DialogueState` and Rasa's :class:`TrackerView` (forms and slots)
and returns decisions, so every rule is tested without I/O. It never reads the message's
text: what the wording means (a request or a question, a yes, a correction, a follow-up,
frustration) is a field of the reading, learned and measured (``models/reading``). Slot
filling follows Rasa's slot mappings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import HandoffConfig, PolicyConfig
from bot.dialogue_state import DialogueState
from bot.domain import REQUESTED_SLOT, Event, TrackerView, slot_event
from bot.nlu.entities import CONTEXT_EXTRACTOR
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
from bot.policy.flows import Flow, Flows
from bot.policy.rasa_domain import RasaDomain, SlotMapping

# Intents that carry no topic of their own: inside a form they answer its question.
NEUTRAL_INTENTS = frozenset({"inform", "out_of_scope", "affirm", "deny"})
CONFIRMATION_SLOT = "confirmed"
IDENTITY_SLOTS = frozenset({"email", "customer_name", "zip_code"})
# Flows that report on one order: a question about "it" after an order was shown is served by
# showing that order again (its tracking, dates and items are all there).
ORDER_REPORT_FORM = "order_status_form"
PRODUCT_FORM = "product_info_form"


@dataclass(frozen=True)
class Policy:
    domain: RasaDomain
    flows: Flows
    config: PolicyConfig
    handoff: HandoffConfig

    def confirmation_answer(self, reading: Reading, tracker: TrackerView) -> str | None:
        """ "yes" or "no" to the summary a form is waiting on, or None (ask again).

        A request at this point that starts no other flow ("ok yes, cancel it") is a yes
        to the summary, so its probability counts for the yes. Either answer is taken only
        when the act head gives it ``policy.confirmation_min_confidence`` (or, for a yes, when
        yes is the likeliest act and the intent is the flow being confirmed): a wrong yes
        changes the shop, a wrong no throws the flow away, while asking again costs one
        message.
        """
        if reading.rule in ("payload", "choice"):
            return _yes_or_no(reading)
        flow = self.flows.for_intent(reading.intent.name)
        # A request the intent model cannot place ("oh wait, it's apt 3B") may be anything: only
        # one that starts no other flow and was understood counts for the yes.
        placed = reading.rule != "low_confidence"
        same_flow = flow.form == tracker.active_loop or (flow.form is None and placed)
        yes = reading.act_probability("affirm") + (
            reading.act_probability("request") if same_flow else 0.0
        )
        no = reading.act_probability("deny")
        bar = self.config.confirmation_min_confidence
        if yes >= bar and yes > no:
            return "yes"
        if reading.act == "affirm" and flow.form is not None and flow.form == tracker.active_loop:
            # Two readings agree: the act head's likeliest act is a yes and the intent model
            # reads a request for the very change being confirmed ("是的，取消吧", yes, cancel it).
            return "yes"
        if no >= bar:
            return "no"
        return None

    def slot_events(self, tracker: TrackerView, reading: Reading) -> list[Event]:
        """SlotSet events the message fills through the domain's slot mappings.

        A ``from_intent`` mapping reads the dialogue act where the act says yes or no (at a
        confirmation "sure, do it" is a yes whatever intent the words resemble), the intent
        otherwise. A product or order the message refers back to ("is it waterproof?") is an
        entity of the reading, so it fills its slot as if it had been named.
        """
        requested = tracker.slots.get(REQUESTED_SLOT) if tracker.active_loop else None
        if requested == CONFIRMATION_SLOT:
            answer = self.confirmation_answer(reading, tracker)
            intent = {"yes": "affirm", "no": "deny"}.get(answer or "", "inform")
        else:
            intent = _mapping_intent(reading)
        # Free text only answers the question asked, not a new topic the shopper raised.
        text_is_answer = (
            intent in NEUTRAL_INTENTS
            or reading.act in ("inform", "correction")
            or reading.intent.confidence < self.config.switch_confidence
        )
        entities = reading.entities
        events: list[Event] = []
        for slot, mappings in self.domain.slots.items():
            for mapping in mappings:
                if not mapping.applies(tracker.active_loop, requested):
                    continue
                value: object = None
                if mapping.type == "from_entity":
                    value = next(
                        (e.get("value") for e in entities if e.get("entity") == mapping.entity),
                        None,
                    )
                elif mapping.type == "from_intent" and intent in mapping.intent:
                    value = mapping.value
                elif mapping.type == "from_text" and mapping.conditions and text_is_answer:
                    value = reading.text.strip() or None
                if value is not None:
                    if tracker.slots.get(slot) != value:
                        events.append(slot_event(slot, value))
                    break
        return events

    def decide(
        self,
        reading: Reading,
        state: DialogueState,
        tracker: TrackerView,
        filled: Sequence[Event] = (),
    ) -> list[Decision]:
        """Decisions for the shopper's latest message.

        Args:
            reading: what was understood of the message.
            state: the dialogue state before this message.
            tracker: the conversation including the latest user event and ``filled``.
            filled: the slot events this message produced.
        """
        decisions = self._serve_reading(reading, state, tracker, filled)
        if not reading.upset or reading.intent.name == "out_of_scope":
            # Feelings are read only in a message about the shop: the heads' readings of text
            # the intent model puts out of scope (gibberish, small talk) are noise.
            return decisions
        if state.upset_in_a_row >= 1:
            return self.hand_over_upset(tracker)
        if not any(isinstance(d, Handoff | OfferHandoff) for d in decisions):
            # Offered before a form's next question, so that question stays the last one
            # asked and "yes" answers it; the offer's button stays on screen.
            forms = [i for i, d in enumerate(decisions) if isinstance(d, RunForm)]
            at = forms[-1] if forms else len(decisions)
            decisions = [*decisions[:at], OfferHandoff(), *decisions[at:]]
        return [Empathize(), *decisions]

    def hand_over_upset(self, tracker: TrackerView) -> list[Decision]:
        """Upset twice in a row (or insulting after being upset): a person takes over,
        whatever the request was, with an acknowledgement."""
        stop = [StopForm()] if tracker.active_loop else []
        return [Empathize(), *stop, Handoff("frustration")]

    def _serve_reading(
        self,
        reading: Reading,
        state: DialogueState,
        tracker: TrackerView,
        filled: Sequence[Event],
    ) -> list[Decision]:
        intent, act = reading.intent.name, reading.act
        flow = self.flows.for_intent(intent)
        if flow.handoff or intent in self.handoff.intents:
            return [StopForm(), Handoff("asked")] if tracker.active_loop else [Handoff("asked")]
        yes_or_no = _yes_or_no(reading)
        if state.offer is not None and state.offer.kind == "handoff" and yes_or_no:
            return [Handoff("offer_accepted")] if yes_or_no == "yes" else [Respond("utter_thanks")]
        offered = state.offer.intent if state.offer and state.offer.kind == "action" else None
        if offered and yes_or_no and not tracker.active_loop:
            if yes_or_no == "no":
                return [Respond("utter_anything_else")]
            return self._serve(self.flows.for_intent(offered), reading.text)
        if offered and not tracker.active_loop and self._details_for(reading, offered):
            # "PayPal is fine for the refund" after "shall I start a return?": the details
            # of the offered change take it up; its form reads them.
            return self._serve(self.flows.for_intent(offered), reading.text)
        if tracker.active_loop:
            return self._inside_form(reading, state, tracker, tracker.active_loop, filled)
        referred = self._referred(reading, state, flow)
        if referred is not None:
            return referred
        if flow.shows_order and reading.entity("order_id") is not None:
            shown = self._order_report()
            if shown is not None:
                return shown
        if intent in NEUTRAL_INTENTS:
            resumed = self._resume(tracker, filled)
            if resumed is not None:
                return [resumed]
            if intent == "out_of_scope" or (state.topic and act == "question") or reading.follow_up:
                # An unknown intent is answered only from a passage clearly about it. So is a
                # question after an answer that the NLU took for a yes, no or detail ("is that
                # free?" read as `deny`): it follows up the answer, not a question of the bot.
                return [Answer(reading.text, intent, min_score=self.config.unsure_answer_min_score)]
            return [Fallback()]
        served = self._serve(flow, reading.text)
        # A follow-up of a knowledge answer ("and gift cards?" after a returns answer) stays
        # with the knowledge base even when its words resemble a flow's.
        follows_answer = reading.follow_up and state.topic_kind == "knowledge" and act != "request"
        if (flow.form or flow.then) and (self._asks_about(reading, flow) or follows_answer):
            # "Can I cancel an order?" wants the rules, not the cancellation form; the form
            # starts only when the knowledge base has nothing relevant to say.
            offer = f"utter_offer_{intent}"
            return [
                Answer(
                    reading.text,
                    intent,
                    otherwise=tuple(served),
                    offer_action=offer if offer in self.domain.responses else None,
                )
            ]
        return served

    def _asks_about(self, reading: Reading, flow: Flow) -> bool:
        """Whether the knowledge base should answer a message on a flow's topic first.

        For a flow that acts on the shopper's own orders or account (its form asks who they
        are), a message that names the shopper's order, email, or zip code is theirs to act
        on; otherwise a question wants the rules ("can I cancel an order?"), and so does a
        request the act head is not sure of against a question
        (``policy.request_min_confidence``): starting a form asks for an email out of the blue,
        while answering first leaves the flow one tap away (the offer). A flow that only
        shows the shop (recommendations, a product's details) is what a question about it
        wants, when the intent model is sure of it (``policy.show_min_confidence``) or a
        product is named; so do recommendations asked for as a request, or about the order or
        product just discussed; otherwise the pages answer first, and the flow runs when they
        have nothing.
        """
        if not self.config.answer_questions_about_actions or reading.rule == "payload":
            return False
        if self._acts_for_the_shopper(flow):
            if _identifies_the_shopper(reading):
                # "Felix Wagner, zip 80301, which orders do I have?": whoever says who they are
                # or names their order wants it looked at, however the sentence is built.
                return False
            if reading.act == "question":
                return True
            if reading.act != "request":
                return False
            # Between the two readings that matter here: the share of "request" against
            # "question" (mass on other acts, a "correction" say, says nothing of this).
            request = reading.act_probability("request")
            share = request / max(request + reading.act_probability("question"), 1e-9)
            return share < self.config.request_min_confidence
        if flow.form == PRODUCT_FORM and reading.entity("product") is not None:
            return False
        if flow.form is None and (reading.act in ("request", "inform") or reading.refers_to):
            # Recommendations ask nothing first: asked for ("a gift for my sister who runs") or
            # about the shopper's own order ("what goes with my last order?"), the pages have
            # nothing better to say.
            return False
        return reading.intent.confidence < self.config.show_min_confidence

    def _details_for(self, reading: Reading, offered: str) -> bool:
        """Whether the message gives details of the offered flow rather than a new topic: a
        detail or a correction (by the act head) that starts no other flow, as inside a form
        ("PayPal is fine for the refund" resembles a refund question, which has no flow)."""
        if reading.act not in ("inform", "correction") or reading.rule not in (
            None,
            "low_confidence",
        ):
            return False
        other = self.flows.for_intent(reading.intent.name)
        return other.intent == offered or not other.form

    def _acts_for_the_shopper(self, flow: Flow) -> bool:
        """Whether the flow's form asks who the shopper is (it acts on their orders)."""
        required = self.domain.forms.get(flow.form or "", ())
        return any(slot in IDENTITY_SLOTS for slot in required)

    def _referred(
        self, reading: Reading, state: DialogueState, flow: Flow
    ) -> list[Decision] | None:
        """A question about the product or order just discussed, served by showing it again."""
        reference = reading.refers_to
        # A question whose own flow is the report ("what's the tracking number?" after an
        # order was shown) is served by that report too, not by the pages on tracking.
        reports = flow.form in (ORDER_REPORT_FORM, PRODUCT_FORM)
        if reference is None or not (flow.answers or flow.intent in NEUTRAL_INTENTS or reports):
            return None
        if reference.kind == "product" and PRODUCT_FORM in self.domain.forms:
            product_flow = self.flows.for_form(PRODUCT_FORM)
            if product_flow is not None:
                return [RunForm(PRODUCT_FORM, product_flow.then or "")]
        if reference.kind == "order":
            return self._order_report()
        return None

    def _order_report(self) -> list[Decision] | None:
        """Showing an order (its form reads which one), where the domain has the report."""
        order_flow = self.flows.for_form(ORDER_REPORT_FORM)
        if ORDER_REPORT_FORM not in self.domain.forms or order_flow is None:
            return None
        return [RunForm(ORDER_REPORT_FORM, order_flow.then or "")]

    def _inside_form(
        self,
        reading: Reading,
        state: DialogueState,
        tracker: TrackerView,
        form: str,
        filled: Sequence[Event],
    ) -> list[Decision]:
        form_flow = self.flows.for_form(form)
        then = form_flow.then if form_flow and form_flow.then else ""
        continue_form = RunForm(form, then)
        intent, act = reading.intent.name, reading.act
        confident = reading.intent.confidence >= self.config.switch_confidence
        flow = self.flows.for_intent(intent)
        switching = (
            flow.form is not None
            and flow.form != form
            and confident
            and act in ("request", "correction")  # "actually, I'd rather exchange it"
            and not any(e["name"] in self.domain.forms[form] for e in filled)
        )
        if tracker.slots.get(REQUESTED_SLOT) == CONFIRMATION_SLOT:
            # At "shall I go ahead?": a yes or a no is the form's to read (a no ends the
            # flow with nothing changed); a reason or a change goes back to the form, which
            # reads the message and asks again; a question is answered, then asked again.
            if switching:
                return [StopForm(), RunForm(str(flow.form), flow.then or "")]
            if act == "question" and reading.rule not in ("payload", "choice"):
                # The question is about the change on the table: its flow steers retrieval.
                about = form_flow.intent if form_flow is not None else intent
                return [
                    Answer(reading.text, about, min_score=self.config.unsure_answer_min_score),
                    continue_form,
                ]
            return [continue_form]
        if _yes_or_no(reading) == "no" and reading.rule != "choice":
            if self._answers_question(tracker, form, "deny"):
                return [continue_form]
            unsure = reading.act_confidence < self.config.confirmation_min_confidence
            if unsure and self._takes_free_text(tracker, form):
                # "不需要了" (don't need it any more) at "why cancel?" reads a little like a
                # no, and is the answer: the form reads it and asks again if it is not one.
                return [continue_form]
            return [StopForm(), Respond("utter_form_stopped")]
        if switching:
            return [StopForm(), RunForm(str(flow.form), flow.then or "")]
        staying = (
            intent in NEUTRAL_INTENTS
            or act in ("inform", "correction", "affirm")
            or reading.rule is not None
            or (form_flow is not None and intent == form_flow.intent)
            or not confident
            or any(e["name"] in self.domain.forms[form] for e in filled)
        )
        if staying or flow.form is not None:
            return [continue_form]
        # A digression: serve it, then come back to the question the form was asking.
        return [*self._serve(flow, reading.text), continue_form]

    def _answers_question(self, tracker: TrackerView, form: str, intent: str) -> bool:
        """Whether ``intent`` answers the question asked, through a from_intent mapping."""
        return any(
            mapping.type == "from_intent" and intent in mapping.intent
            for mapping in self._requested_mappings(tracker, form)
        )

    def _takes_free_text(self, tracker: TrackerView, form: str) -> bool:
        """Whether the question asked is answered in the shopper's own words (a from_text
        mapping, or a custom one the form reads from the message: a reason, an address), not
        by a yes or no."""
        return any(
            mapping.type in ("from_text", "custom")
            for mapping in self._requested_mappings(tracker, form)
        )

    def _requested_mappings(self, tracker: TrackerView, form: str) -> list[SlotMapping]:
        """The mappings that fill the slot ``form`` is asking for, at this question."""
        requested = tracker.slots.get(REQUESTED_SLOT)
        if not isinstance(requested, str):
            return []
        return [m for m in self.domain.slots.get(requested, ()) if m.applies(form, requested)]

    def _serve(self, flow: Flow, text: str) -> list[Decision]:
        if flow.form:
            return [RunForm(flow.form, flow.then or "")]
        if flow.then:
            return [RunAction(flow.then)]
        if flow.respond:
            return [Respond(flow.respond)]
        if flow.handoff:
            return [Handoff("asked")]
        offer = flow.offer_handoff or flow.intent in self.handoff.offer_on_intents
        return [Answer(text, flow.intent, offer_handoff=offer)]

    def _resume(self, tracker: TrackerView, filled: Sequence[Event]) -> RunForm | None:
        """A bare answer ("#4821937") after a flow resumes that flow with the new value."""
        if not filled:
            return None
        for event in reversed(tracker.events[:-1]):
            if event.get("event") != "user":
                continue
            parse = event.get("parse_data") or {}
            flow = self.flows.for_intent(str((parse.get("intent") or {}).get("name") or ""))
            if flow.form and any(e["name"] in self.domain.forms[flow.form] for e in filled):
                return RunForm(flow.form, flow.then or "")
            if flow.form or flow.intent not in NEUTRAL_INTENTS:
                return None
        return None


def _identifies_the_shopper(reading: Reading) -> bool:
    """Whether the message itself names the shopper's order, email, or zip code (an order it
    only refers back to, "can I cancel it?", does not count). A zip code is given to be
    identified by it, with a name the NLU need not have picked out ("c priya raman code postal
    97204"): the shop finds the name among the accounts of that zip code."""
    named = {e["entity"] for e in reading.entities if e.get("extractor") != CONTEXT_EXTRACTOR}
    return bool(named & {"order_id", "email", "zip_code"})


def _yes_or_no(reading: Reading) -> str | None:
    """ "yes" or "no" when the message answers a yes/no question, else None."""
    if reading.act == "affirm" or (reading.rule == "payload" and reading.intent.name == "affirm"):
        return "yes"
    if reading.act == "deny" or (reading.rule == "payload" and reading.intent.name == "deny"):
        return "no"
    return None


def _mapping_intent(reading: Reading) -> str:
    """The intent ``from_intent`` mappings see: a yes or no is the act's call, so an intent
    of affirm or deny that the act does not confirm ("no, to my PayPal" is a correction) is
    read as a plain detail."""
    answer = _yes_or_no(reading)
    if answer is not None:
        return "affirm" if answer == "yes" else "deny"
    return "inform" if reading.intent.name in ("affirm", "deny") else reading.intent.name


__all__ = [
    "Answer",
    "Decision",
    "Empathize",
    "Fallback",
    "Handoff",
    "OfferHandoff",
    "Policy",
    "Respond",
    "RunAction",
    "RunForm",
    "StopForm",
]
