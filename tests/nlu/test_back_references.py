"""What a message refers back to, from the dialogue state (bot/nlu/understand.py), without
the models: the readings are built by hand."""

from __future__ import annotations

from dataclasses import replace

from bot.dialogue_state import DialogueState, Offer
from bot.nlu.entities import make_entity
from bot.nlu.reading import DialogueAct, IntentGuess, Reading, Reference
from bot.nlu.understand import _back_reference


def reading(intent: str, act: DialogueAct, *, rule: str | None = None, **entities: str) -> Reading:
    return Reading(
        text="…",
        language="en",
        intent=IntentGuess(intent, 0.9),
        ranking=(IntentGuess(intent, 0.9),),
        entities=tuple(make_entity(k, v, 0, 1) for k, v in entities.items()),
        act=act,
        rule=rule,
    )


AFTER_REPORT = DialogueState(last_order="#8843158", topic=("where is it?",), topic_kind="order")
AFTER_PRODUCT = DialogueState(last_product="Trail Runner Shoe", topic_kind="product")


def test_a_question_the_intent_model_cannot_place_after_an_order_report_is_about_it() -> None:
    carrier = reading("out_of_scope", "question", rule="low_confidence")
    assert _back_reference(carrier, AFTER_REPORT) == Reference("order", "#8843158")
    # A placed question on another topic is not.
    returns = reading("check_refund_policy", "question")
    assert _back_reference(returns, AFTER_REPORT) is None
    # "can you switch the payment on that one to paypal", read as a correction.
    switch = reading("change_payment_method", "correction")
    assert _back_reference(switch, AFTER_REPORT) == Reference("order", "#8843158")


def test_an_unplaced_follow_up_of_an_order_report_is_about_it_whatever_its_act() -> None:
    # "und die Sendungsnummer bitte" reads as a yes as often as a request.
    tracking = replace(reading("out_of_scope", "affirm", rule="low_confidence"), follow_up=True)
    assert _back_reference(tracking, AFTER_REPORT) == Reference("order", "#8843158")
    # Not a follow-up of the report, or a no: nothing is referred to.
    assert _back_reference(replace(tracking, follow_up=False), AFTER_REPORT) is None
    assert _back_reference(replace(tracking, act="deny"), AFTER_REPORT) is None


def test_a_colour_with_no_product_named_asks_about_the_product_shown() -> None:
    black = reading("out_of_scope", "question", rule="low_confidence", product_option="black")
    assert _back_reference(black, AFTER_PRODUCT) == Reference("product", "Trail Runner Shoe")
    named = reading("product_info", "question", product="Rain Shell Jacket", product_option="red")
    assert _back_reference(named, AFTER_PRODUCT) is None
    # "and how much is the black one" is read as a correction as often as a question.
    corrected = reading("out_of_scope", "correction", rule="low_confidence", product_option="black")
    assert _back_reference(corrected, AFTER_PRODUCT) == Reference("product", "Trail Runner Shoe")
    # A correction about nothing of the product ("no, the other order") is not about it.
    assert _back_reference(reading("track_order", "correction"), AFTER_PRODUCT) is None


def test_details_answering_an_offered_change_are_about_the_order_it_was_offered_for() -> None:
    offered = DialogueState(last_order="#5004592", offer=Offer("action", "return_item"))
    details = reading("get_refund", "correction")
    assert _back_reference(details, offered) == Reference("order", "#5004592")
    assert _back_reference(details, DialogueState(last_order="#5004592")) is None
