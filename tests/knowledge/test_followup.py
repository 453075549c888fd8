"""Which messages follow up the question before, and how a conversation's topic is kept."""

from __future__ import annotations

import pytest

from bot.knowledge.followup import (
    TOPIC_MESSAGES,
    FollowUpContext,
    Topic,
    content_words,
    looks_like_follow_up,
)

FOLLOW_UPS = [
    "what about klarna?",
    "And to Canada?",
    "also for sale items",
    "or by email?",
    "how about boots?",
    "what if it's been 6 weeks?",
    "same for exchanges?",
    "how do I use it?",
    "how much is it?",
    "can I return it?",
    "does that apply to boots too?",
    "is that free as well?",
    "gift cards?",
    "express?",
    "and?",
]

SELF_CONTAINED = [
    "do you ship to Alaska?",
    "how long do I have to return a jacket?",
    "is it possible to pay with klarna at checkout?",
    "can I change the delivery address on my order?",
    "what is the weather like in Seattle today?",
    "my parcel arrived damaged, what do I do?",
    "where is my order #1234567",
    "",
    "   ",
]


@pytest.mark.parametrize("text", FOLLOW_UPS)
def test_shorthand_reads_as_a_follow_up(text: str) -> None:
    assert looks_like_follow_up(text)


@pytest.mark.parametrize("text", SELF_CONTAINED)
def test_a_question_with_its_own_topic_does_not(text: str) -> None:
    assert not looks_like_follow_up(text)


def test_content_words_drop_function_words_and_pointers() -> None:
    assert content_words("Does that apply to the boots too?") == ["apply", "boots"]
    assert content_words("how much is it?") == []


def test_the_next_message_is_searched_with_the_whole_topic() -> None:
    topic = Topic(("can I pay with paypal?",))
    assert topic.context_for("what about klarna?") == FollowUpContext(
        "can I pay with paypal?", elliptic=True
    )
    assert topic.context_for("do you ship to Alaska?") == FollowUpContext(
        "can I pay with paypal?", elliptic=False
    )
    assert Topic().context_for("what about klarna?") is None


def test_a_follow_up_extends_the_topic_and_a_new_question_replaces_it() -> None:
    topic = Topic(("can I pay with paypal?",))
    extended = topic.after("what about klarna?", topic.context_for("what about klarna?"))
    assert extended.messages == ("can I pay with paypal?", "what about klarna?")
    context = extended.context_for("how do I use it?")
    assert context is not None
    assert context.text == "can I pay with paypal? what about klarna?"
    switched = topic.after("do you ship to Alaska?", topic.context_for("do you ship to Alaska?"))
    assert switched.messages == ("do you ship to Alaska?",)
    assert Topic().after("hi?", None).messages == ("hi?",)


def test_a_topic_keeps_only_its_newest_messages() -> None:
    topic = Topic()
    for n in range(TOPIC_MESSAGES + 2):
        message = f"and number {n}?"
        topic = topic.after(message, topic.context_for(message))
    assert len(topic.messages) == TOPIC_MESSAGES
    assert topic.messages[-1] == f"and number {TOPIC_MESSAGES + 1}?"


def test_stored_topics_are_read_defensively() -> None:
    assert Topic.of(["a?", 3, "", "  ", "b?"]).messages == ("a?", "b?")  # type: ignore[list-item]
