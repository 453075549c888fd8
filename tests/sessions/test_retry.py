"""Backoff delays and the retry helper (used by the Redis store and the action client)."""

from __future__ import annotations

import random

import pytest

from bot.retry import Backoff, retry


def test_delays_grow_by_factor_up_to_the_cap_without_jitter() -> None:
    backoff = Backoff(attempts=6, base_s=0.1, factor=2, cap_s=0.5, jitter=0)
    assert list(backoff.delays()) == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert list(Backoff(attempts=1).delays()) == []


def test_jitter_stays_within_its_band_and_varies() -> None:
    backoff = Backoff(attempts=2, base_s=1.0, factor=2, cap_s=10, jitter=0.5)
    rng = random.Random(7)
    draws = [backoff.delay(2, rng) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in draws)
    assert max(draws) - min(draws) > 1.0


def test_huge_retry_index_is_capped_not_overflowing() -> None:
    assert Backoff(cap_s=0.3, jitter=0).delay(100_000) == 0.3


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"base_s": -1}, {"factor": 0.5}, {"jitter": 1.5}, {"cap_s": -0.1}],
)
def test_invalid_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**kwargs)  # type: ignore[arg-type]


async def test_retry_retries_listed_errors_then_succeeds() -> None:
    calls, slept = 0, []

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("down")
        return "ok"

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    backoff = Backoff(attempts=3, base_s=0.1, factor=3, jitter=0)
    assert await retry(flaky, backoff, retry_on=(ConnectionError,), sleep=sleep) == "ok"
    assert calls == 3
    assert slept == pytest.approx([0.1, 0.3])


async def test_retry_gives_up_after_the_last_attempt() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError(f"try {calls}")

    async def sleep(seconds: float) -> None:
        pass

    with pytest.raises(TimeoutError, match="try 4"):
        await retry(down, Backoff(attempts=4), retry_on=(TimeoutError,), sleep=sleep)
    assert calls == 4


async def test_retry_does_not_retry_other_errors() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await retry(broken, Backoff(attempts=5), retry_on=(ConnectionError,))
    assert calls == 1
