"""bot/deliveries.py: a retried message is found by its id in the stored user events."""

from __future__ import annotations

from bot.deliveries import stored_replies
from bot.domain import BotMessage, Button, action_event, bot_event, user_event


def test_the_replies_are_the_bot_events_up_to_the_next_user_message() -> None:
    card = BotMessage(
        text="Here it is",
        buttons=(Button("Tell me more", '/product_info{"product": "p1"}'),),
        custom={"product_cards": [{"id": "p1"}]},
    )
    events = [
        user_event("hi", {}, "rest", message_id="m-1"),
        bot_event(BotMessage(text="Hello!")),
        action_event("action_listen"),
        user_event("show me boots", {}, "rest", message_id="m-2"),
        bot_event(card),
        bot_event(BotMessage(image="https://shop.example/boot.png")),
        action_event("action_listen"),
        user_event("thanks", {}, "rest"),
        bot_event(BotMessage(text="You're welcome")),
    ]
    assert stored_replies(events, "m-1") == [BotMessage(text="Hello!")]
    assert stored_replies(events, "m-2") == [
        card,
        BotMessage(image="https://shop.example/boot.png"),
    ]


def test_an_id_that_was_never_stored_is_none_and_a_reply_less_turn_is_empty() -> None:
    events = [user_event("hi", {}, "rest", message_id="m-1"), action_event("action_listen")]
    assert stored_replies(events, "m-1") == []
    assert stored_replies(events, "m-9") is None
    assert stored_replies([], "m-1") is None
