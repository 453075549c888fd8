"""Builds the configured text generator without doing any I/O (loading happens in ``start``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from pathlib import Path

from bot.config import GeneratorConfig, Settings
from bot.generation.backend import GenerationError, GenerationRequest, TextGenerator


class DeferredLocalGenerator(TextGenerator):
    """The in-process model, whose folder is resolved (a GGUF converted once) at start.

    Resolving can take tens of seconds the first time, so it belongs to the app's start-up,
    off the event loop, not to construction.
    """

    def __init__(self, config: GeneratorConfig, adapter: Path | None) -> None:
        self._config = config
        self._adapter = adapter
        self._cache_dir = Path(config.cache_dir).expanduser()
        self._inner: TextGenerator | None = None
        self._lock = asyncio.Lock()
        self.name = f"local:{config.model}"

    async def start(self) -> None:
        from bot.generation.local import LocalGenerator
        from bot.generation.model_files import resolve_model_folder

        async with self._lock:
            if self._inner is not None:
                return
            config = self._config
            folder = await asyncio.to_thread(
                resolve_model_folder, config.model, cache_dir=self._cache_dir
            )
            inner = LocalGenerator(
                folder,
                adapter_dir=self._adapter,
                device=config.device,
                max_batch=config.max_batch,
                max_waiting=config.max_waiting,
                timeout_s=config.timeout_s,
            )
            await inner.start()
            self._inner = inner

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        if self._inner is None:
            raise GenerationError("the generator is still loading")
        # aclosing: leaving this stream early must close the inner one at once, so the
        # scheduler frees the row now rather than when the generator is garbage-collected.
        async with contextlib.aclosing(self._inner.stream(request)) as pieces:
            async for piece in pieces:
                yield piece

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def create_generator(settings: Settings) -> TextGenerator:
    """The generator ``settings.generator`` describes (not started)."""
    config = settings.generator
    if config.backend == "openai":
        from bot.generation.openai_compat import OpenAICompatGenerator

        return OpenAICompatGenerator(
            config.base_url,
            config.model,
            api_key=config.api_key or None,
            timeout_s=config.timeout_s,
            max_waiting=config.max_waiting,
        )
    adapter = settings.path(config.adapter) if config.adapter else None
    if adapter is not None and not (adapter / "adapter_config.json").is_file():
        adapter = None  # no adapter trained there: the base model answers
    return DeferredLocalGenerator(config, adapter)
