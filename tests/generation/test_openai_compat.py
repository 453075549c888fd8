"""OpenAICompatGenerator against the fake OpenAI server on port 0."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.errors import ConfigError
from bot.generation.backend import (
    GenerationError,
    GenerationRequest,
    GenerationTimeout,
    GeneratorBusy,
    TextGenerator,
    messages,
)
from bot.generation.openai_compat import OpenAICompatGenerator
from bot.retry import Backoff

from .contract import GeneratorFactory, TextGeneratorContract, closable
from .fake_openai_server import FakeOpenAIServer, count_tokens

MODEL = "fake-echo"
ATTEMPTS = 3
FAST = Backoff(attempts=ATTEMPTS, base_s=0.005, factor=2.0, cap_s=0.01, jitter=0.0)
SENTENCE = "alpha beta gamma delta epsilon zeta eta theta"
WORDS = SENTENCE.split()


def ask(
    text: str = SENTENCE,
    *,
    max_new_tokens: int = 50,
    stop: tuple[str, ...] = (),
    timeout_s: float | None = None,
) -> GenerationRequest:
    return GenerationRequest(
        messages(("system", "Be brief."), ("user", text)),
        max_new_tokens=max_new_tokens,
        stop=stop,
        timeout_s=timeout_s,
    )


async def collect(pieces: AsyncIterator[str], into: list[str]) -> None:
    """Appends every piece to ``into``, so a test still sees them when the stream fails."""
    async for piece in pieces:
        into.append(piece)


@pytest.fixture
def fake() -> FakeOpenAIServer:
    return FakeOpenAIServer(models=("other-model", MODEL))


@pytest.fixture
async def base_url(fake: FakeOpenAIServer, aiohttp_server: Any) -> str:
    server: TestServer = await aiohttp_server(fake.app())
    return str(server.make_url("/v1"))


@pytest.fixture
async def make(base_url: str) -> AsyncIterator[Callable[..., OpenAICompatGenerator]]:
    """Builds generators for the fake server (fast backoff unless given) and closes them."""
    made: list[OpenAICompatGenerator] = []

    def build(**kwargs: Any) -> OpenAICompatGenerator:
        kwargs.setdefault("backoff", FAST)
        generator = OpenAICompatGenerator(kwargs.pop("url", base_url), MODEL, **kwargs)
        made.append(generator)
        return generator

    yield build
    for generator in made:
        await generator.aclose()


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL whose port is bound but not listening, so connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


class TestOpenAICompatContract(TextGeneratorContract):
    @pytest.fixture
    def generator_factory(self, fake: FakeOpenAIServer, base_url: str) -> GeneratorFactory:
        # A small delay per token keeps streams open long enough to be caught midway.
        fake.token_delay_s = 0.002

        async def create() -> TextGenerator:
            generator = OpenAICompatGenerator(base_url, MODEL, backoff=FAST)
            await generator.start()
            return generator

        return GeneratorFactory(
            create, echo=True, count_tokens=count_tokens, in_flight=lambda: fake.active_streams
        )


# --- requests and streaming -----------------------------------------------------------------------


async def test_sends_the_payload_and_the_bearer_token(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.api_key = "sk-test"
    generator = make(api_key="sk-test")

    answer = await generator.complete(ask(max_new_tokens=7, stop=("zeta", "x", "y", "z", "w")))

    assert answer == "alpha beta gamma delta epsilon "
    [sent] = fake.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.body == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": SENTENCE},
        ],
        "max_tokens": 7,
        "temperature": 0.0,
        "stream": True,
        "stop": ["zeta", "x", "y", "z"],  # OpenAI takes four; the client applies the rest
    }


async def test_no_stop_and_no_key_are_left_out(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    await make().complete(ask())

    [sent] = fake.requests
    assert "stop" not in sent.body
    assert "Authorization" not in sent.headers


async def test_wrong_api_key_is_not_retried_and_says_why(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.api_key = "sk-right"

    with pytest.raises(GenerationError, match=r"HTTP 401: Incorrect API key") as caught:
        await make(api_key="sk-wrong").complete(ask())

    assert not isinstance(caught.value, GenerationTimeout)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
async def test_streams_with_other_line_ends(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator], line_end: str
) -> None:
    fake.line_end = line_end

    pieces = [piece async for piece in make().stream(ask())]

    assert pieces == [WORDS[0]] + [" " + word for word in WORDS[1:]]


@pytest.mark.parametrize(
    ("stop", "answer"),
    [
        (("gamma",), "alpha beta "),
        (("ta ga",), "alpha be"),  # spans two pieces
        (("zzz", "eta"), "alpha b"),  # earliest of several; "eta" is inside "beta"
        (("theta is",), SENTENCE),  # a prefix is held back, then let out at the end
    ],
)
async def test_stop_strings_are_applied_by_the_client_too(
    fake: FakeOpenAIServer,
    make: Callable[..., OpenAICompatGenerator],
    stop: tuple[str, ...],
    answer: str,
) -> None:
    fake.honour_stop = False  # like a server that ignores "stop"

    pieces = [piece async for piece in make().stream(ask(stop=stop))]

    assert "".join(pieces) == answer
    assert all(pieces)


async def test_an_empty_answer_yields_nothing(make: Callable[..., OpenAICompatGenerator]) -> None:
    assert [piece async for piece in make().stream(ask("   "))] == []


async def test_a_server_that_ignores_stream_is_understood(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.ignore_stream = True

    pieces = [piece async for piece in make().stream(ask(stop=("delta",)))]

    assert pieces == ["alpha beta gamma "]


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


# --- start, close, configuration ----------------------------------------------------------------


async def test_start_finds_the_model(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.api_key = "sk-test"
    generator = make(api_key="sk-test")

    await generator.start()
    await generator.start()

    assert [r.path for r in fake.requests] == ["/v1/models", "/v1/models"]
    assert fake.requests[0].headers["Authorization"] == "Bearer sk-test"


async def test_start_names_the_served_models_when_ours_is_missing(base_url: str) -> None:
    generator = OpenAICompatGenerator(base_url, "llama-70b")
    try:
        with pytest.raises(GenerationError, match="'llama-70b'; it serves: other-model, fake-echo"):
            await generator.start()
    finally:
        await generator.aclose()


async def test_start_reports_an_unreachable_server(
    make: Callable[..., OpenAICompatGenerator], refused_url: str
) -> None:
    with pytest.raises(GenerationError, match="cannot reach the generation server"):
        await make(url=refused_url).start()


async def test_start_reports_a_rejected_key(
    fake: FakeOpenAIServer, make: Callable[..., OpenAICompatGenerator]
) -> None:
    fake.api_key = "sk-right"

    with pytest.raises(GenerationError, match=r"HTTP 401 \(check the API key\)"):
        await make().start()


async def test_a_session_passed_in_is_left_open(base_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        generator = OpenAICompatGenerator(base_url, MODEL, session=session)

        assert await generator.complete(ask("hello there")) == "hello there"
        await generator.aclose()

        assert not session.closed


@pytest.mark.parametrize(
    ("url", "kwargs", "key"),
    [
        ("localhost:8000/v1", {}, "generator.base_url"),
        ("http://h/v1", {"timeout_s": 0}, "generator.timeout_s"),
        ("http://h/v1", {"connect_timeout_s": -1}, "generator.connect_timeout_s"),
        ("http://h/v1", {"max_concurrency": 0}, "generator.max_concurrency"),
        ("http://h/v1", {"max_waiting": -1}, "generator.max_waiting"),
    ],
)
def test_bad_configuration_is_refused(url: str, kwargs: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        OpenAICompatGenerator(url, MODEL, **kwargs)
    assert caught.value.key == key


def test_urls_are_built_from_the_base() -> None:
    generator = OpenAICompatGenerator("http://gpu-box:8000/v1/", MODEL)

    assert str(generator.completions_url) == "http://gpu-box:8000/v1/chat/completions"
    assert str(generator.models_url) == "http://gpu-box:8000/v1/models"


async def test_fake_server_answers_without_streaming(base_url: str) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "a b c"}], "max_tokens": 2}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/chat/completions", json=body) as response,
    ):
        answer = await response.json()

    assert answer["choices"][0]["message"]["content"] == "a b"
    assert answer["choices"][0]["finish_reason"] == "length"
