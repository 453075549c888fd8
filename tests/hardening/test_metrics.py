"""GET /metrics: turn latency by channel, intents, handoffs by reason, model latency, queue
depth, action-server errors and HTTP answers, through the prometheus client library."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.domain import TrackerView
from bot.errors import ActionServerUnavailable
from bot.observability.metrics import OTHER, BoundedLabels, Metrics
from bot.observability.observers import TimedGenerator
from tests.channels.messaging.conftest import Bot, MakeBot
from tests.channels.messaging.payloads import telegram_text
from tests.generation.scripted import ScriptedGenerator

from .conftest import quick_app

REST = "/webhooks/rest/webhook"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    parsed = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            parsed[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return parsed


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def order_status_down(tracker: TrackerView, domain: Any) -> Any:
    raise ActionServerUnavailable("validate_order_status_form", "connection refused")


async def test_turns_intents_handoffs_actions_and_model_are_counted(
    client_for: Any, settings: Settings
) -> None:
    metrics = Metrics()
    generator = TimedGenerator(ScriptedGenerator("You have 30 days to return items."), metrics)
    app = quick_app(
        settings,
        metrics=metrics,
        generator=generator,
        actions={"validate_order_status_form": order_status_down},
    )
    client = await client_for(app)
    for sender, text in [
        ("m1", "hello"),
        ("m2", "hello"),
        ("m3", "how many days do I have to return items"),
        ("m4", "where is my order"),
        ("m5", "I want to talk to a person"),
    ]:
        response = await client.post(REST, json={"sender": sender, "message": text})
        assert response.status == 200, await response.text()
    await client.get("/no/such/page")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()

    count = "concierge_turn_seconds_count"
    assert value(text, count, channel="rest", outcome="ok") == 5
    assert (
        value(text, "concierge_turn_seconds_bucket", channel="rest", outcome="ok", le="+Inf") == 5
    )
    assert value(text, "concierge_intents_total", intent="greet") == 2
    assert value(text, "concierge_intents_total", intent="check_refund_policy") == 1
    assert value(text, "concierge_intents_total", intent="contact_human_agent") == 1
    assert value(text, "concierge_handoffs_total", reason="asked") == 1
    assert value(text, "concierge_generation_seconds_count", outcome="ok") == 1
    assert value(text, "concierge_generation_first_text_seconds_count") == 1
    assert (
        value(
            text,
            "concierge_action_server_errors_total",
            action="validate_order_status_form",
            kind="unavailable",
        )
        == 1
    )
    assert value(text, "concierge_action_seconds_count", action="validate_order_status_form") == 1
    rest_200 = {"method": "POST", "route": REST, "status": "200"}
    assert value(text, "concierge_http_responses_total", **rest_200) == 5
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(text, "concierge_http_responses_total", **unmatched) == 1
    assert value(text, "concierge_background_turns", state="pending") == 0


async def test_two_apps_never_share_counts(client_for: Any, settings: Settings) -> None:
    first = await client_for(quick_app(settings))
    second = await client_for(quick_app(settings))
    await first.post(REST, json={"sender": "a", "message": "hello"})
    text = await (await second.get("/metrics")).text()
    assert value(text, "concierge_intents_total", intent="greet") == 0


async def test_queue_depth_and_messaging_turns(make_bot: MakeBot) -> None:
    bot: Bot = await make_bot()
    bot.turns.delay_s = 0.5  # the turn is still queued when /metrics is read
    assert await bot.telegram_update(telegram_text(9001, 77, "hello")) == 200
    await asyncio.wait_for(bot.turns.started.wait(), 5)
    text = await (await bot.client.get("/metrics")).text()
    assert value(text, "concierge_background_turns", state="pending") == 1
    await bot.settle()
    text = await (await bot.client.get("/metrics")).text()
    assert value(text, "concierge_background_turns", state="pending") == 0
    assert value(text, "concierge_background_turns_finished_total", result="done") == 1
    assert value(text, "concierge_turn_seconds_count", channel="telegram", outcome="ok") == 1
    assert value(text, "concierge_outbound_calls_total", result="sent") >= 1


def test_label_values_from_outside_are_bounded() -> None:
    bounded = BoundedLabels(limit=3)
    assert [bounded(v) for v in ["a", "b", "a", "c", "d", "e", "b"]] == [
        "a",
        "b",
        "a",
        "c",
        OTHER,
        OTHER,
        "b",
    ]
    metrics = Metrics()
    metrics.count_turn_events(
        [{"event": "user", "parse_data": {"intent": {"name": f"/made_up_{i}"}}} for i in range(300)]
        + [{"event": "user", "parse_data": {"intent": {"name": None}}}, {"event": "slot"}]
    )
    names = {
        sample.labels["intent"]
        for family in metrics.registry.collect()
        if family.name == "concierge_intents"
        for sample in family.samples
        if sample.name == "concierge_intents_total"
    }
    assert len(names) == 201  # 200 distinct, then "other"
    assert OTHER in names
