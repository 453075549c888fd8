"""OpenAICompatGenerator against the fake OpenAI server on port 0: the contract, requests and
streaming, start, close and configuration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.errors import ConfigError
from bot.generation.backend import (
    GenerationError,
    GenerationTimeout,
    TextGenerator,
)
from bot.generation.openai_compat import OpenAICompatGenerator

from .contract import GeneratorFactory, TextGeneratorContract
from .fake_openai_server import FakeOpenAIServer, count_tokens
from .openai_support import FAST, MODEL, SENTENCE, WORDS, ask


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
