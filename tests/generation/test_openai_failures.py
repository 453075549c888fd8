"""OpenAICompatGenerator against the fake OpenAI server: retries, failures, time limits,
concurrency and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.generation.backend import (
    GenerationError,
    GenerationTimeout,
    GeneratorBusy,
)
from bot.generation.openai_compat import OpenAICompatGenerator

from .contract import closable
from .fake_openai_server import FakeOpenAIServer
from .openai_support import ATTEMPTS, FAST, SENTENCE, WORDS, ask, collect

# --- retries and failures -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_busy_or_failing_server_is_retried_before_the_first_token(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator], status: int
) -> None:
    fake.fail_next(ATTEMPTS - 1, status)

    assert await make().complete(ask()) == SENTENCE
    assert len(fake.requests) == ATTEMPTS


async def test_gives_up_after_the_backoff_attempts(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.fail_next(ATTEMPTS, 503, "warming up")

    with pytest.raises(GenerationError, match=rf"HTTP 503: warming up \(gave up after {ATTEMPTS}"):
        await make().complete(ask())
    assert len(fake.requests) == ATTEMPTS


async def test_refused_connection_is_retried_then_reported(
    make: Callable[..., OpenAICompatGenerator], refused_url: str
) -> None:
    with pytest.raises(GenerationError, match=rf"cannot reach.*gave up after {ATTEMPTS}"):
        await make(url=refused_url).complete(ask())


@pytest.mark.parametrize("mode", ["drop", "eof"])
async def test_a_stream_broken_before_the_first_token_is_retried(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator], mode: Any
) -> None:
    fake.break_next(after_tokens=0, mode=mode)

    assert await make().complete(ask()) == SENTENCE
    assert len(fake.requests) == 2


@pytest.mark.parametrize("mode", ["drop", "eof", "error"])
async def test_a_stream_broken_after_tokens_raises_and_is_not_retried(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator], mode: Any
) -> None:
    fake.break_next(after_tokens=3, mode=mode)
    received: list[str] = []

    with pytest.raises(GenerationError) as caught:
        await collect(make().stream(ask()), received)

    assert "".join(received) == "alpha beta gamma"
    assert len(fake.requests) == 1
    expected = "CUDA out of memory" if mode == "error" else "not retried"
    assert expected in str(caught.value)


async def test_an_error_event_before_the_first_token_is_not_retried(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.break_next(after_tokens=0, mode="error")

    with pytest.raises(GenerationError, match="CUDA out of memory"):
        await make().complete(ask())
    assert len(fake.requests) == 1


async def test_a_bad_request_surfaces_the_server_message(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.fail_next(1, 400, "max_tokens must be at most 4096")

    with pytest.raises(GenerationError, match="HTTP 400: max_tokens must be at most 4096"):
        await make().complete(ask())
    assert len(fake.requests) == 1


async def test_an_unknown_model_surfaces_the_server_message(
    fake: FakeOpenAIServer, base_url: str
) -> None:
    generator = OpenAICompatGenerator(base_url, "gone-model", backoff=FAST)
    try:
        with pytest.raises(GenerationError, match="HTTP 404: The model `gone-model` does not"):
            await generator.complete(ask())
    finally:
        await generator.aclose()
    assert len(fake.requests) == 1


# --- time limits, concurrency and cancellation --------------------------------------------------


async def test_a_slow_stream_times_out_and_the_server_sees_it_go(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.token_delay_s = 0.05
    received: list[str] = []

    with pytest.raises(GenerationTimeout, match=r"within 0\.12s"):
        await collect(make().stream(ask(timeout_s=0.12)), received)

    assert 0 < len(received) < len(WORDS)
    await asyncio.wait_for(fake.disconnected.wait(), 1)


async def test_the_constructor_timeout_is_the_default(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.token_delay_s = 0.05

    with pytest.raises(GenerationTimeout):
        await make(timeout_s=0.08).complete(ask())


async def test_at_most_max_concurrency_streams_run_at_once(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.token_delay_s = 0.002
    generator = make(max_concurrency=2)

    answers = await asyncio.gather(*(generator.complete(ask(f"q{i} {SENTENCE}")) for i in range(6)))

    assert answers == [f"q{i} {SENTENCE}" for i in range(6)]
    assert fake.max_active_streams == 2


async def test_too_many_waiting_is_refused_at_once_and_waiting_times_out(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.token_delay_s = 0.05
    generator = make(max_concurrency=1, max_waiting=1)
    holder = closable(generator.stream(ask()))
    await anext(holder)  # holds the only stream
    waiter = asyncio.create_task(generator.complete(ask(timeout_s=0.1)))
    await asyncio.sleep(0.01)  # the waiter is now queued for the slot

    with pytest.raises(GeneratorBusy, match="queue for openai-compat:fake-echo is full"):
        await generator.complete(ask())
    with pytest.raises(GenerationTimeout, match="no free stream"):
        await waiter
    await holder.aclose()
    assert await generator.complete(ask("now free")) == "now free"


async def test_closing_the_stream_closes_the_connection_and_generation_stops(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.token_delay_s = 0.01
    pieces = closable(make().stream(ask(" ".join(f"w{i}" for i in range(100)))))
    assert await anext(pieces) == "w0"

    await pieces.aclose()

    await asyncio.wait_for(fake.disconnected.wait(), 1)
    [record] = fake.streams
    assert record.client_disconnected
    assert not record.finished
    assert record.tokens_sent < 10


async def test_cancelling_a_consumer_waiting_for_a_token_closes_the_connection(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.token_delay_s = 0.1
    generator = make()
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in generator.stream(ask()):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 2)
    task.cancel()  # lands inside the generator, which is waiting for the next token

    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(fake.disconnected.wait(), 1)
    assert fake.streams[0].tokens_sent < len(WORDS)
