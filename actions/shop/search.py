"""Simple, deterministic product matching shared by shop adapters.

Shoppers type "trail runners", "rain jacket" or "a blue bottle": we match words against the
product name, its category and its option values. Scores are integers so the order is exact
and reproducible; ties are broken by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from actions.shop.port import Product

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "any",
        "about",
        "do",
        "does",
        "for",
        "have",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "please",
        "show",
        "tell",
        "the",
        "to",
        "what",
        "which",
        "with",
        "you",
        "your",
        "info",
        "information",
        "price",
        "product",
        "products",
    }
)

EXACT_NAME = 1000
NAME_PHRASE = 100
NAME_WORD = 10
CATEGORY_WORD = 4
OPTION_WORD = 2


def _stem(word: str) -> str:
    # Plural shoppers' words ("shoes", "bottles", "jackets") must meet singular names.
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case, stemmed content words of ``text``, stopwords removed, in order."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


def normalize_phrase(text: str) -> str:
    """``text`` as its content words joined by single spaces (for phrase comparison)."""
    return " ".join(words(text))


@dataclass(frozen=True, slots=True)
class ProductIndexEntry:
    """The searchable word sets of one product, computed once when the shop is loaded."""

    product_id: str
    name: str
    name_phrase: str
    name_words: frozenset[str]
    category_words: frozenset[str]
    option_words: frozenset[str]

    @classmethod
    def of(cls, product: Product) -> ProductIndexEntry:
        option_text = " ".join(
            value for variant in product.variants for value in variant.options.values()
        )
        return cls(
            product_id=product.product_id,
            name=product.name,
            name_phrase=normalize_phrase(product.name),
            name_words=frozenset(words(product.name)),
            category_words=frozenset(words(product.category or "")),
            option_words=frozenset(words(option_text)),
        )

    def score(self, query: str) -> int:
        """How well ``query`` matches this product; 0 means not at all."""
        phrase = normalize_phrase(query)
        if not phrase:
            return 0
        if phrase == self.name_phrase:
            return EXACT_NAME
        score = NAME_PHRASE if f" {phrase} " in f" {self.name_phrase} " else 0
        for word in set(phrase.split()):
            if word in self.name_words:
                score += NAME_WORD
            elif word in self.category_words:
                score += CATEGORY_WORD
            elif word in self.option_words:
                score += OPTION_WORD
        return score


def rank(entries: Iterable[ProductIndexEntry], query: str, limit: int) -> list[str]:
    """Product ids of the best ``limit`` matches for ``query``, best first."""
    scored = [(entry.score(query), entry.name, entry.product_id) for entry in entries]
    hits = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1], s[2]))
    return [product_id for _, _, product_id in hits[: max(limit, 0)]]
