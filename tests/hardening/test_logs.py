"""Structured logs (logging.format: json|text) carrying the conversation id of the turn."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.action_client import ActionResult
from bot.config import Settings, load_settings
from bot.domain import TrackerView
from bot.errors import ConfigError
from bot.observability.logs import configure_logging
from bot.observability.settings import LoggingConfig

from .conftest import quick_app

REST = "/webhooks/rest/webhook"
log = logging.getLogger("tests.hardening.actions")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def identify(tracker: TrackerView, domain: Any) -> ActionResult:
    # Runs inside the turn: whatever it logs belongs to the turn's conversation.
    log.warning("looking the shopper up", extra={"action": "validate_order_status_form"})
    return ActionResult()


async def test_json_lines_carry_the_conversation_of_the_turn(
    client_for: Any, settings: Settings, restore_logging: None
) -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(format="json"), stream=stream)
    client = await client_for(quick_app(settings, actions={"validate_order_status_form": identify}))
    for sender in ("shopper-a", "shopper-b"):
        response = await client.post(REST, json={"sender": sender, "message": "where is my order"})
        assert response.status == 200
    log.info("outside any turn")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    looked_up = [line for line in lines if line["message"] == "looking the shopper up"]
    assert [line["conversation_id"] for line in looked_up] == ["shopper-a", "shopper-b"]
    first = looked_up[0]
    assert first["level"] == "WARNING"
    assert first["logger"] == "tests.hardening.actions"
    assert first["action"] == "validate_order_status_form"  # extra= fields are kept
    assert first["time"].endswith("+00:00")
    outside = next(line for line in lines if line["message"] == "outside any turn")
    assert "conversation_id" not in outside


def test_json_lines_hold_the_traceback_and_stay_one_line(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(format="json"), stream=stream)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        log.exception("it failed with %s", "text a client sent: \u2028\ud800")
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert "ValueError: bad" in entry["exception"]
    assert entry["message"].startswith("it failed with")
    assert line.isascii()


def test_text_lines_name_the_conversation(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(format="text", level="WARNING"), stream=stream)
    log.info("hidden below the level")
    log.warning("shown", extra={"conversation_id": "c-9"})
    text = stream.getvalue()
    assert "hidden" not in text
    assert " WARNING tests.hardening.actions [conversation c-9]: shown" in text


def test_configuring_twice_does_not_write_twice(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(format="json"), stream=io.StringIO())
    configure_logging(LoggingConfig(format="json"), stream=stream)
    log.warning("once")
    assert len(stream.getvalue().splitlines()) == 1


def test_format_and_level_come_from_config_and_are_checked() -> None:
    settings = load_settings(env={"CONCIERGE__LOGGING__FORMAT": "json"})
    assert settings.logging == LoggingConfig(format="json", level="INFO")
    with pytest.raises(ConfigError, match=r"logging\.format"):
        LoggingConfig(format="xml")
    with pytest.raises(ConfigError, match=r"logging\.level"):
        LoggingConfig(level="LOUD")
