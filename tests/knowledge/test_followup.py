"""How a conversation's topic is kept and what a follow-up is searched with.

Whether a message follows up is the reading's call (the follow-up head, scored on held-out
data in tests/nlu/test_reading_heads.py); these tests take it as given.
"""

from __future__ import annotations

from bot.knowledge.followup import TOPIC_MESSAGES, FollowUpContext, Topic


def test_the_next_message_is_searched_with_the_whole_topic() -> None:
    topic = Topic(("can I pay with paypal?",))
    assert topic.context(follow_up=True) == FollowUpContext("can I pay with paypal?", elliptic=True)
    assert topic.context(follow_up=False) == FollowUpContext(
        "can I pay with paypal?", elliptic=False
    )
    assert Topic().context(follow_up=True) is None


def test_a_follow_up_extends_the_topic_and_a_new_question_replaces_it() -> None:
    topic = Topic(("can I pay with paypal?",))
    extended = topic.after("what about klarna?", topic.context(follow_up=True))
    assert extended.messages == ("can I pay with paypal?", "what about klarna?")
    context = extended.context(follow_up=True)
    assert context is not None
    assert context.text == "can I pay with paypal? what about klarna?"
    switched = topic.after("do you ship to Alaska?", topic.context(follow_up=False))
    assert switched.messages == ("do you ship to Alaska?",)
    assert Topic().after("hi?", None).messages == ("hi?",)


def test_a_topic_keeps_only_its_newest_messages() -> None:
    topic = Topic()
    for n in range(TOPIC_MESSAGES + 2):
        message = f"and number {n}?"
        topic = topic.after(message, topic.context(follow_up=True))
    assert len(topic.messages) == TOPIC_MESSAGES
    assert topic.messages[-1] == f"and number {TOPIC_MESSAGES + 1}?"


def test_stored_topics_are_read_defensively() -> None:
    assert Topic.of(["a?", 3, "", "  ", "b?"]).messages == ("a?", "b?")  # type: ignore[list-item]
