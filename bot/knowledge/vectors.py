"""Dense vectors of the passages: three views of each, each catching different questions.

A whole passage embeds its topic but blurs its details; its heading alone is close to how
shoppers ask ("cancellation fees"); single sentences match questions about one detail ("can I
pay cash on delivery?"). ``benchmarks/retrieval.py`` measured each view and their mix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.knowledge.passages import Passage

Matrix = npt.NDArray[np.float32]

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
_MIN_SENTENCE_WORDS = 3


def sentences(text: str) -> list[str]:
    """The sentences and list items of a passage that are long enough to carry meaning."""
    parts = [s.strip() for s in _SENTENCE_END.split(text)]
    kept = [s for s in parts if len(s.split()) >= _MIN_SENTENCE_WORDS]
    return kept or [text]


def nearest_first(scores: npt.ArrayLike) -> tuple[int, ...]:
    """Positions of ``scores`` from the highest down; ties keep their text order.

    Serving (search hits) and training prompts order a passage's sentences with this, so the
    model is trained on the order it is shown.
    """
    return tuple(int(i) for i in np.argsort(-np.asarray(scores), kind="stable"))


@dataclass(frozen=True, slots=True)
class DenseWeights:
    """How much each view contributes to a passage's dense similarity (normalised to sum 1)."""

    passage: float
    heading: float
    sentence: float

    def __post_init__(self) -> None:
        values = (self.passage, self.heading, self.sentence)
        if min(values) < 0 or sum(values) <= 0:
            raise ValueError(f"dense weights must be >= 0 and not all 0, got {values}")


@dataclass(frozen=True, slots=True, eq=False)
class PassageVectors:
    """The embedded views of a list of passages, row ``i`` belonging to passage ``i``.

    Attributes:
        passages: one vector per passage (title, heading and text).
        headings: one vector per passage (title and heading only).
        sentences: one vector per sentence, grouped by passage in passage order.
        sentence_starts: index of each passage's first sentence row (for ``reduceat``).
    """

    passages: Matrix
    headings: Matrix
    sentences: Matrix
    sentence_starts: npt.NDArray[np.intp]

    @staticmethod
    def texts(passages: Sequence[Passage]) -> tuple[list[str], list[int]]:
        """All texts to embed, in the order :meth:`from_vectors` expects, and sentence counts."""
        counts = [len(sentences(p.text)) for p in passages]
        texts = [p.embedding_text for p in passages]
        texts += [f"{p.title}. {p.heading}" for p in passages]
        texts += [s for p in passages for s in sentences(p.text)]
        return texts, counts

    @classmethod
    def from_vectors(cls, vectors: Matrix, sentence_counts: Sequence[int]) -> PassageVectors:
        """Splits the embedded :meth:`texts` back into their views."""
        n = len(sentence_counts)
        starts = np.concatenate(([0], np.cumsum(sentence_counts)[:-1])).astype(np.intp)
        return cls(vectors[:n], vectors[n : 2 * n], vectors[2 * n :], starts)

    def sentence_scores(self, query: Matrix) -> Matrix:
        """Cosine similarity of one normalised query vector to every sentence row."""
        return self.sentences @ query

    def sentence_order(self, sentence_scores: Matrix, index: int) -> tuple[int, ...]:
        """Passage ``index``'s sentences (positions in :func:`sentences`), most similar first.

        Args:
            sentence_scores: :meth:`sentence_scores` of the query.
            index: the passage.
        """
        start = int(self.sentence_starts[index])
        stop = (
            int(self.sentence_starts[index + 1])
            if index + 1 < len(self.sentence_starts)
            else len(self.sentences)
        )
        return nearest_first(sentence_scores[start:stop])

    def similarity(
        self, query: Matrix, weights: DenseWeights, sentence_scores: Matrix | None = None
    ) -> Matrix:
        """Weighted cosine similarity of one normalised query vector to every passage.

        ``sentence_scores`` (:meth:`sentence_scores` of the same query) saves computing them
        again when the caller needs them too.
        """
        total = weights.passage + weights.heading + weights.sentence
        score = (weights.passage / total) * (self.passages @ query)
        score += (weights.heading / total) * (self.headings @ query)
        if weights.sentence > 0:
            if sentence_scores is None:
                sentence_scores = self.sentence_scores(query)
            best_sentence = np.maximum.reduceat(sentence_scores, self.sentence_starts)
            score += (weights.sentence / total) * best_sentence
        return score.astype(np.float32, copy=False)
