"""Starts the rasa-sdk action server as a child process (for `bot run` and `bot chat`).

The bot owns what it starts: before starting, it checks that the configured port is free,
and when it is not it names the process holding it and refuses to start (or, with
``action_server.pick_free_port``, starts on a free port instead). A process already on the
port, such as a stale action server left running for another shop, is never talked to in
place of the bot's own. Once the child answers ``/health``, the port's listeners are checked
to be the child and its workers, which also catches a process that took the port between
the check and the child's start. The child listens on the URL's host only (rasa-sdk's own
default is every interface), since it has no authentication.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot import ports
from bot.errors import ConfigError

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass(frozen=True, slots=True)
class EmbeddedActionServer:
    """The action server a bot started: where it answers and which process it is."""

    url: str
    port: int
    pid: int


class ActionServerProcess:
    """``python -m rasa_sdk --actions actions`` on the configured port, stopped on exit.

    Args:
        url: ``action_server.url``; its host must be this machine.
        cwd: the folder holding the ``actions`` package.
        env: variables added for the child, such as where its shop store is.
        startup_timeout_s: how long the child may take to answer ``/health``.
        pick_free_port: when the url's port is taken, start on a free port instead of
            refusing (the holder is logged either way).
    """

    def __init__(
        self,
        url: str,
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        startup_timeout_s: float = 60.0,
        pick_free_port: bool = False,
    ) -> None:
        parts = urlsplit(url)
        if parts.hostname not in LOCAL_HOSTS:
            raise ConfigError(
                "action_server.url",
                f"can only start an embedded action server on this machine, not {parts.hostname}"
                " (set action_server.embedded: false)",
            )
        self._scheme = parts.scheme
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5055
        self.url = self._url(self.port)
        self._cwd = cwd
        self._env = dict(env or {})
        self._timeout = startup_timeout_s
        self._pick_free_port = pick_free_port
        self._process: asyncio.subprocess.Process | None = None

    def _url(self, port: int) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self._scheme}://{host}:{port}"

    async def start(self) -> EmbeddedActionServer:
        """Starts the child on a port it checked is free and waits until it answers.

        Returns:
            Where it answers and its pid (``url`` differs from the configured one when a
            free port was picked).

        Raises:
            ConfigError: the port is taken (naming the process) and no other may be picked,
                the child exited, did not answer in time, or another process answers on
                its port.
        """
        self._choose_port()
        env = {
            **os.environ,
            **self._env,
            "PYTHONUNBUFFERED": "1",
            "SANIC_HOST": ports.bind_host(self.host),
        }
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rasa_sdk", "--actions", "actions",
            "--port", str(self.port), "--quiet",
            # Its own session: Sanic starts a worker process, and stop() ends the whole group.
            cwd=self._cwd, env=env, start_new_session=True,
        )  # fmt: skip
        try:
            await self._wait_until_up(self._process)
        except BaseException:
            await self.stop()
            raise
        return EmbeddedActionServer(self.url, self.port, self._process.pid)

    def _choose_port(self) -> None:
        if ports.is_free(self.host, self.port):
            return
        holders = ports.describe_holders(self.port)
        if not self._pick_free_port:
            raise ConfigError(
                "action_server.url",
                f"port {self.port} is already taken by {holders}. The bot starts its own action "
                "server and will not use another one in its place (it may serve another shop): "
                "stop that process, choose another port in action_server.url, or set "
                "action_server.pick_free_port: true",
            )
        taken = self.port
        self.port = ports.pick_free(self.host)
        self.url = self._url(self.port)
        log.warning(
            "port %d is taken by %s: starting the action server on %d instead",
            taken, holders, self.port,
        )  # fmt: skip

    async def _wait_until_up(self, process: asyncio.subprocess.Process) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if process.returncode is not None:
                    raise ConfigError(
                        "action_server",
                        f"the action server exited with {process.returncode} at start; port "
                        f"{self.port}: {self._holders_now()}",
                    )
                try:
                    async with session.get(
                        f"{self.url}/health", timeout=aiohttp.ClientTimeout(total=1)
                    ) as response:
                        if response.status == 200:
                            self._check_ownership(process.pid)
                            log.info("action server up on %s (pid %d)", self.url, process.pid)
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if loop.time() > deadline:
                    raise ConfigError("action_server", f"no answer from {self.url}/health")
                await asyncio.sleep(0.2)

    def _check_ownership(self, pid: int) -> None:
        foreign = ports.foreign_listeners(self.port, ports.process_tree(pid))
        if foreign:
            raise ConfigError(
                "action_server.url",
                f"another process answers on port {self.port}: "
                + ", ".join(holder.describe() for holder in foreign),
            )

    def _holders_now(self) -> str:
        if ports.is_free(self.host, self.port):
            return "free now"
        return f"taken by {ports.describe_holders(self.port)}"

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self._process.pid if self._process is not None else None

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
