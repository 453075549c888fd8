"""Client for the rasa-sdk action server: the ``ActionExecutor`` port and its adapters.

The pipeline runs business actions (order status, cancel, return, ...) through an
:class:`ActionExecutor`. :class:`HttpActionExecutor` speaks rasa-sdk's webhook protocol, so the
actions in ``actions/`` are ordinary ``rasa_sdk.Action`` classes that a real Rasa could also call;
:class:`InMemoryActionExecutor` runs plain Python handlers for pipeline unit tests.

Protocol (rasa-sdk ``endpoint.py``): ``POST /webhook`` with an ``ActionCall`` body; the server
answers 200 with ``{"events": [...], "responses": [...]}``, 400 when the action rejected itself,
404 when no such action is registered, 449 when it needs the domain, 500 when the action crashed.
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import aiohttp
from yarl import URL

from bot.domain import Event, TrackerView
from bot.errors import (
    ActionNotFound,
    ActionRejected,
    ActionServerUnavailable,
    ConfigError,
)
from bot.http_bodies import snippet
from bot.retry import Backoff, TransientFailure, retry

logger = logging.getLogger(__name__)

# Statuses after which the same request may succeed: the server is restarting, overloaded or
# crashed on this call. 400/404 are answers about the action itself and would only repeat.
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What one action run produced.

    Attributes:
        events: Rasa tracker events to append (``slot``, ``active_loop``, ...), in order.
        responses: Messages for the shopper, in rasa-sdk's dispatcher shape (``text``,
            ``buttons``, ``image``, ``custom``, ``response``, ...).
    """

    events: tuple[Event, ...] = ()
    responses: tuple[dict[str, Any], ...] = ()


class ActionExecutor(ABC):
    """Port for running a named business action against a conversation's tracker."""

    @abstractmethod
    async def run(
        self, action_name: str, tracker: TrackerView, domain: Mapping[str, Any]
    ) -> ActionResult:
        """Runs one action.

        Args:
            action_name: The registered action name, e.g. ``action_order_status``.
            tracker: The conversation's state; sent whole, as Rasa does.
            domain: The Rasa domain (``data/domain.yml`` as a dict).

        Returns:
            The events and responses the action produced.

        Raises:
            ActionRejected: The action refused to run (rasa-sdk ``ActionExecutionRejection``).
            ActionNotFound: No action of that name is registered (a configuration error).
            ActionServerUnavailable: The server could not be reached, kept failing, or answered
                something that is not a valid result.
        """

    @abstractmethod
    async def health(self) -> bool:
        """Tells whether the executor can run actions now; never raises for a down server."""

    @abstractmethod
    async def aclose(self) -> None:
        """Releases connections; safe to call more than once."""


class ActionCall(TypedDict):
    """Body of ``POST /webhook`` (rasa-sdk ``types.ActionCall``)."""

    next_action: str
    sender_id: str
    tracker: dict[str, Any]
    domain: dict[str, Any]
    version: str


@functools.cache
def _rasa_sdk_version() -> str:
    # Same value as rasa_sdk.__version__, read from the installed metadata because importing
    # rasa_sdk pulls in sanic and its plugins, which the bot process has no use for.
    return importlib.metadata.version("rasa-sdk")


def action_call(action_name: str, tracker: TrackerView, domain: Mapping[str, Any]) -> ActionCall:
    """The ``/webhook`` body for running ``action_name`` on ``tracker``.

    Raises:
        ValueError: ``action_name`` is empty.
    """
    if not action_name:
        raise ValueError("action_name must not be empty")
    return {
        "next_action": action_name,
        "sender_id": tracker.sender_id,
        "tracker": tracker.to_rasa_state(),
        # Always sent: a server that caches the domain would otherwise act on a stale one
        # after the shop edits domain.yml, and 449 round trips cost a request each.
        "domain": dict(domain),
        "version": _rasa_sdk_version(),
    }


def _error_text(body: bytes) -> str:
    """The ``error`` field rasa-sdk puts in 4xx answers, or the raw body if there is none."""
    try:
        data = json.loads(body)
    except ValueError:
        return snippet(body)
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) else snippet(body)


def parse_action_response(action_name: str, body: bytes) -> ActionResult:
    """Converts a 200 answer of ``/webhook`` into an :class:`ActionResult`.

    Args:
        action_name: The action that was run, for error context.
        body: The raw response body.

    Returns:
        The validated events and responses.

    Raises:
        ActionServerUnavailable: The body is not JSON or not rasa-sdk's result shape.
    """
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ActionServerUnavailable(
            action_name, f"answer is not JSON ({exc}): {snippet(body)!r}"
        ) from exc
    if not isinstance(data, dict):
        raise ActionServerUnavailable(
            action_name, f"answer is not a JSON object: {snippet(body)!r}"
        )
    events = data.get("events") or []
    responses = data.get("responses") or []
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and isinstance(e.get("event"), str) for e in events
    ):
        raise ActionServerUnavailable(
            action_name, f"'events' is not a list of Rasa events: {snippet(body)!r}"
        )
    if not isinstance(responses, list) or not all(isinstance(r, dict) for r in responses):
        raise ActionServerUnavailable(
            action_name, f"'responses' is not a list of objects: {snippet(body)!r}"
        )
    return ActionResult(events=tuple(events), responses=tuple(responses))


class _DomainRequested(Exception):
    """The server answered 449."""


def _base_url(url: str) -> URL:
    parsed = URL(url.rstrip("/"))
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError("action_server.url", f"expected http(s)://host[:port], got {url!r}")
    if parsed.path.endswith("/webhook"):
        parsed = parsed.with_path(parsed.path.removesuffix("/webhook"))
    return parsed


class HttpActionExecutor(ActionExecutor):
    """Runs actions on a rasa-sdk action server over HTTP.

    Connection refused, timeouts and 5xx answers are retried with ``backoff``; rejections (400)
    and unknown actions (404) are not. Retrying means an action whose first attempt timed out
    after it changed something may run twice, so shop actions must be idempotent.

    The HTTP session is created on first use (no I/O in ``__init__``) and closed by
    :meth:`aclose`; a session passed in belongs to the caller and is left open.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10,
        backoff: Backoff,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Configures the client.

        Args:
            url: The action server, e.g. ``http://localhost:5055``, with or without ``/webhook``.
            timeout_s: Limit for one attempt, connecting and reading the answer included.
            backoff: Delays between attempts after transient failures.
            session: An existing session to share; otherwise one is created on first use.

        Raises:
            ConfigError: ``url`` is not an http(s) URL or ``timeout_s`` is not positive.
        """
        if timeout_s <= 0:
            raise ConfigError("action_server.timeout_s", f"must be > 0, got {timeout_s}")
        base = _base_url(url)
        self.webhook_url = base / "webhook"
        self.health_url = base / "health"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._timeout_s = timeout_s
        self._backoff = backoff
        self._session = session
        self._owns_session = session is None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the aiohttp session passed to HttpActionExecutor is closed")
            self._session = aiohttp.ClientSession()
        return self._session

    async def run(
        self, action_name: str, tracker: TrackerView, domain: Mapping[str, Any]
    ) -> ActionResult:
        """Runs ``action_name`` on the action server; see :meth:`ActionExecutor.run`."""
        body = json.dumps(action_call(action_name, tracker, domain)).encode()
        try:
            return await self._call_with_retries(action_name, tracker.sender_id, body)
        except _DomainRequested:
            pass
        # The domain was in the request, so a 449 means a proxy dropped it or the server is
        # confused; one more try covers the former, a second 449 is a server we cannot use.
        try:
            return await self._call_with_retries(action_name, tracker.sender_id, body)
        except _DomainRequested:
            raise ActionServerUnavailable(
                action_name, "server asked for the domain (449) twice although it was sent"
            ) from None

    async def _call_with_retries(
        self, action_name: str, sender_id: str, body: bytes
    ) -> ActionResult:
        attempts = 0

        async def attempt() -> ActionResult:
            nonlocal attempts
            attempts += 1
            return await self._call_once(action_name, sender_id, body, attempts)

        try:
            return await retry(
                attempt,
                self._backoff,
                retry_on=(TransientFailure,),
                describe=f"action {action_name!r}",
            )
        except TransientFailure as exc:
            raise ActionServerUnavailable(
                action_name,
                f"{exc.reason} (gave up after {attempts} attempts to {self.webhook_url})",
            ) from exc.__cause__

    async def _call_once(
        self, action_name: str, sender_id: str, body: bytes, attempt: int
    ) -> ActionResult:
        started = time.perf_counter()
        outcome = "failed"
        try:
            async with self._client().post(
                self.webhook_url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self._timeout,
            ) as response:
                status = response.status
                answer = await response.read()
                outcome = f"HTTP {status}"
        except TimeoutError as exc:
            outcome = "timed out"
            raise TransientFailure(f"no answer within {self._timeout_s}s") from exc
        except aiohttp.ClientError as exc:
            raise TransientFailure(f"{type(exc).__name__}: {exc}") from exc
        finally:
            logger.debug(
                "action %s for %s: attempt %d, %s in %.1f ms",
                action_name,
                sender_id,
                attempt,
                outcome,
                (time.perf_counter() - started) * 1000,
            )
        if status == 200:
            return parse_action_response(action_name, answer)
        if status == 400:
            raise ActionRejected(action_name, _error_text(answer))
        if status == 404:
            raise ActionNotFound(
                action_name, f"not registered on {self.webhook_url}: {_error_text(answer)}"
            )
        if status == 449:
            raise _DomainRequested
        if status in _TRANSIENT_STATUSES:
            raise TransientFailure(f"HTTP {status}: {snippet(answer)}")
        raise ActionServerUnavailable(action_name, f"unexpected HTTP {status}: {snippet(answer)}")

    async def health(self) -> bool:
        """Returns whether ``GET /health`` answers 200 within the timeout."""
        try:
            async with self._client().get(self.health_url, timeout=self._timeout) as response:
                await response.read()
                return response.status == 200
        except (TimeoutError, aiohttp.ClientError) as exc:
            logger.debug("action server health check failed: %s", exc)
            return False

    async def aclose(self) -> None:
        """Closes the session this client created; a session passed in is left open."""
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()


ActionHandler = Callable[[TrackerView, Mapping[str, Any]], ActionResult | Awaitable[ActionResult]]
"""A plain function standing in for an action: ``(tracker, domain) -> ActionResult``."""


class InMemoryActionExecutor(ActionExecutor):
    """Runs Python handlers in-process, for pipeline tests that need no action server.

    Handlers signal refusals by raising :class:`~bot.errors.ActionRejected`, as the server would.
    ``calls`` records the action names run, in order.
    """

    def __init__(self, handlers: Mapping[str, ActionHandler]) -> None:
        """Registers ``handlers`` by action name."""
        self._handlers = dict(handlers)
        self.calls: list[str] = []

    async def run(
        self, action_name: str, tracker: TrackerView, domain: Mapping[str, Any]
    ) -> ActionResult:
        """Calls the handler registered for ``action_name``; see :meth:`ActionExecutor.run`."""
        handler = self._handlers.get(action_name)
        if handler is None:
            raise ActionNotFound(action_name, "no in-memory handler registered")
        self.calls.append(action_name)
        result = handler(tracker, domain)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def health(self) -> bool:
        """Always healthy: there is nothing to reach."""
        return True

    async def aclose(self) -> None:
        """Nothing to release."""
