"""The knowledge base: passages embedded once, searched by meaning, keywords and intent."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.knowledge.followup import FollowUpContext
from bot.knowledge.lexical import BM25Index
from bot.knowledge.passages import Passage, load_passages
from bot.knowledge.vector_cache import VectorCache
from bot.knowledge.vectors import DenseWeights, PassageVectors, ViewCosines, sentences
from bot.nlu.encoder import BatchingEncoder, TextEncoder


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    """How the relevance signals rank passages, and when a passage is relevant at all.

    A passage's score is its dense similarity (a weighted mean of the query's cosine similarity
    to the whole passage, to its heading, to its best sentence and to its nearest example
    question, when it lists any), plus ``lexical_weight`` times its BM25 score scaled to [0, 1]
    within the query, plus ``intent_boost`` when the passage declares the query's NLU intent.
    The defaults were chosen with ``benchmarks/retrieval.py`` and ``benchmarks/answer_bars.py``.

    Whether the best passage is relevant enough to answer with is decided on two scales that
    do not depend on whether a knowledge base lists example questions: the text similarity
    (the mean of the first three views) against the caller's bar, or else its nearest example
    question's cosine against ``question_match``.

    Attributes:
        passage_weight: weight of the whole-passage vector in the dense similarity.
        heading_weight: weight of the title-and-heading vector.
        sentence_weight: weight of the passage's best-matching sentence.
        question_weight: weight of the passage's nearest example question.
        lexical_weight: weight of the BM25 keyword score; 0 turns it off.
        intent_boost: added to passages that declare the intent given with the query.
        question_match: an example question at least this near the query makes its passage
            relevant whatever the text similarity (above 1: never).
        context_weight: weight of the conversation's topic in the query vector, beside the
            message's own weight 1, when a search is given one (:mod:`bot.knowledge.followup`);
            0 ignores it.
        standalone_floor: searched with a topic it does not read as following up, a message
            must reach this text similarity to the section on its own to be answered with it.
    """

    passage_weight: float = 0.3
    heading_weight: float = 0.4
    sentence_weight: float = 0.3
    question_weight: float = 1.0
    lexical_weight: float = 0.05
    intent_boost: float = 0.10
    question_match: float = 0.55
    context_weight: float = 0.75
    standalone_floor: float = 0.20

    def __post_init__(self) -> None:
        _ = self.dense_weights  # DenseWeights rejects negative or all-zero weights
        if self.lexical_weight < 0:
            raise ValueError(f"lexical_weight must be >= 0, got {self.lexical_weight}")
        if self.intent_boost < 0:
            raise ValueError(f"intent_boost must be >= 0, got {self.intent_boost}")
        if self.question_match <= 0:
            raise ValueError(f"question_match must be > 0, got {self.question_match}")
        if self.context_weight < 0:
            raise ValueError(f"context_weight must be >= 0, got {self.context_weight}")
        if not -1 <= self.standalone_floor <= 1:
            raise ValueError(f"standalone_floor must be in [-1, 1], got {self.standalone_floor}")

    @property
    def dense_weights(self) -> DenseWeights:
        """The weights of the four dense views, which rank."""
        return DenseWeights(
            self.passage_weight, self.heading_weight, self.sentence_weight, self.question_weight
        )

    @property
    def text_weights(self) -> DenseWeights:
        """The weights of the three views of the text itself, whose mean a bar is held to."""
        return DenseWeights(self.passage_weight, self.heading_weight, self.sentence_weight)


@dataclass(frozen=True, slots=True)
class ScoredPassage:
    """A search hit.

    Attributes:
        passage: the passage found.
        score: the fused relevance score that ranked it (only comparable within one search).
        similarity: the text similarity (the weighted mean of the cosines to the passage, its
            heading and its nearest sentence, in [-1, 1]); comparable across searches and
            knowledge bases, so callers can hold it to a bar ("nothing relevant").
        sentence_order: the passage's sentences (positions in
            :func:`bot.knowledge.vectors.sentences` of its text), most similar to the query
            first; a prompt can keep the few that matter.
        question_similarity: the cosine of its nearest example question; None if it lists none.
        question_match: that question is near enough (``RetrievalSettings.question_match``)
            for the passage to be relevant whatever its text similarity.
        off_topic: searched with the conversation's topic, the message does not read as a
            follow-up and is not about this passage on its own
            (``RetrievalSettings.standalone_floor``); it is then never relevant.
    """

    passage: Passage
    score: float
    similarity: float
    sentence_order: tuple[int, ...] = ()
    question_similarity: float | None = None
    question_match: bool = False
    off_topic: bool = False

    def clears(self, bar: float) -> bool:
        """Relevant enough to answer with: its text clears ``bar`` or a listed question matched."""
        return not self.off_topic and (self.similarity >= bar or self.question_match)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a passage ranked where it did: what each relevance signal gave it.

    ``dense`` is the weighted mean of the view cosines (``question`` left out when the passage
    lists no example questions); ``hit.score`` is ``dense + lexical + intent``.
    ``hit.similarity`` is the mean of the first three views alone, which bars are held to.

    Attributes:
        hit: the search hit.
        dense: the four-view similarity that ranks.
        passage: cosine to the whole passage.
        heading: cosine to its title and heading.
        sentence: cosine to its nearest sentence, ``nearest_sentence``.
        question: cosine to its nearest example question, ``nearest_question`` (None: it
            lists none).
        nearest_sentence: the passage sentence nearest the query.
        nearest_question: the passage's example question nearest the query, if it lists any.
        lexical: the BM25 term added to the score.
        intent: the intent boost added to the score.
    """

    hit: ScoredPassage
    dense: float
    passage: float
    heading: float
    sentence: float
    question: float | None
    nearest_sentence: str
    nearest_question: str | None
    lexical: float
    intent: float


@dataclass(frozen=True, slots=True, eq=False)
class _Ranking:
    """Every signal of one query over the whole base, from which hits are read."""

    passages: tuple[Passage, ...]
    settings: RetrievalSettings
    vectors: PassageVectors
    sentence_scores: npt.NDArray[np.float32]
    cosines: ViewCosines
    dense: npt.NDArray[np.float32]
    text: npt.NDArray[np.float32]
    lexical: npt.NDArray[np.float32]
    boost: npt.NDArray[np.float32]
    score: npt.NDArray[np.float32]
    off_topic: npt.NDArray[np.bool_]

    def top(self, k: int) -> list[int]:
        return [int(i) for i in np.argsort(-self.score, kind="stable")[:k]]

    def hit(self, i: int) -> ScoredPassage:
        order = self.vectors.sentence_order(self.sentence_scores, i)
        question = float(self.cosines.question[i])
        listed = np.isfinite(question)
        return ScoredPassage(
            self.passages[i],
            float(self.score[i]),
            float(self.text[i]),
            order,
            question if listed else None,
            bool(listed and question >= self.settings.question_match),
            bool(self.off_topic[i]),
        )

    def explain(self, i: int) -> Explanation:
        hit = self.hit(i)
        position = self.vectors.nearest_question(self.cosines, i)
        return Explanation(
            hit,
            float(self.dense[i]),
            float(self.cosines.passage[i]),
            float(self.cosines.heading[i]),
            float(self.cosines.sentence[i]),
            hit.question_similarity,
            sentences(hit.passage.text)[hit.sentence_order[0]],
            hit.passage.questions[position] if position is not None else None,
            float(self.lexical[i]),
            float(self.boost[i]),
        )


class KnowledgeBase:
    """Semantic search over the shop's knowledge passages.

    Construction does no I/O; :meth:`load` embeds every passage once (in the encoder's worker
    thread) and :meth:`search` embeds the query through :meth:`BatchingEncoder.encode_one`, so
    concurrent searches, and NLU requests sharing the same batcher, run in one forward pass.

    Args:
        passages: the passages to search; ids must be unique.
        encoder: a shared :class:`BatchingEncoder`, or a plain :class:`TextEncoder` that the base
            wraps in its own batcher (closed by :meth:`aclose`).
        settings: how relevance signals are fused.
        cache: where passage vectors are kept between starts (none: embed at every start).
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        encoder: BatchingEncoder | TextEncoder,
        *,
        settings: RetrievalSettings | None = None,
        cache: VectorCache | None = None,
    ) -> None:
        ids = [p.id for p in passages]
        if len(set(ids)) != len(ids):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"duplicate passage ids: {', '.join(duplicates)}")
        self._passages = tuple(passages)
        self._by_id = {p.id: p for p in self._passages}
        self._owns_batcher = not isinstance(encoder, BatchingEncoder)
        if isinstance(encoder, BatchingEncoder):
            self._batcher = encoder
        else:
            self._batcher = BatchingEncoder(encoder)
        self.settings = settings or RetrievalSettings()
        self._bm25 = BM25Index([p.embedding_text for p in self._passages])
        self._vectors: PassageVectors | None = None
        self._load_lock = asyncio.Lock()
        self._cache = cache

    @classmethod
    def from_directory(
        cls,
        directory: Path | str,
        encoder: BatchingEncoder | TextEncoder,
        *,
        settings: RetrievalSettings | None = None,
        cache: VectorCache | None = None,
    ) -> KnowledgeBase:
        """Reads and splits every ``*.md`` file under ``directory`` (nothing is embedded yet).

        Raises:
            ConfigError: the directory is missing, empty, or a file cannot be read.
        """
        return cls(load_passages(Path(directory)), encoder, settings=settings, cache=cache)

    @property
    def passages(self) -> tuple[Passage, ...]:
        """All passages, in file and document order."""
        return self._passages

    @property
    def loaded(self) -> bool:
        """Whether the passage embeddings have been computed."""
        return self._vectors is not None

    def get(self, passage_id: str) -> Passage:
        """The passage with this id, e.g. ``"returns.md#return-window"``.

        Raises:
            KeyError: no passage has this id.
        """
        return self._by_id[passage_id]

    async def load(self) -> None:
        """Embeds every passage once; later and concurrent calls wait for the same result."""
        async with self._load_lock:
            if self._vectors is not None:
                return
            texts, layout = PassageVectors.texts(self._passages)
            cached = self._cache.get(texts, self._batcher.dimension) if self._cache else None
            if cached is not None:
                matrix = cached
            else:
                # Submitted together, the texts travel through the batcher in a few full
                # batches, encoded in its worker thread while the event loop keeps serving.
                vectors = await asyncio.gather(*(self._batcher.encode_one(t) for t in texts))
                matrix = np.stack(vectors).astype(np.float32, copy=False)
                if self._cache is not None:
                    await asyncio.to_thread(self._cache.put, texts, matrix)
            self._vectors = PassageVectors.from_vectors(matrix, layout)

    async def search(
        self,
        query: str,
        k: int = 3,
        *,
        intent: str | None = None,
        context: FollowUpContext | None = None,
    ) -> list[ScoredPassage]:
        """The ``k`` passages most relevant to ``query``, best first.

        Args:
            query: the shopper's question.
            k: how many passages to return (fewer if the base is smaller).
            intent: the NLU intent of the question, if known; passages declaring it rank higher.
            context: the conversation's topic (:mod:`bot.knowledge.followup`); its vector
                joins the query's with ``RetrievalSettings.context_weight``. Keywords come
                from ``query`` alone.

        Returns:
            Up to ``k`` hits; empty for a blank query or ``k < 1``.
        """
        ranking = await self._rank(query, intent, context) if k >= 1 else None
        return [] if ranking is None else [ranking.hit(i) for i in ranking.top(k)]

    async def explain(
        self,
        query: str,
        k: int = 5,
        *,
        intent: str | None = None,
        context: FollowUpContext | None = None,
        min_similarity: float | None = None,
    ) -> list[Explanation]:
        """:meth:`search`, with what each signal gave every hit (``python -m bot search``).

        With ``min_similarity`` and a ``context``, the ranking is the one
        :meth:`search_relevant` would answer from (the message alone when the topic finds
        nothing relevant).
        """
        if k < 1:
            return []
        ranking = await self._answering(query, intent, context, min_similarity)
        return [] if ranking is None else [ranking.explain(i) for i in ranking.top(k)]

    async def _rank(
        self, query: str, intent: str | None, context: FollowUpContext | None = None
    ) -> _Ranking | None:
        query = query.strip()
        if not query:
            return None
        await self.load()
        vectors = self._vectors
        assert vectors is not None
        topic = context.text.strip() if context is not None else ""
        use_topic = bool(topic) and self.settings.context_weight > 0
        # Submitted together, the message and its topic share one encoder batch.
        own_vector, *topic_vector = await asyncio.gather(
            *(self._batcher.encode_one(t) for t in ([query, topic] if use_topic else [query]))
        )
        query_vector = own_vector
        off_topic = np.zeros(len(self._passages), dtype=np.bool_)
        if use_topic:
            query_vector = self._joined(own_vector, topic_vector[0])
            if context is not None and not context.elliptic:
                own = vectors.cosines(own_vector).mix(self.settings.text_weights)
                off_topic = own < self.settings.standalone_floor
        sentence_scores = vectors.sentence_scores(query_vector)
        cosines = vectors.cosines(query_vector, sentence_scores)
        lexical = np.zeros(len(self._passages), dtype=np.float32)
        weight = self.settings.lexical_weight
        if weight > 0:
            bm25 = self._bm25.scores(query)
            top = float(bm25.max()) if bm25.size else 0.0
            if top > 0:
                lexical = (weight * bm25 / top).astype(np.float32)
        boost = np.zeros(len(self._passages), dtype=np.float32)
        if intent and self.settings.intent_boost > 0:
            declared = [intent in p.intents for p in self._passages]
            boost = self.settings.intent_boost * np.array(declared, dtype=np.float32)
        dense = cosines.mix(self.settings.dense_weights)
        return _Ranking(
            self._passages,
            self.settings,
            vectors,
            sentence_scores,
            cosines,
            dense,
            cosines.mix(self.settings.text_weights),
            lexical,
            boost,
            dense + lexical + boost,
            off_topic,
        )

    def _joined(
        self, own: npt.NDArray[np.float32], topic: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """The message's vector with the topic's beside it, normalised again."""
        joined = own + self.settings.context_weight * topic
        norm = float(np.linalg.norm(joined))
        return (joined / norm if norm > 0 else own).astype(np.float32, copy=False)

    async def search_relevant(
        self,
        query: str,
        k: int,
        *,
        min_similarity: float,
        intent: str | None = None,
        context: FollowUpContext | None = None,
    ) -> list[ScoredPassage]:
        """:meth:`search`, or nothing when the best hit does not clear ``min_similarity``.

        The bar is on the text similarity, not the fused score: the intent boost must not lift
        an off-topic question over it (measured in benchmarks/retrieval.py). A hit whose
        example question matched the query clears it too (:meth:`ScoredPassage.clears`).
        With a ``context``, the message is searched with the topic first and, when that finds
        nothing relevant, alone: a topic may change or add an answer, but never turns one that
        the message alone would get into a fallback.
        """
        if k < 1:
            return []
        ranking = await self._answering(query, intent, context, min_similarity)
        hits = [] if ranking is None else [ranking.hit(i) for i in ranking.top(k)]
        if not hits or not hits[0].clears(min_similarity):
            return []
        return hits

    async def _answering(
        self,
        query: str,
        intent: str | None,
        context: FollowUpContext | None,
        bar: float | None,
    ) -> _Ranking | None:
        ranking = await self._rank(query, intent, context)
        if context is None or bar is None or ranking is None:
            return ranking
        best = ranking.top(1)
        if not best or ranking.hit(best[0]).clears(bar):
            return ranking
        # Nothing relevant with the topic beside it (or only a section the message is not
        # about): the message is searched as a first question would be.
        return await self._rank(query, intent)

    async def aclose(self) -> None:
        """Closes the batcher if the base created it; a shared batcher is left to its owner."""
        if self._owns_batcher:
            await self._batcher.aclose()
