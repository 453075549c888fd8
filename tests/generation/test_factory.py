"""The configured generator is built without I/O and loads its model at start."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import ROOT, Settings, load_settings
from bot.errors import ConfigError
from bot.generation.backend import GenerationError, GenerationRequest, messages
from bot.generation.factory import DeferredLocalGenerator, create_generator
from bot.generation.openai_compat import OpenAICompatGenerator


def settings_with(**generator: object) -> Settings:
    base = load_settings(ROOT / "config.yml", env={})
    return dataclasses.replace(base, generator=dataclasses.replace(base.generator, **generator))


def test_openai_backend_is_built_from_settings() -> None:
    generator = create_generator(
        settings_with(backend="openai", model="big", base_url="http://h/v1")
    )
    assert isinstance(generator, OpenAICompatGenerator)
    assert generator.model == "big"


def test_a_missing_adapter_means_the_base_model(tmp_path: Path) -> None:
    generator = create_generator(settings_with(adapter=str(tmp_path / "none")))
    assert isinstance(generator, DeferredLocalGenerator)
    assert generator._adapter is None


def test_bad_generator_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"generator\.backend"):
        settings_with(backend="llama.cpp")
    with pytest.raises(ConfigError, match=r"generator\.min_overlap"):
        settings_with(min_overlap=1.5)


async def test_the_local_generator_loads_its_folder_at_start(tiny_model_dir: Path) -> None:
    generator = create_generator(settings_with(model=str(tiny_model_dir), adapter=""))
    request = GenerationRequest(messages(("user", "where is my order")), max_new_tokens=4)
    with pytest.raises(GenerationError, match="still loading"):
        await generator.complete(request)
    await generator.start()
    try:
        pieces = generator.stream(request)
        async for _ in pieces:
            break
        await pieces.aclose()
        assert isinstance(await generator.complete(request), str)
    finally:
        await generator.aclose()
