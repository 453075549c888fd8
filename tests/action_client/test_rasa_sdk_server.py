"""The rasa-sdk protocol, one contract for both adapters that speak it.

``HttpActionExecutor`` against a real ``python -m rasa_sdk`` process, and
``InProcessActionExecutor`` running the same fixture actions through rasa-sdk in this process,
must give the same results and the same errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.action_client import ActionExecutor, HttpActionExecutor
from bot.action_inprocess import InProcessActionExecutor
from bot.domain import TrackerView
from bot.errors import ActionNotFound, ActionRejected
from bot.retry import Backoff

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def rasa_sdk_server(tmp_path: Path, backoff: Backoff) -> AsyncIterator[HttpActionExecutor]:
    """A ``python -m rasa_sdk`` process serving the fixture actions, stopped on exit."""
    port = free_port()
    log_path = tmp_path / "action_server.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SANIC_HOST": "127.0.0.1"}
    with log_path.open("wb") as log:
        # A new session puts the server and the worker process Sanic starts in one process
        # group, so teardown stops both.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "rasa_sdk",
            "--actions",
            "tests.action_client.fixture_actions",
            "--port",
            str(port),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    executor = HttpActionExecutor(f"http://127.0.0.1:{port}", backoff=backoff, timeout_s=5)
    try:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while not await executor.health():
            if process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"action server did not start:\n{log_path.read_text()}")
            await asyncio.sleep(0.2)
        yield executor
    finally:
        await executor.aclose()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


@pytest.fixture(params=["http", "in_process"])
async def executor(
    request: pytest.FixtureRequest, tmp_path: Path, backoff: Backoff
) -> AsyncIterator[ActionExecutor]:
    if request.param == "in_process":
        yield InProcessActionExecutor("tests.action_client.fixture_actions")
        return
    async with rasa_sdk_server(tmp_path, backoff) as server:
        yield server


async def test_real_action_server_round_trip(
    executor: ActionExecutor, tracker: TrackerView
) -> None:
    domain: dict[str, Any] = yaml.safe_load((ROOT / "data" / "domain.yml").read_text())
    assert await executor.health()

    result = await executor.run("action_echo_slot", tracker, domain)

    assert [(e["event"], e["name"], e["value"]) for e in result.events] == [
        ("slot", "echoed", "ann@example.com")
    ]
    (response,) = result.responses
    assert response["text"] == "email=ann@example.com"
    assert response["custom"] == {"intents": len(domain["intents"])}

    with pytest.raises(ActionRejected, match="no order number given"):
        await executor.run("action_refuse", tracker, domain)
    with pytest.raises(ActionNotFound, match="action_does_not_exist"):
        await executor.run("action_does_not_exist", tracker, domain)
