"""Continuous batching for the in-process model: one thread, one running batch, one KV cache.

The scheduler thread owns the model. Between two decode steps it admits waiting requests: their
prompts are prefilled together (left-padded) into a KV cache of their own, which is merged into
the running batch's cache: both are left-padded to the same length and stacked along the batch
dimension. Rows that finish, are cancelled or time out leave the cache before the next step,
with the columns that are padding in every remaining row, so the batch never drags departed
rows' lengths. Dropping and merging rebuild the cache in one copy.

Why merge caches instead of running waves of requests that start together: a wave runs as long
as its longest answer while its finished rows idle, and a request arriving just after a wave
started waits for all of it; merged, a newcomer waits one decode step plus its own prefill and
the batch stays full at 32-64 streams. ``DynamicCache`` (transformers 5) keeps each layer's
keys and values as plain ``[batch, kv_heads, length, head_dim]`` tensors, so merging is tensor
work on them. The running cache's layers are :class:`RoomyLayer` s, which write each step's
keys and values in place instead of concatenating (a full copy of the cache per step). Models
whose cache layers are not plain ``DynamicLayer`` (sliding windows, linear attention) are refused.

Positions: every row counts its own real tokens (left padding does not advance them), and the
attention mask hides padded columns, so a row's numbers do not depend on its neighbours beyond
the float rounding of batched matmuls. Prefill takes at most ``prefill_tokens`` prompt tokens
per step (at least one prompt), so a burst of arrivals does not freeze the running streams.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache

from bot.generation.backend import GenerationError, GenerationRequest, GeneratorBusy, first_stop
from bot.generation.kv_rows import KV_ROOM, RoomyLayer, Rows, check_cache_layers, concat_rows
from bot.generation.tokenize import prompt_ids

log = logging.getLogger(__name__)

Delivery = str | GenerationError | None
"""What the scheduler hands a request: a piece of text, its failure, or None (finished)."""


def cache_argument(model: Any) -> str:
    """The name ``model.forward`` takes its KV cache by.

    transformers 5.24 renamed ``past_key_values`` to ``cache`` (the old name warns, and is to
    go in 5.40); both releases satisfy our requirement, so the name is read from the signature.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft
    parameters = inspect.signature(base.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


@dataclass(eq=False, slots=True)
class Job:
    """One request as the scheduler sees it.

    ``deliver`` must be safe to call from the scheduler thread (it hands over to the event
    loop). ``cancelled`` is set by the consumer's side; a plain bool is enough since the
    scheduler only reads it between steps and a late read costs one step at most.
    """

    request: GenerationRequest
    deliver: Callable[[Delivery], None]
    cancelled: bool = False
    prompt: list[int] = field(default_factory=list)
    budget: int = 0
    generated: list[int] = field(default_factory=list)
    sent: str = ""
    released: bool = False


@dataclass(frozen=True, slots=True)
class SchedulerStats:
    """Counters since start: answers completed, tokens produced, forward passes, widest batch."""

    requests_done: int
    tokens_generated: int
    steps: int
    prefills: int
    peak_batch: int


class Scheduler:
    """Runs the decode loop; :meth:`run` is the body of the generator's thread."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        device: torch.device,
        max_batch: int,
        max_wait_s: float,
        max_waiting: int,
        prefill_tokens: int,
        eos_ids: frozenset[int],
    ) -> None:
        self.model = model
        self._tokenizer = tokenizer
        self._device = device
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._max_waiting = max_waiting
        self._prefill_tokens = prefill_tokens
        self._eos = eos_ids
        self._context = int(getattr(model.config, "max_position_embeddings", 0) or 1 << 30)
        self._pad = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        self._cond = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._closing = False
        self._in_flight = 0
        self._batch = Rows.empty(device)
        self._done = self._tokens = self._steps = self._prefills = self._peak = 0
        check_cache_layers(DynamicCache(config=model.config))
        self._cache_argument = cache_argument(model)

    def _empty_cache(self) -> Any:
        cache = DynamicCache(config=self.model.config)
        cache.layers = [RoomyLayer() for _ in cache.layers]
        return cache

    @property
    def in_flight(self) -> int:
        """Requests accepted and not yet released: waiting, or holding a row."""
        return self._in_flight

    @property
    def stats(self) -> SchedulerStats:
        return SchedulerStats(self._done, self._tokens, self._steps, self._prefills, self._peak)

    def submit(self, job: Job) -> None:
        """Queues ``job``; called from the event loop, holds the lock only briefly.

        Raises:
            GeneratorBusy: ``max_waiting`` requests are already waiting.
            GenerationError: The generator is closing.
        """
        with self._cond:
            if self._closing:
                raise GenerationError("the local generator is closed")
            waiting = sum(1 for queued in self._waiting if not queued.cancelled)
            if waiting >= self._max_waiting:
                raise GeneratorBusy(
                    f"{waiting} generations are already waiting for the local model"
                )
            self._waiting.append(job)
            self._in_flight += 1
            self._cond.notify()

    def close(self) -> None:
        """Asks :meth:`run` to fail what is left and return."""
        with self._cond:
            self._closing = True
            self._cond.notify()

    def run(self) -> None:
        """The decode loop: admit, prefill, regroup, one decode step; returns once closed."""
        with torch.inference_mode():
            while (newcomers := self._admit()) is not None:
                try:
                    for job in self._batch.jobs:
                        if job.cancelled:
                            self._release(job, None)
                    fresh = self._prefill(newcomers) if newcomers else None
                    self._regroup(fresh)
                    if self._batch.jobs:
                        self._step()
                except Exception as exc:
                    # Not the model (its failures are handled where it runs) but a bug or a
                    # decode error: fail the requests involved and keep serving the next ones.
                    log.exception("the local generator's scheduler failed")
                    self._fail(
                        [*newcomers, *self._batch.jobs], f"the local generator failed: {exc}"
                    )
        closed = "the local generator was closed"
        with self._cond:
            left, self._waiting = list(self._waiting), deque()
        self._fail([*left, *self._batch.jobs], closed)

    def _admit(self) -> list[Job] | None:
        """Waiting jobs to start now (maybe none); None once the generator is closing."""
        with self._cond:
            while True:
                if self._closing:
                    return None
                self._purge_waiting()
                if self._batch.jobs or self._waiting:
                    break
                self._cond.wait()
            running = sum(1 for job in self._batch.jobs if not job.released)
            free = self._max_batch - running
            if not running and self._max_wait_s > 0:
                # An idle model waits a moment so requests arriving together share a prefill.
                deadline = time.monotonic() + self._max_wait_s
                while len(self._waiting) < free and not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            taken = [self._waiting.popleft() for _ in range(min(free, len(self._waiting)))]
        admitted: list[Job] = []
        tokens = 0
        for position, job in enumerate(taken):
            if job.cancelled:
                self._release(job, None)
                continue
            if not job.prompt and not self._tokenize(job):
                continue
            if admitted and tokens + len(job.prompt) > self._prefill_tokens:
                with self._cond:  # over this step's prefill budget: back to the queue's front
                    self._waiting.extendleft(reversed(taken[position:]))
                break
            admitted.append(job)
            tokens += len(job.prompt)
        return admitted

    def _purge_waiting(self) -> None:
        cancelled = [job for job in self._waiting if job.cancelled]
        if cancelled:
            self._waiting = deque(job for job in self._waiting if not job.cancelled)
            for job in cancelled:
                job.released = True
            self._in_flight -= len(cancelled)

    def _tokenize(self, job: Job) -> bool:
        """Fills ``job.prompt`` and its token budget; fails the job (False) when it cannot."""
        try:
            job.prompt = prompt_ids(self._tokenizer, job.request.messages)
        except Exception as exc:  # a template error concerns this request only
            self._release(job, GenerationError(f"cannot build the prompt: {exc}"))
            return False
        job.budget = min(job.request.max_new_tokens, self._context - len(job.prompt))
        if job.budget < 1:
            self._release(
                job,
                GenerationError(
                    f"the prompt has {len(job.prompt)} tokens; the model reads {self._context}"
                ),
            )
            return False
        return True

    def _prefill(self, jobs: list[Job]) -> Rows | None:
        """Runs ``jobs``' prompts together and hands out their first tokens."""
        width = max(len(job.prompt) for job in jobs)
        ids = torch.full((len(jobs), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(jobs), width), dtype=torch.long)
        for row, job in enumerate(jobs):
            ids[row, width - len(job.prompt) :] = torch.tensor(job.prompt)
            mask[row, width - len(job.prompt) :] = 1
        ids, mask = ids.to(self._device), mask.to(self._device)
        cache = DynamicCache(config=self.model.config)
        try:
            out = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                **{self._cache_argument: cache},
                use_cache=True,
                logits_to_keep=1,  # the prompt's other logits are never used: skip the big matmul
            )
            tokens = self._choose(out.logits[:, -1, :], jobs)
        except Exception as exc:
            log.exception("prefill of %d prompts failed", len(jobs))
            self._fail(jobs, f"the local model failed: {exc}")
            return None
        self._prefills += 1
        for job, token in zip(jobs, tokens, strict=True):
            self._advance(job, token)
        return Rows(jobs, cache, mask, mask.sum(-1), torch.tensor(tokens, device=self._device))

    def _regroup(self, fresh: Rows | None) -> None:
        """Drops released rows from the batch and merges ``fresh`` rows in, in one copy."""
        batch = self._batch
        if fresh is None and not any(job.released for job in batch.jobs):
            return
        parts = [part for part in (batch, fresh) if part is not None]
        self._batch = concat_rows(parts, self._empty_cache, KV_ROOM)
        self._peak = max(self._peak, len(self._batch.jobs))

    def _step(self) -> None:
        """Feeds every row its last token and hands out the next ones."""
        batch = self._batch
        mask = torch.cat([batch.mask, batch.mask.new_ones((len(batch.jobs), 1))], dim=1)
        try:
            out = self.model(
                input_ids=batch.next[:, None],
                attention_mask=mask,
                position_ids=batch.positions[:, None],
                **{self._cache_argument: batch.cache},
                use_cache=True,
            )
            tokens = self._choose(out.logits[:, -1, :], batch.jobs)
        except Exception as exc:
            # The cache may be half updated: every running request fails, the loop goes on.
            log.exception("decode step for %d rows failed", len(batch.jobs))
            self._fail(batch.jobs, f"the local model failed: {exc}")
            return
        self._steps += 1
        batch.mask, batch.positions = mask, batch.positions + 1
        batch.next = torch.tensor(tokens, device=self._device)
        for job, token in zip(batch.jobs, tokens, strict=True):
            self._advance(job, token)

    def _choose(self, logits: torch.Tensor, jobs: Sequence[Job]) -> list[int]:
        """Greedy at temperature 0, otherwise a sample from the tempered distribution."""
        chosen = logits.argmax(dim=-1)
        sampled = [row for row, job in enumerate(jobs) if job.request.temperature > 0]
        if sampled:
            index = torch.tensor(sampled, device=logits.device)
            temperature = torch.tensor(
                [jobs[row].request.temperature for row in sampled], device=logits.device
            )
            probs = torch.softmax(logits[index].float() / temperature[:, None], dim=-1)
            chosen[index] = torch.multinomial(probs, 1).squeeze(1)
        return [int(token) for token in chosen.tolist()]

    def _advance(self, job: Job, token: int) -> bool:
        """Adds ``token`` to ``job``'s answer and hands out the text that became safe to show.

        Returns whether the answer is complete (end of turn, token budget, or a stop string);
        a complete job has been released.
        """
        self._tokens += 1
        if token in self._eos:
            return self._finish(job, self._decode(job))
        job.generated.append(token)
        text = self._decode(job)
        cut = first_stop(text, job.request.stop)
        if cut is not None:
            return self._finish(job, text[:cut])
        if len(job.generated) >= job.budget:
            return self._finish(job, text)
        self._send(job, text[: len(text) - _held_back(text, job.request.stop)])
        return False

    def _decode(self, job: Job) -> str:
        # The whole answer is decoded each time: a character split across byte-level tokens
        # only decodes once all its bytes are there, which a token-by-token decode would miss.
        text: str = self._tokenizer.decode(
            job.generated, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        return text

    def _send(self, job: Job, text: str) -> None:
        # Decoding is prefix-stable for byte-level and sentencepiece tokenizers; should a
        # tokenizer rewrite earlier text, nothing is sent until the text extends what was sent.
        if len(text) > len(job.sent) and text.startswith(job.sent):
            job.deliver(text[len(job.sent) :])
            job.sent = text

    def _finish(self, job: Job, text: str) -> bool:
        self._send(job, text.rstrip("\ufffd"))
        self._done += 1
        self._release(job, None)
        return True

    def _release(self, job: Job, outcome: GenerationError | None) -> None:
        """Ends ``job`` once: hands over its outcome and frees its place in ``in_flight``."""
        if job.released:
            return
        job.released = True
        with self._cond:
            self._in_flight -= 1  # before delivering: a consumer that sees the end sees 0
        job.deliver(outcome)  # a cancelled job's consumer has left: the delivery is unread

    def _fail(self, jobs: Sequence[Job], error: str) -> None:
        """Fails ``jobs``; when that empties the batch, its cache goes too."""
        for job in jobs:
            self._release(job, GenerationError(error))
        if all(job.released for job in self._batch.jobs):
            self._batch = Rows.empty(self._device)


def _held_back(text: str, stops: Sequence[str]) -> int:
    """Characters at the end of ``text`` not to show yet.

    An incomplete multi-byte character (decoded as U+FFFD) waits for its other bytes, and a
    tail that could be the start of a stop string waits until the next tokens tell.
    """
    held = len(text) - len(text.rstrip("\ufffd"))
    for stop in stops:
        for length in range(min(len(stop) - 1, len(text)), held, -1):
            if text.endswith(stop[:length]):
                held = length
                break
    return held
