"""The real bot fuzzed from its own OpenAPI description (bounded: a few hundred requests).

The bot is ``python -m bot run`` in its own process (real NLU, knowledge base and embedded
action server on a throw-away shop; benchmarks/fuzz.py describes the set-up). Any 5xx, any
request slower than 30 s, or any answer that breaks the description fails the test; the full
run (>= 10,000 requests) is ``python benchmarks/fuzz.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from benchmarks.fuzz import fuzz, running_bot, server_side_errors, unexpected_errors

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log_path = tmp_path_factory.mktemp("fuzz") / "bot.log"
    with running_bot(log_path) as url:
        yield url, log_path


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks/rest/webhook", b'{"sender":"x","message":"hello \\ud800 there"}'),
        ("/model/parse", b'{"text":"hello \\ud800 there"}'),
        ("/webhooks/stream/webhook", b'{"sender":"x","message":"hello \\udfff"}'),
        ("/webhooks/rest/webhook", b"[" * 5000 + b"]" * 5000),
        ("/model/parse", b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ],
)
def test_the_reported_inputs_are_400_on_the_real_bot(
    bot: tuple[str, Path], path: str, body: bytes
) -> None:
    url, _ = bot
    response = requests.post(url + path, data=body, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == 400


def test_the_real_bot_still_answers_real_text(bot: tuple[str, Path]) -> None:
    url, _ = bot
    response = requests.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": "fuzz-real", "message": "hello 👋 ça va? \u00e9\U0001f600"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json()[0]["recipient_id"] == "fuzz-real"


def test_every_operation_fuzzed_without_a_server_error(bot: tuple[str, Path]) -> None:
    url, log_path = bot
    report = fuzz(url, examples=10, hostile_examples=15, timeout_s=30, seed_value=20)
    totals = report["totals"]
    assert totals["requests"] >= 300
    assert len(report["operations"]) >= 23, "every described operation was fuzzed"
    problems = {
        label: {k: op[k] for k in ("5xx", "timeouts", "check_failures", "examples")}
        for label, op in report["operations"].items()
        if op["5xx"] or op["timeouts"] or op["check_failures"]
    }
    assert problems == {}
    assert server_side_errors(url) == 0
    assert unexpected_errors(log_path) == 0
    assert requests.get(f"{url}/health", timeout=10).status_code == 200
