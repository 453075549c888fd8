"""Dense vectors of the passages: up to four views of each, each catching different questions.

A whole passage embeds its topic but blurs its details; its heading alone is close to how
shoppers ask ("cancellation fees"); single sentences match questions about one detail ("can I
pay cash on delivery?"); the example questions a section lists (``<!-- questions: -->``) match
shoppers' own wording, since a question is nearer another phrasing of itself than the policy
sentence that answers it. ``benchmarks/retrieval.py`` measured each view and their mix.
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
    """How much each view contributes to a passage's dense similarity (normalised to sum 1).

    A passage that lists no example questions is scored on the other three views alone, their
    weights normalised among themselves, so it is neither favoured nor penalised for that.
    """

    passage: float
    heading: float
    sentence: float
    question: float = 0.0

    def __post_init__(self) -> None:
        values = (self.passage, self.heading, self.sentence, self.question)
        if min(values) < 0 or sum(values[:3]) <= 0:
            raise ValueError(
                f"dense weights must be >= 0 and passage, heading and sentence not all 0, "
                f"got {values}"
            )


@dataclass(frozen=True, slots=True)
class ViewLayout:
    """How many sentence and example-question rows each passage has in the embedded texts."""

    sentence_counts: tuple[int, ...]
    question_counts: tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False)
class PassageVectors:
    """The embedded views of a list of passages, row ``i`` belonging to passage ``i``.

    Attributes:
        passages: one vector per passage (title, heading and text).
        headings: one vector per passage (title and heading only).
        sentences: one vector per sentence, grouped by passage in passage order.
        sentence_starts: index of each passage's first sentence row (for ``reduceat``).
        questions: one vector per example question, grouped by passage in passage order.
        question_owner: the passage of each question row.
    """

    passages: Matrix
    headings: Matrix
    sentences: Matrix
    sentence_starts: npt.NDArray[np.intp]
    questions: Matrix
    question_owner: npt.NDArray[np.intp]

    @staticmethod
    def texts(passages: Sequence[Passage]) -> tuple[list[str], ViewLayout]:
        """All texts to embed, in the order :meth:`from_vectors` expects, and their layout."""
        layout = ViewLayout(
            tuple(len(sentences(p.text)) for p in passages),
            tuple(len(p.questions) for p in passages),
        )
        texts = [p.embedding_text for p in passages]
        texts += [f"{p.title}. {p.heading}" for p in passages]
        texts += [s for p in passages for s in sentences(p.text)]
        texts += [q for p in passages for q in p.questions]
        return texts, layout

    @classmethod
    def from_vectors(cls, vectors: Matrix, layout: ViewLayout) -> PassageVectors:
        """Splits the embedded :meth:`texts` back into their views."""
        n = len(layout.sentence_counts)
        starts = np.concatenate(([0], np.cumsum(layout.sentence_counts)[:-1])).astype(np.intp)
        first_question = 2 * n + sum(layout.sentence_counts)
        owner = np.repeat(np.arange(n, dtype=np.intp), layout.question_counts)
        return cls(
            vectors[:n],
            vectors[n : 2 * n],
            vectors[2 * n : first_question],
            starts,
            vectors[first_question:],
            owner,
        )

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
        score = weights.passage * (self.passages @ query)
        score += weights.heading * (self.headings @ query)
        if weights.sentence > 0:
            if sentence_scores is None:
                sentence_scores = self.sentence_scores(query)
            best_sentence = np.maximum.reduceat(sentence_scores, self.sentence_starts)
            score += weights.sentence * best_sentence
        total: Matrix = np.full(
            len(score), weights.passage + weights.heading + weights.sentence, dtype=np.float32
        )
        if weights.question > 0 and len(self.question_owner):
            best_question = np.full(len(score), -np.inf, dtype=np.float32)
            np.maximum.at(best_question, self.question_owner, self.questions @ query)
            listed = np.isfinite(best_question)
            score[listed] += weights.question * best_question[listed]
            total[listed] += weights.question
        normalised: Matrix = (score / total).astype(np.float32, copy=False)
        return normalised
