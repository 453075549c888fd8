"""Asking about an action or asking for it: how the wording of a message tells them apart."""

from __future__ import annotations

import pytest

from bot.policy.asking import reads_as_question, reads_as_request

QUESTIONS = [
    "can I cancel an order after it has shipped?",
    "how long do I have to cancel?",
    "where do I take the box once I've printed the return label?",
    "is there a fee for exchanges?",
    "what happens to the rest of my gift card balance",
    "if my order costs less than my gift card, what happens to the rest?",
    "what if my parcel never arrives?",
    "hi, do you refund return shipping?",
    "can you tell me how exchanges work?",
    "I'd like to know how returns work",
    "I was wondering whether I can change the address after ordering",
    "and for sale items?",
    # "my order" inside a question about the rules does not make it a request
    "would swapping the colour on my order change the delivery date?",
    "is there a cap on how old my order history can be?",
    "will I get an email when my refund is issued, or do I watch my bank?",
    # only supposing a case
    "say my parcel has already left, can it still be stopped?",
    "once the carrier has my package, who handles a change of address",
    # the question comes after the context, without a question mark
    "after the warehouse checks a return, how fast does store credit appear",
    "would you ship to a PO box?",
    "can I change the address on my order once it has shipped?",
    "how long do refunds take, please?",
    # what the shop does in a case, not a wish: a condition and nothing of the shopper's
    "can you exchange hiking boots if they've been worn outside once?",
    "are you able to ship orders to a hotel?",
    "are you able to refund to another card, say if mine was closed?",
    "I was wondering how long a refund takes to reach a PayPal account",
    # a wish to be told is a question
    "are you able to tell me how returns work?",
    "any chance you could explain how exchanges work?",
    "would you mind telling me the return window?",
    "I was wondering if you could tell me the exchange fee",
]

REQUESTS = [
    "I want to cancel my order",
    "cancel order #5004592 please",
    "please return the boots",
    "can you cancel it for me?",
    "could you change the shipping address?",
    "where is my order?",
    "has my refund gone through?",
    "I need to change my payment method",
    "hey, I'd like to exchange the jacket",
    "return the tent from order 5004592?",
    "ok go ahead",
    # the ask comes last, after the context
    "the boots pinch at the toes, could you send a half size up instead?",
    "the card on that order is wrong, can you switch it to my visa?",
    # wishes in other clothes
    "are you able to cancel the stove I ordered an hour ago?",
    "are you able to send me a new return label?",
    "any chance you could look up where the tent is?",
    "I was wondering if you could check on the refund for my boots",
    "can you check if my refund has gone out yet?",
    # an order named by its number or by when it was placed
    "is it too late to stop 4829301?",
    "can I still change the size on this morning's order?",
    "what would go well with my last order?",
    "could I swap the size on my order?",
    # asking after the shopper's own order, parcel or refund
    "the tracking for my tent hasn't moved since tuesday, is it lost?",
    "could you tell me whether the stove I ordered has shipped?",
    "I sent the jacket back last week and nothing yet. has it arrived?",
]

NEITHER = ["", "   ", "the blue one", "thanks"]


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_question_about_the_rules_reads_as_a_question(text: str) -> None:
    assert reads_as_question(text)
    assert not reads_as_request(text)


@pytest.mark.parametrize("text", REQUESTS)
def test_a_request_to_act_reads_as_a_request(text: str) -> None:
    assert reads_as_request(text)
    assert not reads_as_question(text)


@pytest.mark.parametrize("text", NEITHER)
def test_a_bare_detail_is_neither(text: str) -> None:
    assert not reads_as_question(text)
