"""Fixtures for the NLU tests: a small word-vector encoder, a catalog, a trained tiny model."""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.catalog import Catalog, CatalogProduct
from bot.nlu.classifier import FloatArray, HeadConfig, IntentClassifier, fit_head
from bot.nlu.encoder import BatchingEncoder

REPO = Path(__file__).resolve().parents[2]


class HashedWordsEncoder:
    """A deterministic bag-of-words encoder: each word lights a hashed dimension.

    It satisfies the TextEncoder protocol without loading MiniLM, so classifier and
    interpreter tests run in milliseconds while still learning from real text.
    """

    def __init__(self, dimension: int = 64) -> None:
        self._dimension = dimension
        self.calls: list[int] = []

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self._dimension] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


TINY_DATA = {
    "track_order": ["where is my order", "track my order", "order status please", "where is it"],
    "greet": ["hello", "hi there", "good morning", "hey"],
    "thanks": ["thanks", "thank you", "many thanks", "cheers mate"],
    "inform": ["it is", "my email is", "here it is", "the number is"],
    "out_of_scope": ["tell me a joke", "weather today", "who won the game", "sing a song"],
}


@pytest.fixture
def words_encoder() -> HashedWordsEncoder:
    return HashedWordsEncoder()


@pytest.fixture
def tiny_classifier(words_encoder: HashedWordsEncoder) -> IntentClassifier:
    intents = sorted(TINY_DATA)
    texts = [t for name in intents for t in TINY_DATA[name]]
    labels = np.array([intents.index(n) for n in intents for _ in TINY_DATA[n]], dtype=np.int64)
    model, _ = fit_head(
        words_encoder.encode(texts),
        labels,
        intents,
        HeadConfig(hidden=32, epochs=60, batch_size=8, learning_rate=1e-2, label_smoothing=0.0),
        seed=0,
    )
    return model


@pytest.fixture
async def batching(words_encoder: HashedWordsEncoder) -> AsyncIterator[BatchingEncoder]:
    encoder = BatchingEncoder(words_encoder)
    yield encoder
    await encoder.aclose()


@pytest.fixture
def small_catalog() -> Catalog:
    return Catalog.of(
        [
            CatalogProduct(
                "Trail Runner Shoe",
                (("size", "9"), ("size", "10"), ("color", "black"), ("color", "blue")),
            ),
            CatalogProduct("Rain Shell Jacket", (("size", "M"), ("color", "forest green"))),
            CatalogProduct("Down Puffer Jacket", (("size", "L"), ("color", "navy"))),
            CatalogProduct("Merino Base Layer", (("weight", "light"),)),
            CatalogProduct("Merino Base Layer Bottom", (("weight", "light"),)),
            CatalogProduct("Rechargeable Headlamp", ()),
            CatalogProduct("Recovery Slide Sandal", (("size", "9"),)),
        ]
    )
