"""Fixtures for the generation tests: a tiny chat model saved like a real one, and the fake
OpenAI-compatible server with generators built for it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.generation.openai_compat import OpenAICompatGenerator
from tests.generation.fake_openai_server import FakeOpenAIServer
from tests.generation.openai_support import FAST, MODEL
from tests.generation.tiny_model import create_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny random Llama and a 512-token BPE tokenizer with SmolLM2's template.

    Built once per session (a fraction of a second); tests must not write into it. Load it
    with ``LocalGenerator(tiny_model_dir)`` or ``AutoModelForCausalLM.from_pretrained``.
    """
    return create_tiny_model(tmp_path_factory.mktemp("tiny-model"))


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
