"""Passage vectors survive a restart; edits, other encoders and damaged files miss the cache."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.knowledge import KnowledgeBase, Passage
from bot.knowledge.vector_cache import VectorCache
from bot.nlu.encoder import Vectors


class CountingEncoder:
    dimension = 16

    def __init__(self) -> None:
        self.texts = 0

    def encode(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            digest = hashlib.blake2b(text.encode(), digest_size=self.dimension).digest()
            out[row] = np.frombuffer(digest, dtype=np.uint8).astype(np.float32) + 1.0
            out[row] /= np.linalg.norm(out[row])
        return out


def passages(text: str = "Returns are free within 30 days.") -> list[Passage]:
    return [Passage(id="r#w", source="r.md", title="Returns", heading="Window", text=text)]


async def load(cache: VectorCache, items: list[Passage]) -> tuple[float, CountingEncoder]:
    """Loads a base and returns the similarity of its best hit for a fixed question."""
    encoder = CountingEncoder()
    base = KnowledgeBase(items, encoder, cache=cache)
    await base.load()
    hits = await base.search("how long for returns?")
    await base.aclose()
    return hits[0].similarity, encoder


def damage(folder: Path) -> None:
    (file,) = folder.glob("*.npy")
    file.write_bytes(b"not a numpy file")


async def test_second_start_embeds_nothing_and_finds_the_same(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "vectors", "enc-1")
    first, cold = await load(cache, passages())
    second, warm = await load(cache, passages())
    assert cold.texts > 0
    assert warm.texts == 1  # only the question
    assert second == first
    assert list((tmp_path / "vectors").glob("*.npy"))


async def test_edited_text_or_other_encoder_misses(tmp_path: Path) -> None:
    await load(VectorCache(tmp_path, "enc-1"), passages())
    _, edited = await load(VectorCache(tmp_path, "enc-1"), passages("Returns: 60 days."))
    _, other = await load(VectorCache(tmp_path, "enc-2"), passages())
    assert edited.texts > 1
    assert other.texts > 1


async def test_damaged_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path, "enc-1")
    await load(cache, passages())
    damage(tmp_path)
    _, again = await load(cache, passages())
    assert again.texts > 1
    _, warm = await load(cache, passages())
    assert warm.texts == 1


async def test_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _, encoder = await load(VectorCache(blocker / "sub", "enc-1"), passages())
    assert encoder.texts > 1
