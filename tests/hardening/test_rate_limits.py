"""REST rate limits (server.rate_limit): 429 with Retry-After, per sender and per address."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.appkeys import RATE_LIMITS
from bot.channels.rest_limits import RateLimitConfig, RestRateLimits
from bot.config import Settings, load_settings
from bot.errors import ConfigError

from .conftest import quick_app

REST = "/webhooks/rest/webhook"


class Clock:
    """A clock the test moves: buckets refill only when it says time passed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited(settings: Settings, **config: Any) -> Settings:
    server = replace(settings.server, rate_limit=RateLimitConfig(**config))
    return replace(settings, server=server)


async def test_a_sender_over_its_rate_gets_429_with_retry_after(
    client_for: Any, settings: Settings
) -> None:
    clock = Clock()
    configured = limited(settings, sender_per_min=6, sender_burst=2, ip_per_min=0)
    app = quick_app(configured)
    app[RATE_LIMITS] = RestRateLimits(configured.server.rate_limit, clock=clock)
    client = await client_for(app)
    for _ in range(2):
        assert (await client.post(REST, json={"sender": "s1", "message": "hello"})).status == 200
    refused = await client.post(REST, json={"sender": "s1", "message": "hello"})
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "10"  # 6 a minute: one every 10 s
    body = await refused.json()
    assert body["retry_after_s"] == 10
    assert "sender" in body["error"]
    # Another conversation is not held up by this one.
    assert (await client.post(REST, json={"sender": "s2", "message": "hello"})).status == 200
    clock.now += 10
    assert (await client.post(REST, json={"sender": "s1", "message": "hello"})).status == 200


async def test_an_address_over_its_rate_gets_429_before_its_body_is_read(
    client_for: Any, settings: Settings
) -> None:
    clock = Clock()
    configured = limited(settings, sender_per_min=0, ip_per_min=60, ip_burst=3, trusted_proxies=())
    app = quick_app(configured)
    limits = app[RATE_LIMITS] = RestRateLimits(configured.server.rate_limit, clock=clock)
    client = await client_for(app)
    answers = [
        (await client.post(REST, json={"sender": f"a{i}", "message": "hello"})).status
        for i in range(3)
    ]
    assert answers == [200, 200, 200]
    # Malformed bodies are refused by the address limit without being parsed.
    refused = await client.post(REST, data=b"[" * 5000)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    assert (await client.post("/model/parse", json={"text": "hi"})).status == 429
    stream = await client.post("/webhooks/stream/webhook", json={"sender": "z", "message": "hi"})
    assert stream.status == 429
    assert limits.refused == {"sender": 0, "ip": 3}
    metrics = await (await client.get("/metrics")).text()
    assert 'concierge_rate_limited_total{limit="ip"} 3.0' in metrics


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(
    client_for: Any, settings: Settings
) -> None:
    configured = limited(settings, sender_per_min=0, ip_per_min=60, ip_burst=1)
    app = quick_app(configured)
    app[RATE_LIMITS] = RestRateLimits(configured.server.rate_limit, clock=Clock())
    client = await client_for(app)  # the test client connects from 127.0.0.1: a trusted proxy

    async def say(forwarded: str | None) -> int:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        response = await client.post(
            REST, json={"sender": "p", "message": "hello"}, headers=headers
        )
        return response.status

    assert await say("203.0.113.7") == 200
    assert await say("198.51.100.1, 203.0.113.7") == 429  # the proxy saw 203.0.113.7 again
    assert await say("203.0.113.8") == 200
    # Without X-Forwarded-For the proxy is not address-limited (one bucket for all shoppers).
    assert [await say(None) for _ in range(3)] == [200, 200, 200]


async def test_off_means_off(client_for: Any, settings: Settings) -> None:
    configured = limited(settings, enabled=False, sender_burst=1, ip_burst=1)
    client = await client_for(quick_app(configured))
    for _ in range(4):
        assert (await client.post(REST, json={"sender": "o", "message": "hello"})).status == 200


def test_settings_from_config_and_environment() -> None:
    settings = load_settings(
        env={
            "CONCIERGE__SERVER__RATE_LIMIT__SENDER_PER_MIN": "12",
            "CONCIERGE__SERVER__RATE_LIMIT__TRUSTED_PROXIES": "10.0.0.1, ::1",
        }
    )
    limit = settings.server.rate_limit
    assert limit.enabled
    assert limit.sender_per_min == 12
    assert limit.trusted_proxies == ("10.0.0.1", "::1")


@pytest.mark.parametrize(
    ("key", "value"),
    [("sender_per_min", -1), ("ip_burst", 0), ("trusted_proxies", ("proxy.example",))],
)
def test_bad_settings_name_the_key(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=rf"server\.rate_limit\.{key}"):
        RateLimitConfig(**{key: value})
