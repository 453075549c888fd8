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
class ViewCosines:
    """One query's cosine similarity to the views of every passage (index ``i``: passage ``i``).

    Attributes:
        passage: to the whole passage.
        heading: to its title and heading.
        sentence: to its nearest sentence.
        question: to its nearest example question; ``-inf`` where it lists none.
        question_rows: to every example-question row, grouped by passage.
    """

    passage: Matrix
    heading: Matrix
    sentence: Matrix
    question: Matrix
    question_rows: Matrix

    def mix(self, weights: DenseWeights) -> Matrix:
        """The weighted mean of the views; a passage without example questions has three."""
        score = weights.passage * self.passage + weights.heading * self.heading
        score += weights.sentence * self.sentence
        total: Matrix = np.full(
            len(score), weights.passage + weights.heading + weights.sentence, dtype=np.float32
        )
        if weights.question > 0:
            listed = np.isfinite(self.question)
            score[listed] += weights.question * self.question[listed]
            total[listed] += weights.question
        mixed: Matrix = (score / total).astype(np.float32, copy=False)
        return mixed


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

    def cosines(self, query: Matrix, sentence_scores: Matrix | None = None) -> ViewCosines:
        """One normalised query vector's cosine to each view of every passage.

        ``sentence_scores`` (:meth:`sentence_scores` of the same query) saves computing them
        again when the caller needs them too.
        """
        if sentence_scores is None:
            sentence_scores = self.sentence_scores(query)
        question_rows: Matrix = self.questions @ query
        best_question = np.full(len(self.passages), -np.inf, dtype=np.float32)
        np.maximum.at(best_question, self.question_owner, question_rows)
        return ViewCosines(
            self.passages @ query,
            self.headings @ query,
            np.maximum.reduceat(sentence_scores, self.sentence_starts),
            best_question,
            question_rows,
        )

    def nearest_question(self, cosines: ViewCosines, index: int) -> int | None:
        """Position, among passage ``index``'s example questions, of the one nearest the query."""
        start, stop = np.searchsorted(self.question_owner, [index, index + 1])
        if start == stop:
            return None
        return int(np.argmax(cosines.question_rows[start:stop]))
