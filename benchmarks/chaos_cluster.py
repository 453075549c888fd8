"""The processes benchmarks/chaos.py runs and breaks: a private Redis, action servers, bot
workers, and a round-robin TCP proxy that puts the workers behind one port.

Everything listens on 127.0.0.1 on free ports and lives in one temporary folder; the shared
Redis on 6379 is never touched. Each process runs in its own session so that a kill reaches
its children too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = "chaos-token"
NO_WORKER = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 58\r\n\r\n"
    b'{"error": "no bot worker is reachable", "status": 503}\r\n\r\n'
)


SNAPSHOT = ("bot", "actions", "data", "models", "config.yml")


def snapshot_code(workdir: Path) -> Path:
    """A copy of the code, data and models the processes run from.

    A worker or action server started again mid-run must run the code the run began with,
    even when the working tree changes meanwhile (several people edit it).
    """
    code = workdir / "code"
    code.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SNAPSHOT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, code / name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(source, code / name)
    return code


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _stop(process: subprocess.Popen[bytes] | None, limit_s: float = 10) -> None:
    """SIGTERM the process group, SIGKILL it after ``limit_s``."""
    if process is None or process.poll() is not None:
        return
    _signal_group(process, signal.SIGCONT)  # a paused Redis cannot act on SIGTERM
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-2000:] if log else ""


async def wait_http(
    url: str, process: subprocess.Popen[bytes], limit_s: float, log: Path | None = None
) -> None:
    """Until ``url`` answers 200; the process's log tail in the error when it exits first."""
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = _tail(log)
                raise RuntimeError(f"{url}: process exited with {process.returncode}\n{tail}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {limit_s} s")


class RedisServer:
    """A private redis-server with an append-only file, so a restart keeps every write."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.spawn()
        await self.wait_ready()

    def spawn(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        # appendfsync always: an acknowledged write survives even a crash, so whatever the
        # bot loses across a restart is the bot's doing, not the fault's.
        command = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    async def wait_ready(self, limit_s: float = 30) -> None:
        import redis.asyncio as redis

        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
            try:
                if await client.ping():
                    return
            except redis.RedisError:
                await asyncio.sleep(0.05)
            finally:
                await client.aclose()
        raise TimeoutError(f"private Redis on {self.port} not ready")

    async def restart(self) -> None:
        """A clean restart: SIGTERM (the file is flushed), then the same server again."""
        _stop(self.process)
        await self.start()

    def pause(self) -> None:
        """Unreachable: the process stops answering, connections stay open and hang."""
        assert self.process is not None
        _signal_group(self.process, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        _signal_group(self.process, signal.SIGCONT)

    def stop(self) -> None:
        _stop(self.process)


@dataclass
class Backend:
    """One address behind the proxy, with the connections it has open now."""

    port: int
    active: int = 0
    busy: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class RoundRobinProxy:
    """A layer-4 balancer: each client connection goes to the next backend that accepts.

    A backend that refuses the connection (dead, restarting) is skipped; when none accepts,
    the client gets a 503 with Retry-After, as a load balancer would answer.
    """

    backends: list[Backend]
    port: int = field(default_factory=free_port)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _server: asyncio.Server | None = None
    # Strong references: asyncio keeps only weak ones to a server's connection tasks.
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()  # ends the relays: their reads see the connection closed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 5)

    async def _connect(self) -> tuple[Backend, asyncio.StreamReader, asyncio.StreamWriter] | None:
        first = next(self._turn)
        for offset in range(len(self.backends)):
            backend = self.backends[(first + offset) % len(self.backends)]
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", backend.port)
                return backend, reader, writer
        return None

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._relay(client_r, client_w)
        finally:
            self._tasks.discard(task)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        connected = await self._connect()
        if connected is None:
            with contextlib.suppress(OSError):
                client_w.write(NO_WORKER)
                await client_w.drain()
            client_w.close()
            return
        backend, server_r, server_w = connected
        self._writers.update((client_w, server_w))
        backend.active += 1
        backend.busy.set()
        try:
            await asyncio.gather(
                _pipe(client_r, server_w), _pipe(server_r, client_w), return_exceptions=True
            )
        finally:
            backend.active -= 1
            if backend.active == 0:
                backend.busy.clear()
            for writer in (client_w, server_w):
                writer.close()
                self._writers.discard(writer)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    finally:
        # The other side's EOF ends this direction; a reset (a killed worker) ends both.
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()


@dataclass
class Service:
    """A restartable child process (an action server or a bot worker) on a fixed port."""

    name: str
    command: list[str]
    env: dict[str, str]
    health_url: str
    log: Path
    port: int
    code: Path
    process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=self.code, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    async def wait_ready(self, limit_s: float) -> None:
        assert self.process is not None
        await wait_http(self.health_url, self.process, limit_s, self.log)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no released locks, whatever was in flight is cut off."""
        assert self.process is not None
        _signal_group(self.process, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        _stop(self.process)


async def migrate_console(worker: Service) -> None:
    """``python -m bot console migrate`` with a worker's code and settings, before any starts."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "console", "migrate", cwd=worker.code, env=worker.env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"console migrate failed: {errors.decode(errors='replace')[-2000:]}")


def base_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def action_server(workdir: Path, code: Path, index: int, shop_db: Path) -> Service:
    port = free_port()
    env = {
        **base_env(),
        "CONCIERGE_SHOP_DIR": str(code / "data/shop"),
        "CONCIERGE_SHOP_DB": str(shop_db),
    }
    command = [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port),
               "--quiet"]  # fmt: skip
    return Service(
        f"actions-{index}", command, env, f"http://127.0.0.1:{port}/health",
        workdir / f"actions-{index}.log", port, code,
    )  # fmt: skip


def bot_worker(
    workdir: Path, code: Path, index: int, redis_url: str, actions_url: str, prefix: str
) -> Service:
    port = free_port()
    env = {
        **base_env(),
        "REDIS_URL": redis_url,
        "CONCIERGE_ACTION_SERVER_URL": actions_url,
        "CONCIERGE__SESSIONS__KEY_PREFIX": prefix,
        "CONCIERGE__SERVER__API_TOKEN": API_TOKEN,
        "CONCIERGE__GENERATOR__ENABLED": "false",  # answers are the shop's passages: CPU-cheap
        "CONCIERGE__SHOP_STORE__DATABASE": str(workdir / "shop.sqlite"),
    }
    command = [sys.executable, "-m", "bot", "run", "--no-actions", "--port", str(port)]
    return Service(
        f"worker-{index}", command, env, f"http://127.0.0.1:{port}/health",
        workdir / f"worker-{index}.log", port, code,
    )  # fmt: skip
