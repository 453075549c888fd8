"""The session store's Redis client: one server (a pool) or a Redis Cluster.

With ``sessions.cluster: true`` the URL names one startup node and redis-py's asyncio
``RedisCluster`` finds the others, follows MOVED and ASK redirections (a slot being migrated)
and waits out TRYAGAIN itself. Every command of the store touches one conversation's keys,
which share a hash tag and so a slot, or the index, which is one key: nothing is cross-slot.

redis-py's own retry on connection errors is off in both modes. It would resend any command,
and the store decides what may be resent: an append carries a token so a resend is
recognised (``APPEND_LUA``), a delivery claim is never resent. The errors a cluster gives
while a master fails over are therefore the store's to retry (:data:`CLUSTER_TRANSIENT`).
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    ClusterDownError,
    ClusterError,
    SlotNotCoveredError,
    TryAgainError,
)

RedisClient = Redis | RedisCluster
"""What the store, the index, the feed hub and the console bus talk to."""

CLUSTER_TRANSIENT: tuple[type[Exception], ...] = (
    ClusterDownError,  # CLUSTERDOWN / MASTERDOWN while a replica takes over
    TryAgainError,  # a multi-key command met a slot half migrated, redirections ran out
    ClusterError,  # "TTL exhausted": redirections kept coming while slots moved
    SlotNotCoveredError,  # the client's slot map has a hole until its next refresh
)


def connect(url: str, *, cluster: bool, max_connections: int, timeout_s: float) -> RedisClient:
    """A client for ``url`` that connects on first use (no I/O here).

    Args:
        url: ``redis://``/``rediss://`` (a startup node in cluster mode) or ``unix://``.
        cluster: Talk to a Redis Cluster through ``url`` as a startup node.
        max_connections: Most connections (per node in a cluster).
        timeout_s: Connect and reply limit, so a dead server fails instead of hanging.
    """
    no_retry = Retry(NoBackoff(), 0)
    if cluster:
        return RedisCluster.from_url(
            url,
            max_connections=max_connections,
            retry=no_retry,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
        )
    # A blocking pool: with every connection busy (more concurrent turns than
    # max_connections) a call waits for one instead of failing "Too many connections".
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_s,
        retry=no_retry,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
    )
    return Redis.from_pool(pool)
