"""A TextGenerator that streams a scripted answer: for tests of what surrounds the model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from bot.generation.backend import GenerationError, GenerationRequest, TextGenerator


class ScriptedGenerator(TextGenerator):
    """Streams ``answer`` word by word (or raises ``error``); records every request."""

    name = "scripted"

    def __init__(
        self, answer: str = "", *, error: GenerationError | None = None, delay_s: float = 0.0
    ) -> None:
        self.answer = answer
        self.error = error
        self.delay_s = delay_s
        self.requests: list[GenerationRequest] = []
        self.pieces_sent = 0
        self.closed_early = False

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        words = self.answer.split(" ")
        finished = False
        try:
            for i, word in enumerate(words):
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                self.pieces_sent += 1
                yield word if i == len(words) - 1 else word + " "
            finished = True
        finally:
            self.closed_early = not finished
