"""End-to-end fixtures: the real app, a real rasa-sdk action server process, the real MiniLM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.composition import build_app
from bot.config import ROOT, Settings, load_settings
from bot.nlu.encoder import CachedEncoder, MiniLMEncoder
from bot.sessions.base import SessionStore

AppClient = Callable[..., Awaitable[TestClient[Any, Any]]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_action_server(database: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The real ``actions`` package on the shop ``database``, waited for until healthy.

    The server runs in a session of its own: Sanic starts a worker process, and
    :func:`stop_action_server` must stop both, or an orphaned worker keeps a core busy.
    """
    port = free_port()
    env = {
        **os.environ,
        "CONCIERGE_SHOP_DIR": str(ROOT / "data" / "shop"),
        "CONCIERGE_SHOP_DB": str(database),
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--quiet",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"action server died: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            if time.monotonic() > deadline:
                stop_action_server(process)
                raise
            time.sleep(0.2)


def stop_action_server(process: subprocess.Popen[bytes]) -> None:
    """Stops the server and its worker (its whole process group)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def action_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real `actions` package served by rasa-sdk in its own process."""
    # A fresh database: orders changed while chatting locally must not leak into tests.
    database = tmp_path_factory.mktemp("shop") / "shop.sqlite"
    log_path = tmp_path_factory.mktemp("action-server") / "stderr.log"
    process, url = start_action_server(database, log_path)
    try:
        yield url
    finally:
        stop_action_server(process)


@pytest.fixture(scope="session")
def minilm() -> CachedEncoder:
    """One MiniLM for the session; the cache spares re-embedding the knowledge base per test."""
    encoder = MiniLMEncoder()
    encoder.load()
    return CachedEncoder(encoder)


@pytest.fixture
def settings(action_server_url: str) -> Settings:
    base = load_settings(ROOT / "config.yml", env={})
    return replace(
        base,
        action_server=replace(base.action_server, url=action_server_url, embedded=False),
        server=replace(base.server, api_token="secret-token"),
    )


@pytest.fixture
def make_client(aiohttp_client: Any, minilm: CachedEncoder, settings: Settings) -> AppClient:
    async def make(
        settings: Settings = settings, *, store: SessionStore | None = None
    ) -> TestClient[Any, Any]:
        app = build_app(settings, encoder=minilm, store=store)
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return make


@pytest.fixture(scope="session")
def shop() -> dict[str, Any]:
    folder = ROOT / "data" / "shop"
    return {
        name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("users", "orders", "products")
    }


async def say(client: TestClient[Any, Any], sender: str, message: str) -> list[dict[str, Any]]:
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": message}
    )
    assert response.status == 200, await response.text()
    replies: list[dict[str, Any]] = await response.json()
    for reply in replies:
        assert reply["recipient_id"] == sender
    return replies


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


async def reply_after_upset(
    client: TestClient[Any, Any], sender: str, upset: str, message: str
) -> str:
    """The reply to ``message`` sent right after ``upset``, which must be acknowledged."""
    first = texts(await say(client, sender, upset))
    assert "sorry" in first.lower(), first
    return texts(await say(client, sender, message))
