"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from tests.redis_cluster import LocalCluster, redis_server_missing


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a real Redis for tests (REDIS_URL, else db 15 on localhost); skips if unreachable."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A 3-master Redis Cluster (each master with a replica) on free loopback ports, started
    for this test session in a temporary folder and stopped after it."""
    missing = redis_server_missing()
    if missing is not None:
        pytest.skip(missing)
    cluster = LocalCluster.start(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()
