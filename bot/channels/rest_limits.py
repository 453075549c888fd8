"""Rate limits of the REST channel (``server.rate_limit``): per sender and per client address.

The token buckets are the widget's (:mod:`bot.channels.ratelimit`). A refused request is a
:class:`~bot.errors.RateLimited`, answered 429 with ``Retry-After`` (:mod:`bot.http_errors`).
The address bucket is taken before the body is read, so a flood of malformed requests is
refused as cheaply as a flood of good ones; the sender's after, since it is in the body.

Buckets live in the worker's memory: with N workers behind a balancer a client gets up to N
times the rate. Behind a reverse proxy every request comes from the proxy's address, so
requests from ``trusted_proxies`` are counted under the last ``X-Forwarded-For`` address (the
client the proxy saw) and, without one, are not address-limited at all: one bucket for every
shopper of the shop would refuse them all together. Loopback is trusted by default, which
also keeps local tools, tests and benchmarks unthrottled by address.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from aiohttp import web

from bot.channels.ratelimit import Clock, KeyedBuckets
from bot.errors import ConfigError, RateLimited


@dataclass(frozen=True)
class RateLimitConfig:
    """``server.rate_limit``: how fast one conversation and one address may send."""

    enabled: bool = field(default=True, metadata={"help": "refuse clients over these rates (429)"})
    sender_per_min: float = field(
        default=60.0, metadata={"help": "messages one sender may send per minute; 0 = no limit"}
    )
    sender_burst: int = field(default=20, metadata={"help": "messages one sender may send at once"})
    ip_per_min: float = field(
        default=600.0,
        metadata={"help": "requests one client address may make per minute; 0 = no limit"},
    )
    ip_burst: int = field(default=200, metadata={"help": "requests one address may make at once"})
    trusted_proxies: tuple[str, ...] = field(
        default=("127.0.0.1", "::1"),
        metadata={
            "help": "proxies whose requests are counted under their last X-Forwarded-For "
            "address (without one: not address-limited)"
        },
    )

    def __post_init__(self) -> None:
        for key in ("sender_per_min", "ip_per_min"):
            if getattr(self, key) < 0:
                raise ConfigError(f"server.rate_limit.{key}", "must be 0 (off) or more")
        for key in ("sender_burst", "ip_burst"):
            if getattr(self, key) < 1:
                raise ConfigError(f"server.rate_limit.{key}", "must be at least 1")
        for address in self.trusted_proxies:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigError(
                    "server.rate_limit.trusted_proxies", f"{address!r} is not an IP address"
                ) from None


class RestRateLimits:
    """The buckets of one worker, shared by the REST, streaming and parse endpoints."""

    def __init__(self, config: RateLimitConfig, *, clock: Clock = time.monotonic) -> None:
        self.config = config
        on = config.enabled
        self._senders = (
            KeyedBuckets(config.sender_per_min / 60, config.sender_burst, clock=clock)
            if on and config.sender_per_min > 0
            else None
        )
        self._addresses = (
            KeyedBuckets(config.ip_per_min / 60, config.ip_burst, clock=clock)
            if on and config.ip_per_min > 0
            else None
        )
        self._proxies = frozenset(config.trusted_proxies)
        self.refused = {"sender": 0, "ip": 0}
        """Requests refused so far, by the limit that refused them (for /metrics)."""

    def client_address(self, request: web.Request) -> str | None:
        """Whom to count a request under; None for a trusted proxy that named no client."""
        remote = request.remote or "unknown"
        if remote not in self._proxies:
            return remote
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        return last or None

    def check_address(self, request: web.Request) -> None:
        """Takes a token of the request's client address.

        Raises:
            RateLimited: the address is over ``ip_per_min``.
        """
        if self._addresses is None:
            return
        address = self.client_address(request)
        if address is None:
            return
        wait = self._addresses.take(address)
        if wait > 0:
            self.refused["ip"] += 1
            raise RateLimited("address", wait)

    def check_sender(self, sender: str) -> None:
        """Takes a token of the conversation ``sender``.

        Raises:
            RateLimited: the sender is over ``sender_per_min``.
        """
        if self._senders is None:
            return
        wait = self._senders.take(sender)
        if wait > 0:
            self.refused["sender"] += 1
            raise RateLimited("sender", wait)
