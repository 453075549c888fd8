"""Starts the rasa-sdk action server as a child process (for `bot run` and `bot chat`)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot.errors import ConfigError

log = logging.getLogger(__name__)


class ActionServerProcess:
    """``python -m rasa_sdk --actions actions`` on the configured port, stopped on exit.

    ``env`` adds variables for the child, such as where its shop store is.
    """

    def __init__(
        self,
        url: str,
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        startup_timeout_s: float = 60.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
            raise ConfigError(
                "action_server.url",
                f"can only start an embedded action server on this machine, not {parts.hostname}"
                " (set action_server.embedded: false)",
            )
        self.url = url.rstrip("/").removesuffix("/webhook")
        self.port = parts.port or 5055
        self._cwd = cwd
        self._env = dict(env or {})
        self._timeout = startup_timeout_s
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**os.environ, **self._env, "PYTHONUNBUFFERED": "1"}
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rasa_sdk", "--actions", "actions",
            "--port", str(self.port), "--quiet",
            # Its own session: Sanic starts a worker process, and stop() ends the whole group.
            cwd=self._cwd, env=env, start_new_session=True,
        )  # fmt: skip
        deadline = asyncio.get_running_loop().time() + self._timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if self._process.returncode is not None:
                    raise ConfigError(
                        "action_server",
                        f"the action server exited with {self._process.returncode} at start "
                        f"(is port {self.port} free?)",
                    )
                try:
                    async with session.get(
                        f"{self.url}/health", timeout=aiohttp.ClientTimeout(total=1)
                    ) as response:
                        if response.status == 200:
                            log.info("action server up on %s", self.url)
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    await self.stop()
                    raise ConfigError("action_server", f"no answer from {self.url}/health")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        except ProcessLookupError:
            pass
