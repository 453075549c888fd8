"""The policy's rules on the real domain and flows, without I/O."""

from pathlib import Path
from typing import Any

import pytest

from bot.app import Dialogue
from bot.config import ROOT, load_settings
from bot.domain import (
    BotMessage,
    ConversationId,
    Event,
    TrackerView,
    active_loop_event,
    bot_event,
    slot_event,
    user_event,
)
from bot.errors import ConfigError
from bot.policy.decisions import (
    Answer,
    Fallback,
    Handoff,
    Respond,
    RunAction,
    RunForm,
    StopForm,
)
from bot.policy.policy import Policy
from bot.policy.rasa_domain import RasaDomain


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Dialogue.from_settings(load_settings(ROOT / "config.yml", env={})).policy


def parse(intent: str, confidence: float = 0.95, text: str = "", **entities: str) -> dict[str, Any]:
    return {
        "text": text or intent,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [{"entity": k, "value": v} for k, v in entities.items()],
    }


def tracker(*events: Event, slots: tuple[str, ...] = ()) -> TrackerView:
    return TrackerView.replay(ConversationId("t"), events, slots)


def with_user(events: list[Event], p: dict[str, Any]) -> TrackerView:
    return tracker(*events, user_event(str(p["text"]), p, "rest"))


def test_track_order_starts_the_order_status_form(policy: Policy) -> None:
    p = parse("track_order", text="where is my order?")
    assert policy.decide(with_user([], p), p) == [
        RunForm("order_status_form", "action_order_status")
    ]


def test_a_flow_without_a_form_runs_its_action(policy: Policy) -> None:
    p = parse("recommend_product", text="recommend me something")
    assert policy.decide(with_user([], p), p) == [RunAction("action_recommend_products")]


def test_entities_fill_slots_through_mappings(policy: Policy) -> None:
    p = parse("track_order", email="a@b.co", order_id="#1234567")
    names = {e["name"]: e["value"] for e in policy.slot_events(with_user([], p), p)}
    assert names == {"email": "a@b.co", "order_id": "#1234567"}


def test_from_text_fills_the_requested_slot_only_for_answers(policy: Policy) -> None:
    in_form = [
        active_loop_event("order_status_form"),
        slot_event("requested_slot", "customer_name"),
    ]
    answer = parse("inform", text="Emma Nguyen")
    events = policy.slot_events(with_user(in_form, answer), answer)
    assert [(e["name"], e["value"]) for e in events] == [("customer_name", "Emma Nguyen")]
    question = parse("check_refund_policy", 0.93, text="what is your refund policy?")
    assert policy.slot_events(with_user(in_form, question), question) == []


def test_digression_inside_a_form_answers_then_resumes(policy: Policy) -> None:
    in_form = [active_loop_event("order_status_form"), slot_event("requested_slot", "email")]
    p = parse("check_refund_policy", 0.9, text="how do refunds work?")
    decisions = policy.decide(with_user(in_form, p), p)
    assert isinstance(decisions[0], Answer)
    assert decisions[-1] == RunForm("order_status_form", "action_order_status")


def test_other_business_intent_switches_forms(policy: Policy) -> None:
    in_form = [active_loop_event("order_status_form"), slot_event("requested_slot", "order_id")]
    p = parse("product_info", 0.9)
    assert policy.decide(with_user(in_form, p), p) == [
        StopForm(),
        RunForm("product_info_form", "action_product_info"),
    ]


def test_low_confidence_inside_a_form_stays_in_the_form(policy: Policy) -> None:
    in_form = [active_loop_event("order_status_form"), slot_event("requested_slot", "order_id")]
    p = parse("complaint", 0.4)
    assert policy.decide(with_user(in_form, p), p) == [
        RunForm("order_status_form", "action_order_status")
    ]


def test_deny_stops_the_form(policy: Policy) -> None:
    in_form = [active_loop_event("order_status_form"), slot_event("requested_slot", "email")]
    p = parse("deny", 0.95, text="never mind")
    assert policy.decide(with_user(in_form, p), p) == [StopForm(), Respond("utter_form_stopped")]


def test_no_at_a_confirmation_is_the_forms_answer_not_a_stop(policy: Policy) -> None:
    """ "No, to my PayPal" may correct a detail; the form reads it and sets confirmed=false."""
    asking = [active_loop_event("return_form"), slot_event("requested_slot", "confirmed")]
    p = parse("deny", 0.95, text="no, refund it to my PayPal")
    view = with_user(asking, p)
    assert policy.decide(view, p) == [RunForm("return_form", "action_return_items")]
    events = policy.slot_events(view, p)
    assert [(e["name"], e["value"]) for e in events] == [("confirmed", False)]


def test_no_to_another_question_of_a_write_form_stops_it(policy: Policy) -> None:
    asking = [active_loop_event("return_form"), slot_event("requested_slot", "item_ids")]
    p = parse("deny", 0.95, text="no")
    assert policy.decide(with_user(asking, p), p) == [StopForm(), Respond("utter_form_stopped")]


def test_handoff_intent_hands_off_even_inside_a_form(policy: Policy) -> None:
    p = parse("contact_human_agent")
    assert policy.decide(with_user([], p), p) == [Handoff()]
    in_form = [active_loop_event("list_orders_form")]
    assert policy.decide(with_user(in_form, p), p) == [StopForm(), Handoff()]


def test_affirming_a_handoff_offer_hands_off(policy: Policy) -> None:
    offer = bot_event(BotMessage(text="want a person?"))
    offer["metadata"] = {"handoff_offer": True}
    p = parse("affirm", text="yes please")
    assert policy.decide(with_user([offer], p), p) == [Handoff()]


def test_bare_order_id_after_a_finished_flow_resumes_it(policy: Policy) -> None:
    earlier = parse("track_order", text="where is my order")
    history = [user_event("where is my order", earlier, "rest"), slot_event("customer_id", "u1")]
    p = parse("inform", text="#7654321", order_id="#7654321")
    view = with_user(history, p)
    filled = policy.slot_events(view, p)
    assert policy.decide(view, p, filled) == [RunForm("order_status_form", "action_order_status")]


def test_out_of_scope_answers_only_clearly_relevant_knowledge(policy: Policy) -> None:
    p = parse("out_of_scope", 0.3, text="tell me a joke")
    (decision,) = policy.decide(with_user([], p), p)
    assert isinstance(decision, Answer)
    assert decision.min_score == policy.config.unsure_answer_min_score
    assert decision.min_score > policy.config.answer_min_score
    bare = parse("inform", text="blue")
    assert policy.decide(with_user([], bare), bare) == [Fallback()]


def test_complaint_is_answered_with_a_handoff_offer(policy: Policy) -> None:
    p = parse("complaint", text="this is unacceptable")
    (decision,) = policy.decide(with_user([], p), p)
    assert isinstance(decision, Answer)
    assert decision.offer_handoff


def test_fallbacks_in_a_row_are_counted(policy: Policy) -> None:
    fallback = bot_event(BotMessage(text="sorry?"))
    fallback["metadata"] = {"fallback": True}
    ok = bot_event(BotMessage(text="answer"))
    assert policy.fallbacks_in_a_row(tracker(ok, fallback, fallback)) == 2
    assert policy.fallbacks_in_a_row(tracker(fallback, ok)) == 0


def test_from_intent_mapping_sets_its_value_only_where_its_conditions_hold(
    tmp_path: Path, policy: Policy
) -> None:
    path = tmp_path / "domain.yml"
    path.write_text(
        """
intents: [affirm, deny, cancel_order]
slots:
  confirmed:
    type: bool
    mappings:
      - type: from_intent
        intent: affirm
        value: true
        conditions:
          - active_loop: cancel_form
            requested_slot: confirmed
forms:
  cancel_form:
    required_slots: [confirmed]
""",
        encoding="utf-8",
    )
    domain = RasaDomain.load(path)
    custom = Policy(domain, policy.flows, policy.config, policy.handoff)
    asking = [active_loop_event("cancel_form"), slot_event("requested_slot", "confirmed")]
    yes = parse("affirm", text="yes please")
    assert [(e["name"], e["value"]) for e in custom.slot_events(with_user(asking, yes), yes)] == [
        ("confirmed", True)
    ]
    assert custom.slot_events(with_user([], yes), yes) == []


def test_from_intent_mapping_needs_intent_and_value(tmp_path: Path) -> None:
    path = tmp_path / "domain.yml"
    path.write_text(
        "slots:\n  s:\n    type: bool\n    mappings:\n      - type: from_intent\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="from_intent"):
        RasaDomain.load(path)


def answered(question: str) -> list[Event]:
    """A knowledge answer to ``question``, as the pipeline stores it (with its topic)."""
    answer = bot_event(BotMessage(text="Returns are free for exchanges."))
    answer["metadata"] = {"topic": [question]}
    return [user_event(question, parse("check_refund_policy", text=question), "rest"), answer]


def test_a_question_about_an_action_is_answered_and_otherwise_starts_it(policy: Policy) -> None:
    question = parse("cancel_order", 0.9, text="can I cancel an order after it has shipped?")
    form = RunForm("cancel_order_form", "action_cancel_order")

    assert policy.decide(with_user([], question), question) == [
        Answer(
            question["text"],
            "cancel_order",
            otherwise=(form,),
            offer_action="utter_offer_cancel_order",
        )
    ]
    request = parse("cancel_order", 0.6, text="I want to cancel my order")
    assert policy.decide(with_user([], request), request) == [form]


def test_questions_about_actions_can_be_left_to_the_forms() -> None:
    settings = load_settings(
        ROOT / "config.yml",
        env={"CONCIERGE__POLICY__ANSWER_QUESTIONS_ABOUT_ACTIONS": "false"},
    )
    policy = Dialogue.from_settings(settings).policy
    question = parse("cancel_order", 0.9, text="can I cancel an order after it has shipped?")

    assert policy.decide(with_user([], question), question) == [
        RunForm("cancel_order_form", "action_cancel_order")
    ]


def test_a_follow_up_of_an_answer_stays_with_the_knowledge_base(policy: Policy) -> None:
    earlier = answered("how do I send a return back?")
    shorthand = parse("recommend_product", 0.8, text="and gift cards")
    decided = policy.decide(with_user(earlier, shorthand), shorthand)
    assert [type(d) for d in decided] == [Answer]

    # Without the answer before it, the same words are a request for recommendations.
    assert [type(d) for d in policy.decide(with_user([], shorthand), shorthand)] == [RunAction]


def test_a_question_read_as_yes_or_no_after_an_answer_is_answered(policy: Policy) -> None:
    earlier = answered("how do I send a return back?")
    question = parse("deny", 0.55, text="is that free?")

    assert policy.decide(with_user(earlier, question), question) == [
        Answer("is that free?", "deny", min_score=policy.config.unsure_answer_min_score)
    ]
    assert policy.decide(with_user([], question), question) == [Fallback()]
    no = parse("deny", 0.9, text="no")
    assert policy.decide(with_user(earlier, no), no) == [Fallback()]


def offered(intent: str) -> list[Event]:
    question = "can I cancel an order after it has shipped?"
    offer = bot_event(BotMessage(text="Would you like me to cancel an order for you?"))
    offer["metadata"] = {"action_offer": intent}
    return [*answered(question), offer]


def test_yes_to_an_offered_action_starts_it_and_no_closes_it(policy: Policy) -> None:
    yes = parse("affirm", 0.9, text="yes please")
    assert policy.decide(with_user(offered("cancel_order"), yes), yes) == [
        RunForm("cancel_order_form", "action_cancel_order")
    ]
    button = parse("cancel_order", 1.0, text="/cancel_order")
    assert policy.decide(with_user(offered("cancel_order"), button), button) == [
        RunForm("cancel_order_form", "action_cancel_order")
    ]
    no = parse("deny", 1.0, text="/deny")
    assert policy.decide(with_user(offered("cancel_order"), no), no) == [
        Respond("utter_anything_else")
    ]
