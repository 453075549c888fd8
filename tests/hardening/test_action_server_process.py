"""The bot owns the action server it starts (bot/action_server_process.py, bot/ports.py).

Every test holds the port with a real process: a stand-in for a stale action server left
running for another shop, which answers /health exactly as rasa-sdk does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from bot import ports
from bot.action_server_process import ActionServerProcess, EmbeddedActionServer
from bot.appkeys import EMBEDDED_ACTIONS
from bot.config import ROOT, Settings
from bot.errors import ConfigError

from .conftest import quick_app

STALE_SERVER = """
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("0.0.0.0", int(sys.argv[1])), Health).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stale_server() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Another process answering /health on a port (on every address, as rasa-sdk does)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", STALE_SERVER, str(port)])
    try:
        deadline = time.monotonic() + 10
        while ports.is_free("127.0.0.1", port):
            assert process.poll() is None, "the stand-in server died"
            assert time.monotonic() < deadline, "the stand-in server never listened"
            time.sleep(0.05)
        yield process, port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_ports_names_the_process_holding_a_port(
    stale_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = stale_server
    assert not ports.is_free("127.0.0.1", port)
    assert not ports.is_free("0.0.0.0", port)
    (holder,) = ports.listeners(port)
    assert holder.pid == process.pid
    assert holder.address == f"0.0.0.0:{port}"
    assert holder.command is not None
    assert "http.server" in holder.command
    assert f"pid {process.pid} (" in ports.describe_holders(port)
    assert ports.foreign_listeners(port, {process.pid}) == []
    assert ports.foreign_listeners(port, {os.getpid()}) == [holder]
    assert ports.is_free("127.0.0.1", free_port())


async def test_a_taken_port_stops_the_start_naming_port_and_process(
    stale_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = stale_server
    server = ActionServerProcess(f"http://127.0.0.1:{port}", cwd=ROOT)
    with pytest.raises(ConfigError) as caught:
        await server.start()
    message = str(caught.value)
    assert f"port {port} is already taken by pid {process.pid}" in message
    assert "pick_free_port" in message
    assert server.pid is None  # nothing was started
    assert process.poll() is None  # and the other process was left alone


def test_a_listener_that_is_not_the_child_is_refused(
    stale_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    # As if another process took the port between the check and the child's start: the
    # "child" here is a process that listens nowhere.
    process, port = stale_server
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        server = ActionServerProcess(f"http://127.0.0.1:{port}", cwd=ROOT)
        expected = f"another process answers on port {port}: pid {process.pid}"
        with pytest.raises(ConfigError, match=expected):
            server._check_ownership(child.pid)
        server._check_ownership(process.pid)  # the listener's own tree passes
    finally:
        child.kill()
        child.wait()


@pytest.mark.slow
async def test_with_pick_free_port_it_starts_its_own_on_another_port(
    stale_server: tuple[subprocess.Popen[bytes], int], tmp_path: Any
) -> None:
    stale, port = stale_server
    server = ActionServerProcess(
        f"http://127.0.0.1:{port}",
        cwd=ROOT,
        env={"CONCIERGE_SHOP_DB": str(tmp_path / "shop.sqlite")},
        pick_free_port=True,
    )
    started = await server.start()
    try:
        assert started.port != port
        assert started.url == f"http://127.0.0.1:{started.port}"
        assert started.pid == server.pid
        listeners = ports.listeners(started.port)
        assert listeners, "the child listens"
        assert {h.pid for h in listeners} <= ports.process_tree(started.pid)
        # Loopback only: the action server has no authentication.
        assert {h.address for h in listeners} == {f"127.0.0.1:{started.port}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{started.url}/health") as answer,
        ):
            assert answer.status == 200
    finally:
        await server.stop()
    assert ports.is_free("127.0.0.1", started.port)
    assert stale.poll() is None


def test_bot_run_refuses_to_start_beside_a_stale_action_server(
    stale_server: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = stale_server
    env = {**os.environ, "CONCIERGE_ACTION_SERVER_URL": f"http://127.0.0.1:{port}"}
    for command in (["run", "--port", str(free_port())], ["actions"]):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1, result.stderr[-2000:]
        assert f"port {port} is already taken by pid {process.pid}" in result.stderr


async def test_ready_names_the_action_server(client_for: Any, settings: Settings) -> None:
    app = quick_app(settings)
    app[EMBEDDED_ACTIONS] = EmbeddedActionServer("http://127.0.0.1:5999", 5999, 4242)
    body = await (await (await client_for(app)).get("/ready")).json()
    assert body["action_server"] == {"url": "http://127.0.0.1:5999", "embedded": True, "pid": 4242}
    body = await (await (await client_for(quick_app(settings))).get("/ready")).json()
    assert body["action_server"] == {
        "url": settings.action_server.url,
        "embedded": False,
        "pid": None,
    }
