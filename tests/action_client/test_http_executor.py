"""HttpActionExecutor against a scripted aiohttp action server on port 0."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from bot.action_client import ActionResult, HttpActionExecutor
from bot.domain import TrackerView
from bot.errors import ActionNotFound, ActionRejected, ActionServerUnavailable, ConfigError
from bot.retry import Backoff

from .conftest import ATTEMPTS
from .scripted_server import Answer, ScriptedActionServer, result_body

SLOT_EVENT = {"event": "slot", "timestamp": None, "name": "order_id", "value": "1234"}
TEXT_RESPONSE = {"text": "Order 1234 ships tomorrow.", "buttons": [], "custom": {}}


async def run_once(
    url: str, backoff: Backoff, tracker: TrackerView, domain: dict[str, Any], **kwargs: Any
) -> ActionResult:
    executor = HttpActionExecutor(url, backoff=backoff, **kwargs)
    try:
        return await executor.run("action_order_status", tracker, domain)
    finally:
        await executor.aclose()


async def test_success_maps_events_and_responses(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    action_server.answers = [Answer(200, result_body([SLOT_EVENT], [TEXT_RESPONSE]))]

    result = await run_once(action_server.url, backoff, tracker, domain)

    assert result == ActionResult(events=(SLOT_EVENT,), responses=(TEXT_RESPONSE,))


async def test_request_carries_the_rasa_sdk_action_call(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    import rasa_sdk

    action_server.answers = [Answer()]

    await run_once(action_server.url, backoff, tracker, domain)

    (call,) = action_server.requests
    assert call["next_action"] == "action_order_status"
    assert call["sender_id"] == "shopper-1"
    assert call["domain"] == domain
    assert call["version"] == rasa_sdk.__version__
    assert call["tracker"] == json.loads(json.dumps(tracker.to_rasa_state()))
    assert call["tracker"]["slots"]["email"] == "ann@example.com"
    assert call["tracker"]["latest_message"]["intent"]["name"] == "track_order"


@pytest.mark.parametrize("suffix", ["/", "/webhook", "/webhook/"])
async def test_url_accepted_with_or_without_webhook(
    action_server: ScriptedActionServer,
    backoff: Backoff,
    tracker: TrackerView,
    domain: Any,
    suffix: str,
) -> None:
    action_server.answers = [Answer()]

    await run_once(action_server.url + suffix, backoff, tracker, domain)

    assert len(action_server.requests) == 1


async def test_400_is_a_rejection_with_the_servers_text_and_not_retried(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    body = json.dumps({"error": "no order number given", "action_name": "action_order_status"})
    action_server.answers = [Answer(400, body)]

    with pytest.raises(ActionRejected, match="no order number given") as caught:
        await run_once(action_server.url, backoff, tracker, domain)

    assert caught.value.action_name == "action_order_status"
    assert len(action_server.requests) == 1


async def test_404_is_not_found_and_not_retried(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    body = json.dumps({"error": "No registered action found for name 'action_order_status'."})
    action_server.answers = [Answer(404, body)]

    with pytest.raises(ActionNotFound, match="No registered action"):
        await run_once(action_server.url, backoff, tracker, domain)

    assert len(action_server.requests) == 1


async def test_449_is_answered_by_resending_with_the_domain(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    action_server.answers = [
        Answer(449, '{"error": "domain missing"}'),
        Answer(200, result_body([SLOT_EVENT], [])),
    ]

    result = await run_once(action_server.url, backoff, tracker, domain)

    assert result.events == (SLOT_EVENT,)
    assert [call["domain"] for call in action_server.requests] == [domain, domain]


async def test_449_twice_is_an_error(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    action_server.answers = [Answer(449, '{"error": "domain missing"}')]

    with pytest.raises(ActionServerUnavailable, match="449"):
        await run_once(action_server.url, backoff, tracker, domain)

    assert len(action_server.requests) == 2


async def test_5xx_is_retried_until_it_succeeds(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    action_server.answers = [
        Answer(500, '{"error": "boom"}'),
        Answer(503, "busy"),
        Answer(200, result_body([], [TEXT_RESPONSE])),
    ]

    result = await run_once(action_server.url, backoff, tracker, domain)

    assert result.responses == (TEXT_RESPONSE,)
    assert len(action_server.requests) == 3


async def test_persistent_5xx_gives_up_after_the_backoffs_attempts(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    action_server.answers = [Answer(500, '{"error": "KeyError: order"}')]

    with pytest.raises(ActionServerUnavailable, match=r"HTTP 500.*KeyError: order"):
        await run_once(action_server.url, backoff, tracker, domain)

    assert len(action_server.requests) == ATTEMPTS


async def test_retries_wait_between_attempts(
    action_server: ScriptedActionServer, tracker: TrackerView, domain: Any
) -> None:
    backoff = Backoff(attempts=3, base_s=0.1, factor=2.0, cap_s=1.0, jitter=0.0)
    action_server.answers = [Answer(500, "{}")]

    started = time.perf_counter()
    with pytest.raises(ActionServerUnavailable):
        await run_once(action_server.url, backoff, tracker, domain)

    # Without jitter the two waits are 0.1 s and 0.2 s.
    assert time.perf_counter() - started >= 0.3


async def test_slow_server_times_out_and_is_retried(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    action_server.answers = [Answer(200, result_body([], []), delay_s=2.0)]

    started = time.perf_counter()
    with pytest.raises(ActionServerUnavailable, match=r"no answer within 0\.2s") as caught:
        await run_once(action_server.url, backoff, tracker, domain, timeout_s=0.2)

    assert time.perf_counter() - started < 2.0
    assert len(action_server.requests) == ATTEMPTS
    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_connection_refused_is_unavailable(
    refused_url: str, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    with pytest.raises(ActionServerUnavailable, match=f"{ATTEMPTS} attempts") as caught:
        await run_once(refused_url, backoff, tracker, domain)

    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html>Bad Gateway</html>", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"events": {"event": "slot"}, "responses": []}', "'events'"),
        ('{"events": [{"name": "x"}], "responses": []}', "'events'"),
        ('{"events": [], "responses": ["hi"]}', "'responses'"),
    ],
)
async def test_malformed_answer_is_unavailable_with_context(
    action_server: ScriptedActionServer,
    backoff: Backoff,
    tracker: TrackerView,
    domain: Any,
    body: str,
    problem: str,
) -> None:
    action_server.answers = [Answer(200, body)]

    with pytest.raises(ActionServerUnavailable, match=problem) as caught:
        await run_once(action_server.url, backoff, tracker, domain)

    assert "action_order_status" in str(caught.value)
    assert len(action_server.requests) == 1


async def test_health(
    action_server: ScriptedActionServer, refused_url: str, backoff: Backoff
) -> None:
    up = HttpActionExecutor(action_server.url, backoff=backoff)
    down = HttpActionExecutor(refused_url, backoff=backoff)
    try:
        assert await up.health() is True
        assert await down.health() is False
    finally:
        await up.aclose()
        await down.aclose()


async def test_session_is_created_lazily_and_owned_one_closed(
    action_server: ScriptedActionServer, backoff: Backoff
) -> None:
    executor = HttpActionExecutor(action_server.url, backoff=backoff)
    assert executor._session is None
    assert await executor.health()
    session = executor._session
    assert session is not None

    await executor.aclose()
    await executor.aclose()

    assert session.closed


async def test_session_passed_in_is_left_open(
    action_server: ScriptedActionServer, backoff: Backoff, tracker: TrackerView, domain: Any
) -> None:
    action_server.answers = [Answer()]
    async with aiohttp.ClientSession() as session:
        await run_once(action_server.url, backoff, tracker, domain, session=session)
        assert not session.closed


@pytest.mark.parametrize("url", ["localhost:5055", "ftp://actions:5055", "http://"])
def test_bad_url_is_a_config_error(url: str, backoff: Backoff) -> None:
    with pytest.raises(ConfigError, match=r"action_server\.url"):
        HttpActionExecutor(url, backoff=backoff)


def test_non_positive_timeout_is_a_config_error(backoff: Backoff) -> None:
    with pytest.raises(ConfigError, match=r"action_server\.timeout_s"):
        HttpActionExecutor("http://localhost:5055", backoff=backoff, timeout_s=0)
