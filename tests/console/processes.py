"""Bot worker processes (tests/console/worker.py) for the multi-worker test and the benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
WIDGET_LIMITS = {  # every simulated shopper is on 127.0.0.1 and never pauses
    "CONCIERGE__WIDGET__MAX_CONNECTIONS_PER_IP": "100000",
    "CONCIERGE__WIDGET__IP_RATE_PER_MIN": "10000000",
    "CONCIERGE__WIDGET__IP_BURST": "100000",
    "CONCIERGE__WIDGET__CONNECTION_RATE_PER_MIN": "100000",
    "CONCIERGE__WIDGET__CONNECTION_BURST": "1000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_worker(
    redis_url: str,
    prefix: str,
    database: str,
    log: Path,
    env: dict[str, str] | None = None,
    *,
    cluster: bool = False,
) -> tuple[subprocess.Popen[bytes], str]:
    """One worker on a free port, in its own process group; returns it and its URL.
    ``cluster``: ``redis_url`` is a node of a Redis Cluster."""
    port = free_port()
    with log.open("ab") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.console.worker", "--port", str(port),
             "--redis", redis_url, "--prefix", prefix, "--database", database,
             *(["--cluster"] if cluster else [])],
            cwd=ROOT,
            env={**os.environ, **WIDGET_LIMITS, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


async def wait_healthy(url: str, process: subprocess.Popen[bytes], limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"worker {url} exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(
                    f"{url}/health", timeout=aiohttp.ClientTimeout(total=2)
                ) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"worker {url} did not become healthy")


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, SIGKILL what is left after 10 s."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def clean_redis(url: str, prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()
