"""Backoff and retry as objects that callers pass in (Redis, the action server client).

A :class:`Backoff` only computes delays; :func:`retry` runs an async operation under one. Keeping
the policy a value means a test can pass ``Backoff(attempts=1)`` and production code can tune
the numbers from ``config.yml`` without touching the code that retries.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with proportional jitter.

    Attributes:
        attempts: Total tries including the first one (1 means "never retry").
        base_s: Delay before the first retry, in seconds.
        factor: Each further delay is this many times the previous one.
        cap_s: No delay is ever longer than this.
        jitter: Fraction of each delay that is random, in [0, 1]. A delay ``d`` becomes a draw
            from ``[d * (1 - jitter), d]``; 1.0 is "full jitter", which spreads out workers that
            failed at the same moment so they do not retry in lockstep.
    """

    attempts: int = 3
    base_s: float = 0.05
    factor: float = 2.0
    cap_s: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"Backoff.attempts must be >= 1, got {self.attempts}")
        if self.base_s < 0 or self.cap_s < 0:
            raise ValueError("Backoff.base_s and Backoff.cap_s must be >= 0")
        if self.factor < 1:
            raise ValueError(f"Backoff.factor must be >= 1, got {self.factor}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"Backoff.jitter must be within [0, 1], got {self.jitter}")

    def delay(self, retry_index: int, rng: random.Random | None = None) -> float:
        """The delay before retry number ``retry_index`` (0 for the first retry).

        Unlike :meth:`delays` this ignores ``attempts``, so a caller bounded by a deadline
        instead of a count (a lock waiting for ``wait_s``) can keep asking.

        Args:
            retry_index: How many retries already happened.
            rng: Random source for the jitter; the module's shared one when None.

        Returns:
            Seconds to sleep, never more than ``cap_s``.
        """
        # Clamp the exponent: a deadline-bounded caller may ask for index 10_000, and
        # factor ** 10_000 overflows a float long after the cap has taken over anyway.
        ceiling = self.base_s * self.factor ** min(retry_index, 64)
        ceiling = min(self.cap_s, ceiling)
        if self.jitter == 0.0:
            return ceiling
        draw = (rng or random).random()
        return ceiling * (1.0 - self.jitter * draw)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The ``attempts - 1`` delays to sleep between consecutive tries.

        Args:
            rng: Random source for the jitter; the module's shared one when None.

        Yields:
            Seconds to sleep before each retry.
        """
        for index in range(self.attempts - 1):
            yield self.delay(index, rng)


class TransientFailure(Exception):
    """One failed attempt that may succeed if repeated; ``reason`` ends up in the final error.

    Adapters raise it inside the operation they hand to :func:`retry` (``retry_on``) and turn
    the last one into their own error when every attempt failed.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


NO_RETRY = Backoff(attempts=1)
"""Try once; for operations that must not be repeated (e.g. a non-idempotent write)."""


async def retry(
    operation: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    retry_on: tuple[type[Exception], ...],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    describe: str = "operation",
) -> T:
    """Run ``operation`` and retry it on the given exceptions, sleeping per ``backoff``.

    Only retry operations that are safe to repeat: a failure after the request was sent may
    mean it already took effect.

    Args:
        operation: A zero-argument callable returning a fresh awaitable for each try.
        backoff: How many tries and how long to wait between them.
        retry_on: Exception types that mean "transient, try again"; anything else propagates
            at once. ``asyncio.CancelledError`` is never retried.
        sleep: The sleep function (injected in tests).
        describe: Names the operation in the warning logged before each retry.

    Returns:
        What the first successful try returned.

    Raises:
        Exception: The last exception, once all ``backoff.attempts`` tries failed.
    """
    delays = backoff.delays()
    attempt = 1
    while True:
        try:
            return await operation()
        except retry_on as exc:
            pause = next(delays, None)
            if pause is None:
                raise
            log.warning(
                "%s failed (try %d of %d), retrying in %.3fs: %s",
                describe,
                attempt,
                backoff.attempts,
                pause,
                exc,
            )
            attempt += 1
            await sleep(pause)
