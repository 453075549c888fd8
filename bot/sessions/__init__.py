"""Session store: the port (:class:`SessionStore`), its adapters and the factory that picks one.

Callers depend on :class:`SessionStore` only; :func:`create_session_store` turns the configured
URL into an adapter, and refuses what it does not understand rather than falling back to
memory (which would silently lose conversations across workers and restarts).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.errors import ConfigError
from bot.retry import Backoff
from bot.sessions.base import (
    DEFAULT_TTL_S,
    ConversationExport,
    ConversationSummary,
    NewEvents,
    SessionStore,
)
from bot.sessions.memory import MemorySessionStore
from bot.sessions.redis_store import REDIS_SCHEMES, RedisSessionStore

__all__ = [
    "DEFAULT_TTL_S",
    "ConversationExport",
    "ConversationSummary",
    "MemorySessionStore",
    "NewEvents",
    "RedisSessionStore",
    "SessionStore",
    "create_session_store",
]


def create_session_store(
    url: str | None,
    *,
    ttl_s: float = DEFAULT_TTL_S,
    key_prefix: str = "concierge",
    retry: Backoff | None = None,
    cluster: bool = False,
) -> SessionStore:
    """The session store a URL names; no I/O happens here.

    Args:
        url: None or ``memory://`` for the in-process store; ``redis://``, ``rediss://`` or
            ``unix://`` for Redis.
        ttl_s: Seconds of inactivity after which a conversation expires.
        key_prefix: Redis key prefix (ignored by the memory store).
        retry: Redis backoff for transient connection errors (ignored by the memory store).
        cluster: The Redis URL is one node of a Redis Cluster (``sessions.cluster``).

    Raises:
        ConfigError: The URL names no supported store (key ``sessions.url``), ``cluster``
            without a Redis node URL, or ``ttl_s`` or ``key_prefix`` is unusable.
    """
    if url is None or url == "memory://":
        if cluster:
            raise ConfigError("sessions.cluster", "needs a redis:// or rediss:// sessions.url")
        return MemorySessionStore(ttl_s=ttl_s)
    scheme = urlsplit(url).scheme
    if scheme in REDIS_SCHEMES:
        return RedisSessionStore(
            url, ttl_s=ttl_s, key_prefix=key_prefix, retry=retry, cluster=cluster
        )
    raise ConfigError(
        "sessions.url",
        f"unsupported scheme {scheme!r}: use memory:// or redis://, rediss://, unix://",
    )
