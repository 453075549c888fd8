"""The widget channel's parts on their own: origin rules, token buckets, event frames."""

from __future__ import annotations

import pytest

from bot.channels.origins import OriginPolicy
from bot.channels.ratelimit import ConnectionCounter, KeyedBuckets, TokenBucket
from bot.channels.webchat_events import Agent, agent_event, csat_event, feedback_event
from bot.channels.webchat_frames import event_frame, normalise_locale
from bot.channels.webchat_session import csat_pending
from bot.errors import ConfigError

BOT = "https://bot.shop.example"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser: nothing to protect
        (BOT, True),
        ("https://BOT.shop.example:443", True),
        ("http://bot.shop.example", False),  # another scheme is another origin
        ("http://localhost:5173", True),
        ("http://localhost", True),
        ("https://localhost:5173", False),
        ("https://www.shop.example", True),
        ("https://shop.example.evil.com", False),
        ("https://evil.com", False),
        ("null", False),
        ("not a url", False),
    ],
)
def test_origin_rules(origin: str | None, allowed: bool) -> None:
    policy = OriginPolicy(["self", "http://localhost:*", "https://*.shop.example"])
    assert policy.allows(origin, BOT) is allowed


def test_a_bad_origin_pattern_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="allowed_origins"):
        OriginPolicy(["shop.example"])
    with pytest.raises(ConfigError):
        OriginPolicy(["https://shop.example:port"])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=0.5, capacity=3, clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(2.0)
    clock.now = 2.0
    assert bucket.take() == 0.0
    assert bucket.take() > 0
    clock.now = 100.0
    assert bucket.full  # never more than its capacity


def test_keyed_buckets_forget_full_ones_only() -> None:
    clock = Clock()
    buckets = KeyedBuckets(1.0, 2, clock=clock, prune_above=3)
    for key in "abca":
        buckets.take(key)
    clock.now = 1.0  # b and c are full again, a has one token of two
    buckets.take("d")
    assert len(buckets) == 2
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0  # a was kept, with what it had spent


def test_connection_counter() -> None:
    counter = ConnectionCounter(limit=2)
    assert counter.acquire("ip")
    assert counter.acquire("ip")
    assert not counter.acquire("ip")
    counter.release("ip")
    assert counter.acquire("ip")
    assert counter.count("other") == 0


def test_every_shown_event_becomes_a_frame_with_its_index() -> None:
    maya = Agent("a-1", "Maya")
    cards = {
        "type": "product_cards",
        "intro": "Here are a few ideas:",
        "note": None,
        "cards": [
            {"product_id": "123", "title": "Tent", "subtitle": "from $9.00",
             "reason": "Made for camping", "image_url": None,
             "buttons": [{"title": "Tell me more", "payload": "/product_info"}]},
            {"product_id": "../x", "title": "Odd", "image_url": "javascript:alert(1)"},
            {"title": ""},
        ],
    }  # fmt: skip
    bot = {"event": "bot", "text": "• Tent, from $9.00", "data": {"custom": cards}}
    frame = event_frame(7, bot)
    assert frame is not None
    assert frame["text"] == "Here are a few ideas:"  # the intro, not the text-only list
    first, odd = frame["cards"]
    assert first["image"] == "/widget/art/123.svg"
    assert first["price"] == "from $9.00"
    assert odd["image"] is None  # neither a script URL nor a path outside the bot
    assert event_frame(3, {"event": "slot", "name": "x", "value": 1}) is None
    assert event_frame(4, {"event": "action", "name": "action_listen"}) is None
    assert event_frame(5, agent_event("agent_message", maya, "On it")) == {
        "type": "agent_message", "event": 5, "agent": {"name": "Maya"}, "text": "On it"
    }  # fmt: skip
    assert event_frame(6, feedback_event(5, "down"))["value"] == "down"  # type: ignore[index]
    user = {"event": "user", "text": "/inform{}", "metadata": {"display_text": "#1234567"}}
    assert event_frame(8, user) == {"type": "user", "event": 8, "text": "#1234567"}


def test_orders_keep_only_their_text_fields() -> None:
    order = {"order_id": "#1", "status": "delivered", "status_label": "delivered", "total": "$5.00",
             "summary": "Mug", "payload": "/inform", "placed_on": None, "secret": "x"}  # fmt: skip
    custom = {"type": "order_list", "intro": "Which one?", "orders": [order, {"total": "$1"}]}
    frame = event_frame(1, {"event": "bot", "text": "list", "data": {"custom": custom}})
    assert frame is not None
    assert frame["orders"] == [{k: v for k, v in order.items() if k not in ("secret", "placed_on")}]


def test_agent_and_rating_events_are_checked() -> None:
    maya = Agent("a-1", "Maya")
    with pytest.raises(ValueError, match="need"):
        agent_event("agent_message", maya)
    with pytest.raises(ValueError, match="take no"):
        agent_event("agent_joined", maya, "hi")
    with pytest.raises(ValueError, match="1 to 5"):
        csat_event(0)
    with pytest.raises(ValueError, match="event index"):
        feedback_event(-1, "up")
    assert "comment" not in csat_event(3, "   ")


def test_the_closing_question_follows_a_goodbye_until_answered() -> None:
    goodbye = [{"event": "user"}, {"event": "action", "name": "utter_goodbye"}, {"event": "bot"}]
    assert csat_pending(goodbye, ["utter_goodbye"])
    assert not csat_pending([*goodbye, {"event": "csat", "score": 5}], ["utter_goodbye"])
    assert not csat_pending([*goodbye, {"event": "user"}], ["utter_goodbye"])
    assert csat_pending([{"event": "bot"}], ["utter_goodbye"], pending=True)


@pytest.mark.parametrize(
    ("given", "locale"),
    [("de-AT", "de"), ("zh_CN", "zh"), ("FR", "fr"), ("pt-BR", "en"), (None, "en"), (3, "en")],
)
def test_locales(given: object, locale: str) -> None:
    assert normalise_locale(given) == locale
