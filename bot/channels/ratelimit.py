"""Token buckets for the widget's rate limits: per connection and per client IP.

A bucket holds up to ``capacity`` tokens and gains ``rate_per_s`` a second; a message takes
one. A burst of ``capacity`` messages is fine, a steady stream faster than the rate is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """One bucket; :meth:`take` says how long to wait when it is empty."""

    __slots__ = ("_clock", "_stamp", "_tokens", "capacity", "rate_per_s")

    def __init__(self, rate_per_s: float, capacity: int, clock: Clock = time.monotonic) -> None:
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("a bucket needs a positive rate and a capacity of at least 1")
        self.rate_per_s = rate_per_s
        self.capacity = capacity
        self._clock = clock
        self._tokens = float(capacity)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    def take(self) -> float:
        """Takes a token: 0.0 when there was one, else the seconds until there will be."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate_per_s

    @property
    def full(self) -> bool:
        self._refill()
        return self._tokens >= self.capacity


class KeyedBuckets:
    """A bucket per key (client IP), forgetting full ones so that memory stays bounded."""

    def __init__(
        self,
        rate_per_s: float,
        capacity: int,
        *,
        clock: Clock = time.monotonic,
        prune_above: int = 10_000,
    ) -> None:
        self._rate = rate_per_s
        self._capacity = capacity
        self._clock = clock
        self._prune_above = prune_above
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str) -> float:
        """Takes a token from ``key``'s bucket; see :meth:`TokenBucket.take`."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._prune_above:
                # A full bucket is the same as no bucket, so dropping those loses nothing.
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full}
            bucket = self._buckets[key] = TokenBucket(self._rate, self._capacity, self._clock)
        return bucket.take()

    def __len__(self) -> int:
        return len(self._buckets)


class ConnectionCounter:
    """Open sockets per key, for the per-IP connection limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        """Counts one more socket for ``key``; False (and nothing counted) over the limit."""
        count = self._open.get(key, 0)
        if count >= self.limit:
            return False
        self._open[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def count(self, key: str) -> int:
        return self._open.get(key, 0)
