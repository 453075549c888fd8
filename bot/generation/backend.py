"""The text-generation port: what the answering layer needs from any model backend.

Two adapters implement it: :class:`bot.generation.local.LocalGenerator` (a transformers causal
LM in this process, requests batched by a scheduler thread) and
:class:`bot.generation.openai_compat.OpenAICompatGenerator` (a vLLM / TGI / any server that
speaks OpenAI's streaming chat-completions API). Both pass ``tests/generation/contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.errors import ConciergeError

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One generation.

    Attributes:
        messages: the chat so far; the model writes the next assistant message.
        max_new_tokens: hard cap on generated tokens.
        temperature: 0 is greedy (deterministic); above 0 samples.
        stop: strings that end the answer early (not included in the output).
        timeout_s: the whole generation, queueing included; None uses the backend's default.
    """

    messages: tuple[ChatMessage, ...]
    max_new_tokens: int = 200
    temperature: float = 0.0
    stop: tuple[str, ...] = field(default=())
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a generation needs at least one message")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")


class GenerationError(ConciergeError):
    """A generation failed; the answering layer falls back to the retrieved passage."""


class GeneratorBusy(GenerationError):
    """Too many generations are waiting; the request was refused rather than queued forever."""


class GenerationTimeout(GenerationError):
    """A generation did not finish within its time limit."""


class TextGenerator(ABC):
    """A chat model that streams its answer.

    ``stream`` yields text pieces as the model produces them. Leaving the iteration early
    (``break``, ``aclose()``) or cancelling the task that consumes it cancels the generation,
    so a shopper who disconnects stops costing model time.
    """

    name: str = "generator"

    async def start(self) -> None:  # noqa: B027 - an optional hook, not every backend loads
        """Loads the model or checks the server; safe to call more than once."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook
        """Releases the model or the connection pool."""

    @abstractmethod
    def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        """Yields the answer's text in pieces.

        Raises:
            GeneratorBusy: the waiting queue is full.
            GenerationTimeout: the time limit passed.
            GenerationError: the backend failed.
        """

    async def complete(self, request: GenerationRequest) -> str:
        """The whole answer at once."""
        pieces = [piece async for piece in self.stream(request)]
        return "".join(pieces)


def messages(*pairs: tuple[Role, str]) -> tuple[ChatMessage, ...]:
    """Shorthand: ``messages(("system", s), ("user", q))``."""
    return tuple(ChatMessage(role, content) for role, content in pairs)


def first_stop(text: str, stops: Sequence[str]) -> int | None:
    """Index where the earliest stop string begins in ``text``, or None."""
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None


class ConsumerGone(GenerationError):
    """The shopper's connection closed while the answer streamed; the generation is stopped."""
