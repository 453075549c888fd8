"""InMemoryActionExecutor, the fake that pipeline unit tests use instead of a server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.action_client import ActionResult, InMemoryActionExecutor
from bot.domain import TrackerView, slot_event
from bot.errors import ActionNotFound, ActionRejected


def echo_email(tracker: TrackerView, domain: Mapping[str, Any]) -> ActionResult:
    return ActionResult(responses=({"text": f"email={tracker.slots['email']}"},))


async def count_intents(tracker: TrackerView, domain: Mapping[str, Any]) -> ActionResult:
    return ActionResult(events=(slot_event("intents", len(domain["intents"])),))


def refuse(tracker: TrackerView, domain: Mapping[str, Any]) -> ActionResult:
    raise ActionRejected("action_refuse", "no order number given")


async def test_runs_sync_and_async_handlers_and_records_calls(
    tracker: TrackerView, domain: dict[str, Any]
) -> None:
    executor = InMemoryActionExecutor({"action_echo": echo_email, "action_count": count_intents})

    echoed = await executor.run("action_echo", tracker, domain)
    counted = await executor.run("action_count", tracker, domain)

    assert echoed.responses == ({"text": "email=ann@example.com"},)
    assert counted.events[0]["value"] == 1
    assert executor.calls == ["action_echo", "action_count"]
    assert await executor.health()


async def test_unknown_action_and_rejection(tracker: TrackerView, domain: dict[str, Any]) -> None:
    executor = InMemoryActionExecutor({"action_refuse": refuse})

    with pytest.raises(ActionNotFound):
        await executor.run("action_missing", tracker, domain)
    with pytest.raises(ActionRejected, match="no order number"):
        await executor.run("action_refuse", tracker, domain)
