"""The behaviour every :class:`~bot.generation.backend.TextGenerator` must show, as a test class.

Usage: subclass :class:`TextGeneratorContract` in a test module, under a name pytest collects
(``Test...``), and give it a ``generator_factory`` fixture returning a :class:`GeneratorFactory`::

    from tests.generation.contract import GeneratorFactory, TextGeneratorContract

    class TestLocalGeneratorContract(TextGeneratorContract):
        @pytest.fixture
        def generator_factory(self, tiny_model_dir: Path) -> GeneratorFactory:
            tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)

            async def create() -> TextGenerator:
                generator = LocalGenerator(tiny_model_dir)
                await generator.start()
                return generator

            return GeneratorFactory(
                create,
                count_tokens=lambda text: len(tokenizer.encode(text, add_special_tokens=False)),
                token_slack=2,  # decoded text can re-tokenise into a few more tokens
            )

Each test gets a fresh, started generator from ``create()`` and closes it afterwards (share an
expensive model between the generators ``create`` returns if loading is slow). What the factory
says about the backend decides how strict the suite is:

* ``echo=True``: the backend answers with the words of the last user message joined by single
  spaces (the fake OpenAI server in ``fake_openai_server.py``); answers are then compared with
  exact strings. Otherwise only properties are checked, as a random model's text is arbitrary.
* ``count_tokens``: counts a text's tokens, to check ``max_new_tokens``; without it the suite
  only checks the answer is at most ``max_chars_per_token`` characters per allowed token.
* ``in_flight``: how many generations the backend is running now; when given, the suite checks
  it falls to 0 after a stream is closed early or its consumer is cancelled.
* ``produces_text=False``: the backend may answer nothing (a random model whose greedy first
  choice is end-of-text), so empty answers are accepted.

Requests use temperature 0, and the suite assumes greedy decoding of one request at a time is
deterministic: it compares a stopped answer with the same answer unstopped. It never compares
answers produced concurrently with sequential ones, since batching may change the numerics.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.generation.backend import GenerationRequest, TextGenerator, messages

WAIT_S = 30.0
"""Upper bound for anything the suite waits for; generous for a model on a busy CPU."""

SYSTEM = "You are the assistant of a small online shop. Answer briefly."
PROMPTS = (
    "Where is my order 1234 and when will it arrive at my home address",
    "Can I return the blue jacket I bought last week if it does not fit me",
    "Do you ship to Norway and how much does express delivery cost there",
    "My parcel arrived damaged, the box was wet and the mug inside is broken",
)
LONG_PROMPT = " ".join(f"word{i}" for i in range(80))


@dataclass(frozen=True)
class GeneratorFactory:
    """How the contract suite gets a generator, and what it may assume about its answers.

    Attributes:
        create: Returns a new, started generator; the suite closes it.
        echo: The backend answers with the last user message's words joined by single spaces.
        count_tokens: Counts the tokens of a text, for the ``max_new_tokens`` check.
        token_slack: Tokens ``count_tokens`` may find beyond ``max_new_tokens``.
        max_chars_per_token: Length bound per token used when ``count_tokens`` is None.
        in_flight: How many generations the backend is running right now.
        produces_text: Whether every answer has at least one character.
    """

    create: Callable[[], Awaitable[TextGenerator]]
    echo: bool = False
    count_tokens: Callable[[str], int] | None = None
    token_slack: int = 0
    max_chars_per_token: int = 32
    in_flight: Callable[[], int] | None = None
    produces_text: bool = True


def request(
    text: str, *, max_new_tokens: int = 24, stop: tuple[str, ...] = ()
) -> GenerationRequest:
    """A greedy request answering ``text`` after a short system prompt."""
    return GenerationRequest(
        messages(("system", SYSTEM), ("user", text)),
        max_new_tokens=max_new_tokens,
        temperature=0.0,
        stop=stop,
        timeout_s=WAIT_S,
    )


def echoed(text: str, max_new_tokens: int = 24) -> str:
    """What an echo backend answers to ``text``."""
    return " ".join(text.split()[:max_new_tokens])


def closable(pieces: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    """``pieces`` typed as what the port promises: an iterator the caller can ``aclose()``."""
    assert isinstance(pieces, AsyncGenerator), "stream() must return an async generator"
    return pieces


async def no_generation_in_flight(factory: GeneratorFactory) -> None:
    """Waits until the backend reports no running generation, if it can report it."""
    if factory.in_flight is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    # Polled: a backend exposes a count, not an event to wait on.
    while (running := factory.in_flight()) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert running == 0, f"{running} generations still running after their consumer left"


def stop_from_middle(answer: str) -> str | None:
    """A stop string taken from the middle of ``answer``, or None if the answer is too short."""
    middle = len(answer) // 2
    for start in range(middle, len(answer) - 2):
        candidate = answer[start : start + 3]
        if candidate.strip() and start > 0:
            return candidate
    return None


class TextGeneratorContract:
    """Tests every TextGenerator must pass; subclass it with a ``generator_factory`` fixture."""

    @pytest.fixture
    async def generator(self, generator_factory: GeneratorFactory) -> AsyncIterator[TextGenerator]:
        generator = await generator_factory.create()
        try:
            yield generator
        finally:
            await generator.aclose()

    async def test_stream_pieces_join_to_complete(
        self, generator: TextGenerator, generator_factory: GeneratorFactory
    ) -> None:
        ask = request(PROMPTS[0])
        pieces = [piece async for piece in generator.stream(ask)]

        assert all(isinstance(piece, str) and piece for piece in pieces), pieces
        assert "".join(pieces) == await generator.complete(ask)
        if generator_factory.produces_text:
            assert pieces
        if generator_factory.echo:
            assert "".join(pieces) == echoed(PROMPTS[0])
            assert len(pieces) > 1, "the answer came in one piece: not streamed"

    @pytest.mark.parametrize("max_new_tokens", [1, 5])
    async def test_max_new_tokens_is_honoured(
        self, generator: TextGenerator, generator_factory: GeneratorFactory, max_new_tokens: int
    ) -> None:
        answer = await generator.complete(request(LONG_PROMPT, max_new_tokens=max_new_tokens))

        if generator_factory.count_tokens is not None:
            tokens = generator_factory.count_tokens(answer)
            assert tokens <= max_new_tokens + generator_factory.token_slack, answer
        assert len(answer) <= max_new_tokens * generator_factory.max_chars_per_token, answer
        if generator_factory.echo:
            assert answer == echoed(LONG_PROMPT, max_new_tokens)

    async def test_stop_string_ends_the_answer(self, generator: TextGenerator) -> None:
        unstopped = await generator.complete(request(PROMPTS[1]))
        stop = stop_from_middle(unstopped)
        if stop is None:
            pytest.skip(f"the answer {unstopped!r} is too short to take a stop string from")

        stopped = await generator.complete(request(PROMPTS[1], stop=("never-said", stop)))

        assert stop not in stopped
        assert stopped == unstopped[: unstopped.find(stop)]

    async def test_closing_the_stream_early_cancels_it(
        self, generator: TextGenerator, generator_factory: GeneratorFactory
    ) -> None:
        pieces = closable(generator.stream(request(LONG_PROMPT, max_new_tokens=64)))
        first = await asyncio.wait_for(anext(pieces, None), WAIT_S)
        await pieces.aclose()

        if generator_factory.produces_text:
            assert first
        await no_generation_in_flight(generator_factory)
        await self._next_request_works(generator, generator_factory)

    async def test_cancelling_the_consumer_cancels_the_stream(
        self, generator: TextGenerator, generator_factory: GeneratorFactory
    ) -> None:
        reading = asyncio.Event()

        async def consume() -> None:
            async for _ in generator.stream(request(LONG_PROMPT, max_new_tokens=64)):
                reading.set()
                # The shopper's connection stalls and the turn is cancelled meanwhile.
                await asyncio.sleep(3600)

        task = asyncio.create_task(consume())
        waiter = asyncio.create_task(reading.wait())
        await asyncio.wait([task, waiter], timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():  # an empty answer ended the stream before there was a piece to read
            assert not generator_factory.produces_text
            await task
        else:
            assert reading.is_set(), f"no piece within {WAIT_S}s"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        await no_generation_in_flight(generator_factory)
        await self._next_request_works(generator, generator_factory)

    async def test_concurrent_requests_all_complete(
        self, generator: TextGenerator, generator_factory: GeneratorFactory
    ) -> None:
        texts = [f"{PROMPTS[i % len(PROMPTS)]} number {i}" for i in range(8)]

        answers = await asyncio.wait_for(
            asyncio.gather(*(generator.complete(request(text)) for text in texts)), WAIT_S
        )

        assert all(isinstance(answer, str) for answer in answers)
        if generator_factory.produces_text:
            assert all(answers), answers
        if generator_factory.echo:
            assert answers == [echoed(text) for text in texts]

    async def test_start_and_aclose_are_idempotent(
        self, generator: TextGenerator, generator_factory: GeneratorFactory
    ) -> None:
        await generator.start()
        await self._next_request_works(generator, generator_factory)

        await generator.aclose()
        await generator.aclose()

    @staticmethod
    async def _next_request_works(generator: TextGenerator, factory: GeneratorFactory) -> None:
        answer = await asyncio.wait_for(generator.complete(request(PROMPTS[2])), WAIT_S)
        if factory.produces_text:
            assert answer
        if factory.echo:
            assert answer == echoed(PROMPTS[2])
