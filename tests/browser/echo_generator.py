"""A generator that reads the first passage of its prompt back, slowly: a streamed answer the
guard accepts, so a browser can watch the widget draw it as it comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from bot.generation.backend import GenerationRequest, TextGenerator


class PassageEchoGenerator(TextGenerator):
    """Streams the prompt's first passage word by word, ``delay_s`` apart."""

    name = "echo"

    def __init__(self, delay_s: float = 0.03) -> None:
        self.delay_s = delay_s

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        system = request.messages[0].content
        line = next(line for line in system.splitlines() if line.startswith("[1] "))
        words = line.split(": ", 1)[1].split(" ")
        for i, word in enumerate(words):
            await asyncio.sleep(self.delay_s)
            yield word if i == len(words) - 1 else word + " "
