"""Adapter for a transformers causal LM served in this process, with continuous batching.

::

    generator = LocalGenerator(resolve_model_folder("smollm2"), adapter_dir=Path("models/lora"))
    await generator.start()  # loads in a worker thread, then starts the scheduler thread
    async for piece in generator.stream(request):
        ...
    await generator.aclose()

One scheduler thread (:mod:`bot.generation.scheduler`) owns the model and runs the decode loop;
requests that arrive while others are generating join the running batch between two decode
steps (their KV cache is merged into the batch's), so 32 shoppers cost far fewer forward passes
than 32 answers one after another. The event loop never waits for the model: text reaches it
through ``loop.call_soon_threadsafe`` into one ``asyncio.Queue`` per request.

A LoRA adapter (a folder with ``adapter_config.json``, as ``concierge train-generator`` writes)
is merged into the base weights at load time: each step then costs what the base model costs,
with no extra low-rank matmuls, at the price of one adapter per loaded model.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.generation.backend import (
    ChatMessage,
    GenerationError,
    GenerationRequest,
    GenerationTimeout,
    TextGenerator,
)
from bot.generation.scheduler import Delivery, Job, Scheduler, SchedulerStats
from bot.generation.tokenize import prompt_ids

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Loaded:
    model: Any
    tokenizer: Any  # the scheduler thread's
    counter: Any  # a second instance for prompt_tokens(): fast tokenizers are not thread-safe
    eos_ids: frozenset[int]


class LocalGenerator(TextGenerator):
    """Streams answers from a Hugging Face causal LM folder, batching concurrent requests.

    At most ``max_batch`` answers are decoded together; up to ``max_waiting`` more wait for a
    row and any beyond that are refused with :class:`GeneratorBusy` at once. Nothing is read
    from disk before :meth:`start`.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        adapter_dir: Path | None = None,
        device: str = "cpu",
        dtype: str | None = None,
        max_batch: int = 8,
        max_wait_ms: float = 5.0,
        max_waiting: int = 64,
        timeout_s: float = 60.0,
        threads: int | None = None,
        prefill_tokens: int = 512,
    ) -> None:
        """Configures the generator; loads nothing.

        Args:
            model_dir: A folder with ``config.json``, safetensors weights and a tokenizer
                with a chat template (``resolve_model_folder`` gives one).
            adapter_dir: A LoRA adapter to merge in; ignored unless it has
                ``adapter_config.json``.
            device: ``cpu``, ``cuda`` or ``cuda:N``.
            dtype: ``float32``, ``bfloat16`` or ``float16``; None is float32 on CPU (bf16
                matmuls are slow there) and bf16 on a GPU that has it.
            max_batch: Answers decoded together.
            max_wait_ms: How long an idle model waits for companions before a prefill.
            max_waiting: Requests that may wait for a row before more are refused.
            timeout_s: Default limit for a whole answer, waiting included;
                ``GenerationRequest.timeout_s`` overrides it.
            threads: torch's intra-op threads (process-wide); None keeps torch's default.
            prefill_tokens: Prompt tokens prefilled per step, at least one prompt; a burst of
                arrivals is spread over steps so running answers keep streaming.

        Raises:
            ConfigError: A limit is out of range or the dtype is unknown.
        """
        if max_batch < 1 or max_waiting < 1 or prefill_tokens < 1:
            raise ConfigError(
                "generator.max_batch", "batch, waiting and prefill limits must be >= 1"
            )
        if timeout_s <= 0 or max_wait_ms < 0:
            raise ConfigError("generator.timeout_s", "timeouts must be positive")
        if dtype not in (None, "float32", "bfloat16", "float16"):
            raise ConfigError("generator.dtype", f"unknown dtype {dtype!r}")
        self.model_dir = model_dir
        self.adapter_dir = adapter_dir
        self.device = device
        self.dtype = dtype
        self.max_batch = max_batch
        self.max_wait_ms = max_wait_ms
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s
        self.threads = threads
        self.prefill_tokens = prefill_tokens
        self.name = f"local:{model_dir.name}"
        self._start_lock = asyncio.Lock()
        self._loaded: _Loaded | None = None
        self._scheduler: Scheduler | None = None
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        """Loads the model off the event loop and starts the scheduler thread; idempotent.

        Raises:
            GenerationError: The folder cannot be loaded as a causal LM, or its cache cannot
                be batched.
        """
        async with self._start_lock:
            if self._thread is not None:
                return
            loaded = await asyncio.to_thread(self._load)
            scheduler = Scheduler(
                loaded.model,
                loaded.tokenizer,
                device=loaded.model.device,
                max_batch=self.max_batch,
                max_wait_s=self.max_wait_ms / 1000,
                max_waiting=self.max_waiting,
                prefill_tokens=self.prefill_tokens,
                eos_ids=loaded.eos_ids,
            )
            thread = threading.Thread(
                target=self._serve, args=(scheduler,), name=f"{self.name}-scheduler", daemon=True
            )
            thread.start()
            self._loaded, self._scheduler, self._thread = loaded, scheduler, thread
            log.info("%s ready on %s (max batch %d)", self.name, self.device, self.max_batch)

    async def aclose(self) -> None:
        """Fails what is still running, stops the scheduler thread and drops the model."""
        scheduler, thread = self._scheduler, self._thread
        self._scheduler = self._thread = None
        self._loaded = None
        if scheduler is None or thread is None:
            return
        scheduler.close()
        await asyncio.to_thread(thread.join)

    @property
    def in_flight(self) -> int:
        """Generations waiting or running (0 when not started)."""
        return 0 if self._scheduler is None else self._scheduler.in_flight

    @property
    def stats(self) -> SchedulerStats:
        """Counters since the last start: answers, tokens, forward passes, widest batch."""
        if self._scheduler is None:
            return SchedulerStats(0, 0, 0, 0, 0)
        return self._scheduler.stats

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """How many tokens the prompt for ``messages`` takes, the opened answer included.

        Runs the chat template and the tokenizer on the calling thread (about a millisecond
        for a 400-token prompt).

        Raises:
            GenerationError: The generator has not been started.
        """
        if self._loaded is None:
            raise GenerationError(f"{self.name} is not started")
        return len(prompt_ids(self._loaded.counter, messages))

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        """Yields the answer's text as the scheduler produces it.

        Raises:
            GeneratorBusy: ``max_waiting`` requests are already waiting.
            GenerationTimeout: The answer was not complete within its time limit.
            GenerationError: The generator is not started, was closed, or the model failed.
        """
        scheduler = self._scheduler
        if scheduler is None:
            raise GenerationError(f"{self.name} is not started")
        loop = asyncio.get_running_loop()
        budget = request.timeout_s if request.timeout_s is not None else self.timeout_s
        deadline = loop.time() + budget
        queue: asyncio.Queue[Delivery] = asyncio.Queue()

        def deliver(item: Delivery) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is closed: nobody is left to read
                job.cancelled = True

        job = Job(request, deliver)
        scheduler.submit(job)
        try:
            while True:
                # The deadline covers only the waits for the model, never the consumer's own
                # awaits, so a timeout cannot cancel the consumer in the middle of its work.
                try:
                    async with asyncio.timeout_at(deadline):
                        item = await queue.get()
                except TimeoutError as exc:
                    raise GenerationTimeout(
                        f"the answer from {self.name} was not complete within {budget:g}s"
                    ) from exc
                if item is None:
                    return
                if isinstance(item, GenerationError):
                    raise item
                yield item
        finally:
            # Closed early, cancelled, timed out or done: the scheduler drops the row at its
            # next step, so an abandoned answer stops costing model time.
            job.cancelled = True

    def _load(self) -> _Loaded:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from bot.generation.model_files import dtype_for

        if self.threads:
            torch.set_num_threads(self.threads)
        dtype = self.dtype or dtype_for(self.device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
            counter = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
            model: Any = AutoModelForCausalLM.from_pretrained(
                self.model_dir, dtype=getattr(torch, dtype), local_files_only=True
            )
            if (
                self.adapter_dir is not None
                and (self.adapter_dir / "adapter_config.json").is_file()
            ):
                model = _merge_adapter(model, self.adapter_dir)
            model = model.to(self.device).eval()
        except (OSError, ValueError, RuntimeError) as exc:
            raise GenerationError(f"cannot load the model in {self.model_dir}: {exc}") from exc
        if tokenizer.chat_template is None:
            raise GenerationError(f"the tokenizer in {self.model_dir} has no chat template")
        eos = {tokenizer.eos_token_id, *_ids(model.config.eos_token_id)}
        if model.generation_config is not None:
            eos.update(_ids(model.generation_config.eos_token_id))
        return _Loaded(model, tokenizer, counter, frozenset(i for i in eos if i is not None))

    def _serve(self, scheduler: Scheduler) -> None:
        import torch

        if self.threads:
            torch.set_num_threads(self.threads)  # OpenMP settings are per thread
        scheduler.run()


def _merge_adapter(model: Any, adapter_dir: Path) -> Any:
    """The base model with the LoRA adapter folded into its weights."""
    from peft import PeftModel

    log.info("merging the adapter in %s into the base weights", adapter_dir)
    return PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]
