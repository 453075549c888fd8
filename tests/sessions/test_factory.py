"""create_session_store picks the adapter from the URL and never falls back silently."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.sessions import MemorySessionStore, RedisSessionStore, create_session_store


@pytest.mark.parametrize("url", [None, "memory://"])
def test_memory_urls_give_the_memory_store(url: str | None) -> None:
    assert isinstance(create_session_store(url, ttl_s=10, key_prefix="x"), MemorySessionStore)


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:1/0", "rediss://cache.example:6380/2", "unix:///tmp/redis.sock"]
)
def test_redis_urls_give_the_redis_store_without_connecting(url: str) -> None:
    # Port 1 / an unknown host: constructing must not try to connect.
    assert isinstance(create_session_store(url, ttl_s=10, key_prefix="x"), RedisSessionStore)


@pytest.mark.parametrize(
    "url", ["", "memory", "http://localhost:6379", "postgres://db/x", "mem://"]
)
def test_anything_else_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_session_store(url, ttl_s=10, key_prefix="x")
    assert caught.value.key == "sessions.url"


def test_bad_ttl_is_refused() -> None:
    for url in (None, "redis://localhost"):
        with pytest.raises(ConfigError) as caught:
            create_session_store(url, ttl_s=0, key_prefix="x")
        assert caught.value.key == "sessions.ttl_s"


def test_cluster_mode_gives_the_redis_store_in_cluster_mode_and_needs_a_node_url() -> None:
    store = create_session_store("redis://127.0.0.1:1", key_prefix="x", cluster=True)
    assert isinstance(store, RedisSessionStore)
    for url in (None, "memory://", "unix:///tmp/redis.sock"):
        with pytest.raises(ConfigError):
            create_session_store(url, key_prefix="x", cluster=True)


def test_cluster_is_set_in_config_or_the_environment() -> None:
    env = {"REDIS_URL": "redis://10.0.0.5:7000", "CONCIERGE__SESSIONS__CLUSTER": "true"}
    settings = load_settings(env=env)
    assert (settings.sessions.url, settings.sessions.cluster) == ("redis://10.0.0.5:7000", True)
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"CONCIERGE__SESSIONS__CLUSTER": "true"})  # memory:// by default
    assert caught.value.key == "sessions.cluster"
