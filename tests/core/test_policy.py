"""The policy's rules on the real domain and flows, without I/O.

The policy reads a Reading (what was understood of the message) and the DialogueState; the
tests build both directly, so each rule is checked apart from the models that feed it.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import Dialogue
from bot.config import ROOT, load_settings
from bot.dialogue_state import DialogueState, Offer
from bot.domain import (
    ConversationId,
    Event,
    TrackerView,
    active_loop_event,
    slot_event,
    user_event,
)
from bot.errors import ConfigError
from bot.nlu.entities import CONTEXT_EXTRACTOR, make_entity
from bot.nlu.reading import DialogueAct, Feeling, IntentGuess, Reading, Reference
from bot.policy.decisions import (
    Answer,
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

CANCEL = RunForm("cancel_order_form", "action_cancel_order")
ORDER_STATUS = RunForm("order_status_form", "action_order_status")
RETURN = RunForm("return_form", "action_return_items")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Dialogue.from_settings(load_settings(ROOT / "config.yml", env={})).policy


def reading(
    intent: str,
    confidence: float = 0.95,
    text: str = "",
    *,
    act: DialogueAct = "request",
    acts: dict[DialogueAct, float] | None = None,
    feeling: Feeling = "calm",
    follow_up: bool = False,
    refers_to: Reference | None = None,
    rule: str | None = None,
    **entities: str,
) -> Reading:
    ranking = tuple(sorted((acts or {act: 0.9}).items(), key=lambda a: -a[1]))
    return Reading(
        text=text or intent,
        language="en",
        intent=IntentGuess(intent, confidence),
        ranking=(IntentGuess(intent, confidence),),
        entities=tuple(make_entity(k, v, 0, 0) for k, v in entities.items()),
        act=ranking[0][0],
        act_confidence=ranking[0][1],
        act_ranking=ranking,
        feeling=feeling,
        follow_up=follow_up,
        refers_to=refers_to,
        rule=rule,
    )


def tracker(*events: Event) -> TrackerView:
    return TrackerView.replay(ConversationId("t"), events)


def with_user(events: list[Event], r: Reading) -> TrackerView:
    return tracker(*events, user_event(r.text, r.to_rasa(), "rest"))


def decide(
    policy: Policy,
    r: Reading,
    events: list[Event] | None = None,
    state: DialogueState | None = None,
) -> list[object]:
    view = with_user(events or [], r)
    return list(policy.decide(r, state or DialogueState(), view, policy.slot_events(view, r)))


def form(name: str, requested: str) -> list[Event]:
    return [active_loop_event(name), slot_event("requested_slot", requested)]


def test_track_order_starts_the_order_status_form(policy: Policy) -> None:
    assert decide(policy, reading("track_order", text="where is my order?")) == [ORDER_STATUS]


def test_a_flow_without_a_form_runs_its_action(policy: Policy) -> None:
    r = reading("recommend_product", text="recommend me something")
    assert decide(policy, r) == [RunAction("action_recommend_products")]


def test_entities_fill_slots_through_mappings(policy: Policy) -> None:
    r = reading("track_order", email="a@b.co", order_id="#1234567")
    names = {e["name"]: e["value"] for e in policy.slot_events(with_user([], r), r)}
    assert names == {"email": "a@b.co", "order_id": "#1234567"}


def test_from_text_fills_the_requested_slot_only_for_answers(policy: Policy) -> None:
    in_form = form("order_status_form", "customer_name")
    answer = reading("inform", text="Emma Nguyen", act="inform")
    events = policy.slot_events(with_user(in_form, answer), answer)
    assert [(e["name"], e["value"]) for e in events] == [("customer_name", "Emma Nguyen")]
    question = reading("check_refund_policy", 0.93, text="what is your refund policy?",
                       act="question")  # fmt: skip
    assert policy.slot_events(with_user(in_form, question), question) == []


def test_digression_inside_a_form_answers_then_resumes(policy: Policy) -> None:
    r = reading("check_refund_policy", 0.9, text="how do refunds work?", act="question")
    decisions = decide(policy, r, form("order_status_form", "email"))
    assert isinstance(decisions[0], Answer)
    assert decisions[-1] == ORDER_STATUS


def test_another_flow_requested_inside_a_form_switches_forms(policy: Policy) -> None:
    r = reading("product_info", 0.9, text="tell me about the tent")
    assert decide(policy, r, form("order_status_form", "order_id")) == [
        StopForm(),
        RunForm("product_info_form", "action_product_info"),
    ]


def test_low_confidence_inside_a_form_stays_in_the_form(policy: Policy) -> None:
    r = reading("complaint", 0.4, act="inform")
    assert decide(policy, r, form("order_status_form", "order_id")) == [ORDER_STATUS]


def test_no_stops_the_form(policy: Policy) -> None:
    r = reading("deny", 0.95, text="never mind", act="deny")
    assert decide(policy, r, form("order_status_form", "email")) == [
        StopForm(),
        Respond("utter_form_stopped"),
    ]


def test_no_to_another_question_of_a_write_form_stops_it(policy: Policy) -> None:
    r = reading("deny", 0.95, text="no", act="deny")
    assert decide(policy, r, form("return_form", "item_ids")) == [
        StopForm(),
        Respond("utter_form_stopped"),
    ]


def confirmed(policy: Policy, r: Reading, flow: str = "return_form") -> object:
    view = with_user(form(flow, "confirmed"), r)
    values = [e["value"] for e in policy.slot_events(view, r) if e["name"] == "confirmed"]
    return values[0] if values else None


def test_at_a_confirmation_a_clear_yes_or_no_is_the_forms_answer(policy: Policy) -> None:
    yes = reading("affirm", text="yes go ahead", act="affirm")
    no = reading("deny", text="no, leave it", act="deny")
    assert confirmed(policy, yes) is True
    assert confirmed(policy, no) is False
    # Either way the form reads it: a no ends the flow with nothing changed.
    assert decide(policy, no, form("return_form", "confirmed")) == [RETURN]


def test_at_a_confirmation_an_unsure_yes_or_no_asks_again(policy: Policy) -> None:
    unsure = reading("affirm", text="hmm sure i guess?", acts={"affirm": 0.45, "inform": 0.4})
    assert confirmed(policy, unsure) is None
    assert decide(policy, unsure, form("return_form", "confirmed")) == [RETURN]


def test_at_a_confirmation_a_request_for_the_same_change_is_a_yes(policy: Policy) -> None:
    go = reading("deny", text="ok yes cancel it", acts={"request": 0.52, "affirm": 0.4})
    assert confirmed(policy, go, "cancel_order_form") is True


def test_at_a_confirmation_an_unsure_yes_naming_the_same_change_is_a_yes(policy: Policy) -> None:
    # "是的，取消吧" (yes, cancel it): the act head leans to yes without the bar, the intent model
    # reads the very change being confirmed; the same words at another flow's summary ask again.
    yes_cancel = reading("cancel_order", 0.56, acts={"affirm": 0.47, "inform": 0.3, "request": 0.1})
    assert confirmed(policy, yes_cancel, "cancel_order_form") is True
    assert confirmed(policy, yes_cancel, "return_form") is None


def test_at_a_confirmation_an_unplaced_request_is_no_yes(policy: Policy) -> None:
    # "oh wait sorry its apt 3B, 12 Willow Lane": the intent model cannot place it and the act
    # head reads a request; taken as a yes it changed the address to the uncorrected one.
    fix = reading(
        "out_of_scope", 0.4, acts={"request": 0.58, "affirm": 0.05, "correction": 0.3},
        rule="low_confidence",
    )  # fmt: skip
    assert confirmed(policy, fix, "change_address_form") is None
    # The same act reading of a message the intent model placed, starting no other flow, is.
    assert confirmed(policy, reading("affirm", acts={"request": 0.58, "affirm": 0.05})) is True


def test_at_a_confirmation_a_correction_goes_back_to_the_form(policy: Policy) -> None:
    """ "No, to my PayPal" changes a detail: the form reads it and asks again."""
    change = reading("deny", 0.9, text="no, refund it to my PayPal", act="correction")
    assert confirmed(policy, change) is None
    assert decide(policy, change, form("return_form", "confirmed")) == [RETURN]


def test_at_a_confirmation_a_question_is_answered_then_asked_again(policy: Policy) -> None:
    question = reading("out_of_scope", 0.4, text="do I get the shipping back?", act="question")
    decisions = decide(policy, question, form("return_form", "confirmed"))
    assert decisions == [
        Answer(question.text, "return_item", min_score=policy.config.unsure_answer_min_score),
        RETURN,
    ]
    assert confirmed(policy, question) is None


def test_handoff_intent_hands_off_even_inside_a_form(policy: Policy) -> None:
    r = reading("contact_human_agent")
    assert decide(policy, r) == [Handoff("asked")]
    assert decide(policy, r, [active_loop_event("list_orders_form")]) == [
        StopForm(),
        Handoff("asked"),
    ]


def test_yes_to_a_handoff_offer_hands_off(policy: Policy) -> None:
    r = reading("affirm", text="yes please", act="affirm")
    assert decide(policy, r, state=DialogueState(offer=Offer("handoff"))) == [
        Handoff("offer_accepted")
    ]


def test_bare_order_id_after_a_finished_flow_resumes_it(policy: Policy) -> None:
    earlier = reading("track_order", text="where is my order")
    history = [user_event("where is my order", earlier.to_rasa(), "rest")]
    r = reading("inform", text="#7654321", act="inform", order_id="#7654321")
    assert decide(policy, r, history) == [ORDER_STATUS]


def test_out_of_scope_answers_only_clearly_relevant_knowledge(policy: Policy) -> None:
    (decision,) = decide(
        policy, reading("out_of_scope", 0.3, text="tell me a joke", act="chitchat")
    )
    assert isinstance(decision, Answer)
    assert decision.min_score == policy.config.unsure_answer_min_score
    assert decision.min_score > policy.config.answer_min_score
    assert decide(policy, reading("inform", text="blue", act="inform")) == [Fallback()]


def test_complaint_is_answered_with_a_handoff_offer(policy: Policy) -> None:
    (decision,) = decide(policy, reading("complaint", text="the zip broke", act="inform"))
    assert isinstance(decision, Answer)
    assert decision.offer_handoff


def test_an_upset_message_is_acknowledged_handled_and_offered_a_person(policy: Policy) -> None:
    r = reading("track_order", text="third time I ask, WHERE is my parcel???", feeling="angry")
    assert decide(policy, r) == [Empathize(), OfferHandoff(), ORDER_STATUS]
    answer = reading("delivery_period", text="why is it taking so long??", act="question",
                     feeling="frustrated")  # fmt: skip
    decisions = decide(policy, answer)
    assert isinstance(decisions[0], Empathize)
    assert isinstance(decisions[1], Answer)
    assert decisions[-1] == OfferHandoff()


def test_upset_twice_in_a_row_hands_over(policy: Policy) -> None:
    r = reading("track_order", text="still nothing. useless.", feeling="angry")
    before = DialogueState(upset_in_a_row=1)
    assert decide(policy, r, state=before) == [Empathize(), Handoff("frustration")]
    assert decide(policy, r, form("order_status_form", "email"), before) == [
        Empathize(),
        StopForm(),
        Handoff("frustration"),
    ]


def test_from_intent_mapping_sets_its_value_only_where_its_conditions_hold(
    tmp_path: Path, policy: Policy
) -> None:
    path = tmp_path / "domain.yml"
    path.write_text(
        """
intents: [affirm, deny, cancel_order]
slots:
  picked:
    type: bool
    mappings:
      - type: from_intent
        intent: affirm
        value: true
        conditions:
          - active_loop: cancel_form
            requested_slot: picked
forms:
  cancel_form:
    required_slots: [picked]
""",
        encoding="utf-8",
    )
    domain = RasaDomain.load(path)
    custom = Policy(domain, policy.flows, policy.config, policy.handoff)
    asking = form("cancel_form", "picked")
    yes = reading("affirm", text="yes please", act="affirm")
    assert [(e["name"], e["value"]) for e in custom.slot_events(with_user(asking, yes), yes)] == [
        ("picked", True)
    ]
    assert custom.slot_events(with_user([], yes), yes) == []


def test_from_intent_mapping_needs_intent_and_value(tmp_path: Path) -> None:
    path = tmp_path / "domain.yml"
    path.write_text(
        "slots:\n  s:\n    type: bool\n    mappings:\n      - type: from_intent\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="from_intent"):
        RasaDomain.load(path)


def test_a_question_about_an_action_is_answered_and_otherwise_starts_it(policy: Policy) -> None:
    text = "can I cancel an order after it has shipped?"
    question = reading("cancel_order", 0.9, text=text, act="question")
    assert decide(policy, question) == [
        Answer(text, "cancel_order", otherwise=(CANCEL,), offer_action="utter_offer_cancel_order")
    ]
    request = reading("cancel_order", 0.6, text="I want to cancel my order")
    assert decide(policy, request) == [CANCEL]


def test_a_question_about_a_named_product_is_what_product_info_answers(policy: Policy) -> None:
    product = RunForm("product_info_form", "action_product_info")
    named = reading("product_info", text="is the Ultralight Tent 2P waterproof?", act="question",
                    product="Ultralight Tent 2P")  # fmt: skip
    assert decide(policy, named) == [product]
    # Without a product named and with an intent model unsure of it, the shop's pages answer
    # first (care, warranty, sizing); the product flow runs when they have nothing.
    general = reading("product_info", 0.6, text="is my backpack strap covered if it rips?",
                      act="question")  # fmt: skip
    assert decide(policy, general) == [Answer(general.text, "product_info", otherwise=(product,))]


def test_a_request_the_act_head_is_unsure_of_is_answered_first(policy: Policy) -> None:
    unsure = reading("cancel_order", text="the order is pending and I changed my mind",
                     acts={"request": 0.6, "question": 0.35, "inform": 0.05})  # fmt: skip
    assert decide(policy, unsure) == [
        Answer(unsure.text, "cancel_order", otherwise=(CANCEL,),
               offer_action="utter_offer_cancel_order")
    ]  # fmt: skip
    # ... unless it names the shopper's own order: then it is theirs to act on.
    own = reading("cancel_order", text="the order #1234567 is pending, I changed my mind",
                  acts={"request": 0.6, "question": 0.35}, order_id="#1234567")  # fmt: skip
    assert decide(policy, own) == [CANCEL]


def test_questions_about_actions_can_be_left_to_the_forms() -> None:
    settings = load_settings(
        ROOT / "config.yml",
        env={"CONCIERGE__POLICY__ANSWER_QUESTIONS_ABOUT_ACTIONS": "false"},
    )
    policy = Dialogue.from_settings(settings).policy
    question = reading("cancel_order", 0.9, text="can I cancel it once shipped?", act="question")
    assert decide(policy, question) == [CANCEL]


def test_a_follow_up_of_an_answer_stays_with_the_knowledge_base(policy: Policy) -> None:
    after = DialogueState(topic=("how do I send a return back?",), topic_kind="knowledge")
    shorthand = reading("out_of_scope", 0.4, text="and gift cards", act="question",
                        follow_up=True)  # fmt: skip
    assert [type(d) for d in decide(policy, shorthand, state=after)] == [Answer]


def test_a_question_read_as_yes_or_no_after_an_answer_is_answered(policy: Policy) -> None:
    after = DialogueState(topic=("how do I send a return back?",), topic_kind="knowledge")
    question = reading("deny", 0.55, text="is that free?", act="question")
    assert decide(policy, question, state=after) == [
        Answer("is that free?", "deny", min_score=policy.config.unsure_answer_min_score)
    ]
    assert decide(policy, question) == [Fallback()]
    no = reading("deny", 0.9, text="no", act="deny")
    assert decide(policy, no, state=after) == [Fallback()]


def test_a_question_about_the_product_just_shown_shows_it_again(policy: Policy) -> None:
    about = Reference("product", "Ultralight Tent 2P")
    weight = reading("out_of_scope", 0.4, text="what does it weigh?", act="question",
                     follow_up=True, refers_to=about, product="Ultralight Tent 2P")  # fmt: skip
    assert decide(policy, weight) == [RunForm("product_info_form", "action_product_info")]
    view = with_user([], weight)
    assert ("product", "Ultralight Tent 2P") in [
        (e["name"], e["value"]) for e in policy.slot_events(view, weight)
    ]


def test_a_question_about_the_order_just_shown_shows_it_again(policy: Policy) -> None:
    about = Reference("order", "#4977043")
    when = reading("delivery_period", text="and when does it get here?", act="question",
                   refers_to=about, order_id="#4977043")  # fmt: skip
    assert decide(policy, when) == [ORDER_STATUS]


def test_yes_to_an_offered_action_starts_it_and_no_closes_it(policy: Policy) -> None:
    offered = DialogueState(offer=Offer("action", "cancel_order"))
    yes = reading("affirm", 0.9, text="yes please", act="affirm")
    assert decide(policy, yes, state=offered) == [CANCEL]
    button = reading("cancel_order", 1.0, text="/cancel_order", rule="payload")
    assert decide(policy, button, state=offered) == [CANCEL]
    no = reading("deny", 1.0, text="/deny", act="deny", rule="payload")
    assert decide(policy, no, state=offered) == [Respond("utter_anything_else")]


def test_a_question_on_the_order_reports_own_topic_shows_the_order_again(policy: Policy) -> None:
    # "what's the tracking number?" after an order was shown: the order's report has it, the
    # pages on tracking do not.
    about = Reference("order", "#4977043")
    tracking = reading("track_order", text="whats the tracking number", act="question",
                       follow_up=True, refers_to=about)  # fmt: skip
    assert decide(policy, tracking) == [ORDER_STATUS]
    # With no order shown the same question is a question about tracking: the pages first.
    unshown = reading("track_order", text="whats the tracking number", act="question")
    assert [type(d) for d in decide(policy, unshown)] == [Answer]


def test_an_order_referred_back_to_is_no_sign_of_a_request(policy: Policy) -> None:
    about = Reference("order", "#8843158")
    hypothetical = reading(
        "cancel_order", text="and if it doesn't arrive in time can I cancel it?",
        acts={"request": 0.5, "question": 0.45}, refers_to=about,
    )  # fmt: skip
    referred = make_entity("order_id", "#8843158", 0, 0, extractor=CONTEXT_EXTRACTOR)
    hypothetical = replace(hypothetical, entities=(referred,))
    assert [type(d) for d in decide(policy, hypothetical)] == [Answer]


def test_details_for_an_offered_change_take_the_offer_up(policy: Policy) -> None:
    offered = DialogueState(offer=Offer("action", "return_item"))
    details = reading("get_refund", 0.45, text="paypal is fine for the refund",
                      act="correction")  # fmt: skip
    assert decide(policy, details, state=offered) == [RETURN]
    # A request of another flow with a form of its own starts that flow instead.
    other = reading("cancel_order", 0.6, text="no, cancel the other order", act="correction")
    assert decide(policy, other, state=offered) == [CANCEL]
    # Without an open offer the same details start nothing.
    assert RETURN not in decide(policy, details)


def test_recommendations_asked_for_or_about_the_shoppers_order_are_shown(policy: Policy) -> None:
    show = RunAction("action_recommend_products")
    unsure = 0.85  # below policy.show_min_confidence
    gift = reading("recommend_product", unsure, text="a gift for my sister who runs", act="inform")
    assert decide(policy, gift) == [show]
    about = Reference("order", "#8118715")
    goes = reading("recommend_product", unsure, text="what goes with my last order?",
                   act="question", refers_to=about)  # fmt: skip
    assert decide(policy, goes) == [show]
    # An unsure question about products in general asks the pages first.
    articles = reading("recommend_product", unsure, text="any write-ups comparing jackets?",
                       act="question")  # fmt: skip
    assert [type(d) for d in decide(policy, articles)] == [Answer]


def test_a_question_from_a_shopper_who_says_who_they_are_is_acted_on(policy: Policy) -> None:
    lists = RunForm("list_orders_form", "action_list_orders")
    named = reading("list_orders", text="Felix Wagner, zip 80301, which orders do I have?",
                    act="question", person="Felix Wagner", zip_code="80301")  # fmt: skip
    assert decide(policy, named) == [lists]
    # A zip code with a name the NLU did not pick out ("c priya raman code postal 97204"): the
    # shop finds the name among the accounts of that zip code.
    zip_only = reading("list_orders", text="c felix wagner code postal 80301, mes commandes ?",
                       act="question", zip_code="80301")  # fmt: skip
    assert decide(policy, zip_only) == [lists]
    # A name alone, or no identity, leaves the question to the pages first.
    name_only = reading("list_orders", text="I'm Felix, which orders do I have?",
                        act="question", person="Felix Wagner")  # fmt: skip
    assert [type(d) for d in decide(policy, name_only)] == [Answer]


def test_a_complaint_naming_an_order_shows_that_order(policy: Policy) -> None:
    # complaint is `shows_order` in data/flows.yml: "my order #1069673 never came" is about it.
    late = reading("complaint", text="my order #1069673 never came", order_id="#1069673")
    assert decide(policy, late) == [ORDER_STATUS]
    # Without an order the complaint is answered from the pages, with a person offered.
    (answer,) = decide(policy, reading("complaint", text="your service is slow"))
    assert isinstance(answer, Answer)
    assert answer.offer_handoff


def test_an_unsure_no_to_a_question_answered_in_words_goes_to_the_form(policy: Policy) -> None:
    # "不需要了" (don't need it any more) at "why cancel?" reads a little like a no: the form
    # reads the reason. A clear no still stops the flow.
    asking = form("cancel_order_form", "cancel_reason")
    cancel = RunForm("cancel_order_form", "action_cancel_order")
    unsure = reading("deny", 0.56, "不需要了", act="deny", acts={"deny": 0.53, "inform": 0.3})
    assert decide(policy, unsure, asking) == [cancel]
    clear = reading("deny", 0.95, "no, forget it", act="deny", acts={"deny": 0.95})
    assert decide(policy, clear, asking) == [StopForm(), Respond("utter_form_stopped")]
