"""The one HTTP client through which every reply leaves for a messaging platform.

Telegram and WhatsApp both answer a call with JSON and signal trouble alike: a 5xx or a
dropped connection is worth repeating, a 429 says how long to wait (Telegram in
``parameters.retry_after``, the Graph API and proxies in ``Retry-After``; the Graph API also
throttles with a 400 whose ``error.code`` names the limit), and any other 4xx will fail again
however often it is sent. A call is tried per a :class:`~bot.retry.Backoff`; a reply that still
fails is logged with its conversation id and counted, so an outage is visible in ``GET /stats``
(``outbound: {sent, retried, failed}``) instead of silent.

Retries make delivery at-least-once: a call that timed out after the platform accepted it is
sent again, and neither platform offers an idempotency key to prevent the duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.errors import ConciergeError
from bot.retry import Backoff

log = logging.getLogger(__name__)

# Graph API error codes that mean "too many calls, slow down" (sent with status 400 or 429).
GRAPH_THROTTLING_CODES = frozenset({4, 80007, 130429, 131048, 131056})
DEFAULT_BACKOFF = Backoff(attempts=4, base_s=0.5, factor=2.0, cap_s=8.0, jitter=0.5)


class DeliveryFailed(ConciergeError):
    """A platform call failed for good: retries ran out or the platform refused it."""

    def __init__(self, what: str, conversation_id: str | None, reason: str) -> None:
        about = f" for conversation {conversation_id!r}" if conversation_id else ""
        super().__init__(f"{what}{about} failed: {reason}")
        self.what = what
        self.conversation_id = conversation_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Attempt:
    """How one try ended when it did not succeed."""

    reason: str
    retryable: bool
    wait_s: float | None = None
    """What the platform asked us to wait (429), if it said."""


@dataclass
class OutboundCounters:
    sent: int = 0
    """Calls that succeeded."""
    retried: int = 0
    """Tries repeated after a transient failure."""
    failed: int = 0
    """Calls given up (refused, or still failing after every try)."""

    def to_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed}


class OutboundClient:
    """POSTs JSON to platform APIs with timeouts, retries and counters; one per application.

    Connects on first use; :meth:`aclose` closes the connection pool.

    Args:
        timeout_s: Limit for one try, connecting included.
        backoff: How many tries and the delays between them.
        max_retry_after_s: A 429 asking for a longer wait than this gives up at once (the
            reply would arrive too late to make sense).
        sleep: Injected in tests.
    """

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_retry_after_s: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._backoff = backoff
        self._max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self.counters = OutboundCounters()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def post_json(
        self,
        url: str,
        body: Mapping[str, Any],
        *,
        what: str,
        conversation_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """POSTs ``body`` and returns the decoded JSON answer of the first successful try.

        Args:
            url: The endpoint; it may hold a secret (Telegram's token), so it is never logged.
            body: The JSON body.
            what: Names the call in logs and errors (``telegram sendMessage``).
            conversation_id: The conversation the call serves, for logs.
            headers: Extra headers (a bearer token).

        Raises:
            DeliveryFailed: The platform refused the call or it failed on every try.
        """
        delays = self._backoff.delays()
        tries = 0
        while True:
            tries += 1
            outcome = await self._try(url, body, headers)
            if not isinstance(outcome, _Attempt):
                self.counters.sent += 1
                return outcome
            pause = next(delays, None) if outcome.retryable else None
            if outcome.wait_s is not None and pause is not None:
                if outcome.wait_s > self._max_retry_after_s:
                    pause = None
                else:
                    pause = max(pause, outcome.wait_s)
            if pause is None:
                self.counters.failed += 1
                log.error(
                    "%s for conversation %s given up after %d tries: %s",
                    what, conversation_id, tries, outcome.reason,
                )  # fmt: skip
                raise DeliveryFailed(what, conversation_id, outcome.reason)
            self.counters.retried += 1
            log.warning(
                "%s for conversation %s failed (try %d of %d), retrying in %.2fs: %s",
                what, conversation_id, tries, self._backoff.attempts, pause, outcome.reason,
            )  # fmt: skip
            await self._sleep(pause)

    async def _try(
        self, url: str, body: Mapping[str, Any], headers: Mapping[str, str] | None
    ) -> Any:
        try:
            async with self._client().post(url, json=body, headers=headers) as response:
                text = await response.text()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return _Attempt(f"{type(exc).__name__}: {exc}".rstrip(": "), retryable=True)
        answer = _json(text)
        if 200 <= status < 300:
            return answer
        return _failure(status, answer, retry_after, text)

    def abandon(self, count: int, what: str, conversation_id: str | None) -> None:
        """Counts ``count`` calls given up untried because an earlier one of theirs failed."""
        if count > 0:
            self.counters.failed += count
            log.error(
                "%d more %s call(s) for conversation %s given up", count, what, conversation_id
            )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def _failure(status: int, answer: Any, retry_after: str | None, text: str) -> _Attempt:
    """Reads a non-2xx answer of Telegram, the Graph API or a proxy in front of them."""
    description = f"HTTP {status}"
    wait_s: float | None = None
    code: Any = None
    if isinstance(answer, dict):
        # Telegram: {"ok": false, "error_code": 429, "description": "...",
        #            "parameters": {"retry_after": 5}}
        parameters = answer.get("parameters")
        if isinstance(parameters, dict):
            wait_s = _seconds(parameters.get("retry_after"))
        # Graph API: {"error": {"message": "...", "code": 130429, ...}}
        error = answer.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            description += f" (code {code}): {error.get('message', '')}"
        elif answer.get("description"):
            description += f": {answer['description']}"
    elif text.strip():
        description += f": {text.strip()[:200]}"
    if wait_s is None:
        wait_s = _seconds(retry_after)
    throttled = status == 429 or code in GRAPH_THROTTLING_CODES
    retryable = throttled or status >= 500 or status == 408
    return _Attempt(description, retryable, wait_s if throttled else None)


def _seconds(value: Any) -> float | None:
    """A retry-after value in seconds (an HTTP-date Retry-After is not used by these APIs)."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None
