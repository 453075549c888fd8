"""A small BM25 index: the keyword signal that retrieval fuses with embedding similarity.

Embeddings catch paraphrases ("money back" ~ "refund"); exact words catch what a small encoder
blurs ("invoice" vs "receipt" vs "payment"). The tokenizer is deliberately simple: lower case,
a short stop list and a light suffix stemmer, so "refunds", "refunded" and "refund" meet.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[a-z0-9]+")
# fmt: off
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "get",
    "got", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our",
    "so", "that", "the", "their", "them", "then", "there", "this", "to", "up", "us", "was", "we",
    "what", "when", "where", "which", "who", "will", "with", "would", "you", "your", "want",
    "need", "help", "please", "could", "should", "hi", "hello",
})
# fmt: on
_SUFFIXES = ("ational", "ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s")


def stem(word: str) -> str:
    """Strips one common English suffix, keeping at least a 3-letter stem."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stemmed = word[: -len(suffix)]
            return stemmed + "y" if suffix in ("ies", "ied") else stemmed
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content words of ``text``."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


class BM25Index:
    """Okapi BM25 over a fixed list of documents.

    Args:
        documents: the texts to index, in the order scores are returned.
        k1: term-frequency saturation.
        b: length normalisation (0 = none, 1 = full).
    """

    def __init__(self, documents: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self._k1 = k1
        self._b = b
        self._docs = [Counter(tokenize(doc)) for doc in documents]
        self._lengths = np.array([sum(d.values()) for d in self._docs], dtype=np.float32)
        self._avg_length = float(self._lengths.mean()) if self._docs else 0.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        n = len(self._docs)
        # The "+1" form keeps idf positive for words found in most documents.
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score of every document for ``query`` (zeros when no query word is indexed)."""
        result = np.zeros(len(self._docs), dtype=np.float32)
        if not self._docs:
            return result
        norm = self._k1 * (1 - self._b + self._b * self._lengths / max(self._avg_length, 1e-9))
        for term in set(tokenize(query)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            tf = np.array([doc.get(term, 0) for doc in self._docs], dtype=np.float32)
            result += idf * tf * (self._k1 + 1) / (tf + norm)
        return result
