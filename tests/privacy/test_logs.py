"""Log lines from a real turn carry no email, phone, card number or street address.

An action of the turn logs what the shopper wrote (as a careless shop's action might, as an
argument and as an ``extra`` field), and the turn fails once with the text in the exception;
the captured output of the real logging set-up must hold placeholders instead, in both formats.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.action_client import ActionResult
from bot.config import ROOT, Settings, load_settings
from bot.domain import TrackerView
from bot.observability.logs import configure_logging
from bot.observability.settings import LoggingConfig
from tests.hardening.conftest import SCRIPT, quick_app

REST = "/webhooks/rest/webhook"
SECRET_BITS = ("maya.lind@example.com", "+44 20 7946 0958", "4111 1111 1111 1111",
               "221B Baker Street", "7946", "4111")  # fmt: skip
MESSAGE = (
    "where is my order? I'm maya.lind@example.com, +44 20 7946 0958, card 4111 1111 1111 "
    "1111, 221B Baker Street"
)
log = logging.getLogger("shop.actions")


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


def careless(tracker: TrackerView, domain: Any) -> ActionResult:
    text = tracker.latest_message.get("text")
    log.info("shopper wrote %s", text, extra={"shopper_text": text})
    try:
        raise ValueError(f"could not read {text!r}")
    except ValueError:
        log.exception("lookup failed for order #W1234567")
    return ActionResult()


def settings() -> Settings:
    env = {"CONCIERGE__POLICY__ANSWER_MIN_SCORE": "0.1", "CONCIERGE__SERVER__API_TOKEN": "t"}
    return load_settings(ROOT / "config.yml", env=env)


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_a_turn_logs_no_personal_data(
    aiohttp_client: Any, restore_logging: None, log_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SCRIPT, MESSAGE, ("track_order", {}))
    stream = io.StringIO()
    configure_logging(LoggingConfig(format=log_format), stream=stream)
    app = quick_app(settings(), actions={"validate_order_status_form": careless})
    client = await aiohttp_client(app)
    answer = await client.post(REST, json={"sender": "maya", "message": MESSAGE})
    assert answer.status == 200
    output = stream.getvalue()
    assert "shopper wrote" in output
    assert "ValueError: could not read" in output
    for bit in SECRET_BITS:
        assert bit not in output
    for placeholder in ("[email]", "[phone]", "[card]", "[address]"):
        assert placeholder in output
    assert "#W1234567" in output  # order ids stay readable
    if log_format == "json":
        lines = [json.loads(line) for line in output.splitlines()]
        wrote = next(line for line in lines if line["message"].startswith("shopper wrote"))
        assert wrote["conversation_id"] == "maya"
        assert "[email]" in wrote["shopper_text"]
        failed = next(line for line in lines if line["message"].startswith("lookup failed"))
        assert "[card]" in failed["exception"]


async def test_redaction_can_be_turned_off(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(redact=False), stream=stream)
    log.warning("mail %s", "maya.lind@example.com")
    assert "maya.lind@example.com" in stream.getvalue()
