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
