"""What the OpenAI-compatible generator tests share: the model name, backoff and requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.generation.backend import GenerationRequest, messages
from bot.retry import Backoff

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
