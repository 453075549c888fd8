"""Recommendations for a shopper of this shop: history, request text, constraints → picks.

Candidates are the shop's products that are in stock. Each is scored from four signals:

- **request**: MiniLM similarity between the shopper's words ("a gift for my sister who runs")
  and the product's text, when the request says more than "recommend something";
- **history**: similarity to the products the customer bought (content, so it works for items
  nobody else bought), reason "because you bought …";
- **together**: how often other customers bought the product after one the customer has
  (the sequential signal at a shop's scale), reason "often bought with …";
- **sequence**: when the shop has trained one (``python -m actions.recommend train-shop``),
  SASRec's next-purchase probability after the customer's history;
- **popularity**: how many customers bought it, the fallback for new shoppers.

Products the customer already bought are left out unless their category is consumable, and
the shopper's price range and category are filters, not hints. Every pick carries the one
reason that contributed most to its score, in words.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from actions.locale import Messages
from actions.recommend.reasons import ACTIVITIES, Reason, is_quality, reason, stem
from actions.shop.port import Product

TextEncoder = Callable[[Sequence[str]], np.ndarray]
"""Texts in, L2-normalised vectors out (MiniLM in the action server, anything in tests)."""

CONSUMABLE_WORDS = ("food", "snack", "care", "consumable", "supplement", "beauty", "refill")
"""Category words of products bought again and again, which stay recommendable after a buy."""
_GENERIC_TEXT = """
    a an and any anything are can could do else for get give good have i idea ideas im is it
    me my new please product products recommend recommendation recommendations show some
    something suggest suggestion suggestions that the thing things to want what would you your
    like buy should under below over above less more than least between dollars bucks cheap
    cheaper budget price
"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())
"""Words that ask for a recommendation without saying what it should be about."""
FOLLOWERS_KEPT = 200
WEIGHTS = {"request": 1.0, "history": 0.45, "sequence": 0.4, "together": 0.35, "popularity": 0.15}
POPULAR = 0.75
"""Popularity (log buyers, 1 = the best seller) from which a pick is "popular" in its reason."""
_STOPWORDS_TEXT = """
    about after also and are but can from for has have her his into its just made not our
    she that the their them they this too very was who with
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class Constraints:
    """What the shopper asked for besides the words: a price range and a category."""

    min_price: float | None = None
    max_price: float | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Pick:
    """One recommended product, its lowest in-stock price, and why it was picked.

    ``because`` is worded in the conversation's language by the action; ``reason`` is it in
    the shop's language.
    """

    product: Product
    price: float
    because: Reason
    score: float

    @property
    def reason(self) -> str:
        """Why, in the shop's language: ``"Similar to your Rain Shell Jacket"``."""
        return self.because.text(Messages.for_language(None))


_UNDER = re.compile(
    r"\b(?:under|below|less than|up to|max(?:imum)?|cheaper than)\s*\$?\s*(\d+(?:\.\d+)?)"
)
_OVER = re.compile(r"\b(?:over|above|more than|at least|min(?:imum)?)\s*\$?\s*(\d+(?:\.\d+)?)")
_BETWEEN = re.compile(r"\bbetween\s*\$?\s*(\d+(?:\.\d+)?)\s*(?:and|-|to)\s*\$?\s*(\d+(?:\.\d+)?)")


def parse_constraints(text: str, categories: Sequence[str]) -> Constraints:
    """Price range ("under $50", "between 20 and 40") and a category named in ``text``."""
    lowered = text.lower()
    low = high = None
    if match := _BETWEEN.search(lowered):
        low, high = sorted((float(match.group(1)), float(match.group(2))))
    else:
        if match := _UNDER.search(lowered):
            high = float(match.group(1))
        if match := _OVER.search(lowered):
            low = float(match.group(1))
    category = None
    for name in sorted(categories, key=len, reverse=True):
        singular = name.lower().rstrip("s")
        if singular and re.search(rf"\b{re.escape(singular)}s?\b", lowered):
            category = name
            break
    return Constraints(low, high, category)


def product_text(product: Product) -> str:
    """What the content signals embed: name, category, description and option values."""
    options = sorted({value for v in product.variants for value in v.options.values()})
    parts = [product.name, product.category or "", product.description or "", ", ".join(options)]
    return ". ".join(part for part in parts if part)


class ShopRecommender:
    """Scores the shop's products for one shopper; built once, asked many times."""

    def __init__(
        self,
        products: Sequence[Product],
        histories: Mapping[str, Sequence[str]],
        encode: TextEncoder,
        *,
        vectors: np.ndarray | None = None,
        sequence: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        """Args:
        products: The catalogue.
        histories: Every customer's purchased product ids, oldest first.
        encode: Embeds texts (the request; the products too unless ``vectors`` are given).
        vectors: The products' text vectors, when already computed.
        sequence: A trained sequence model's next-purchase probabilities for a history, in
            catalogue order (:class:`~actions.recommend.shop_model.SequenceScorer`).
        """
        self.products = list(products)
        self._index = {p.product_id: i for i, p in enumerate(self.products)}
        self._encode = encode
        self._sequence = sequence
        if vectors is None:
            vectors = encode([product_text(p) for p in self.products])
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self._scan = _CatalogueScan(self.vectors)
        n = len(self.products)
        buyers: Counter[int] = Counter()
        # Sparse, and only each product's most frequent followers: a 20,000-product catalogue
        # would need 1.6 GB as a dense matrix, and the tail of rare pairs is noise.
        follow_counts: dict[int, Counter[int]] = {}
        for purchases in histories.values():
            seen = [self._index[p] for p in purchases if p in self._index]
            buyers.update(set(seen))
            for position, item in enumerate(seen):
                later = set(seen[position + 1 :]) - {item}
                if later:
                    follow_counts.setdefault(item, Counter()).update(later)
        self.followers: dict[int, tuple[np.ndarray, np.ndarray]] = {
            item: (
                np.array([f for f, _ in top], dtype=np.int64),
                np.array([c for _, c in top], dtype=np.float32),
            )
            for item, counter in follow_counts.items()
            if (top := counter.most_common(FOLLOWERS_KEPT))
        }
        counts = np.array([buyers[i] for i in range(n)], dtype=np.float32)
        self.popularity = np.log1p(counts) / max(math.log1p(float(counts.max(initial=0))), 1.0)
        self.categories = sorted({p.category for p in self.products if p.category})

    def recommend(
        self,
        history: Sequence[str],
        request: str = "",
        constraints: Constraints | None = None,
        k: int = 3,
        current: Callable[[str], Product | None] | None = None,
    ) -> list[Pick]:
        """The ``k`` best products for a shopper who bought ``history`` (oldest first).

        ``request`` is what the shopper wrote; ``constraints`` default to those it states.
        ``current`` looks a product up as it is now (the shop backend's ``get_product``): the
        scores come from the catalogue as it was when the recommender was built, but stock and
        prices of the candidates are read live, so nothing sold out since is offered.
        """
        constraints = constraints or parse_constraints(request, self.categories)
        bought = [self._index[p] for p in history if p in self._index]
        signals: dict[str, np.ndarray] = {"popularity": self.popularity}
        sources: dict[str, np.ndarray] = {}
        # One pass over the catalogue's vectors for the request and the recent purchases
        # together: at 20,000 products the pass is memory-bound, so each column is nearly free.
        asks = self._says_more_than_recommend(request)
        recent = bought[-5:]
        columns = [self._encode([request]).astype(np.float32)[0]] if asks else []
        columns.extend(self.vectors[recent])
        if columns:
            similarity = self._scan.dot(np.stack(columns, axis=1))
            if asks:
                signals["request"] = np.clip(similarity[:, 0], 0.0, None)
                similarity = similarity[:, 1:]
        if bought:
            # A product is not its own reason ("because you bought X" for X itself).
            similarity[recent, np.arange(len(recent))] = 0.0
            signals["history"] = np.clip(similarity.max(axis=1), 0.0, None)
            sources["history"] = np.asarray(recent)[similarity.argmax(axis=1)]
            together, source = self._bought_after(recent)
            if together.max(initial=0) > 0:
                signals["together"] = together / together.max()
                sources["together"] = source
            if self._sequence is not None:
                chance = self._sequence([self.products[i].product_id for i in bought])
                signals["sequence"] = chance / max(float(chance.max()), 1e-9)
        contributions = {name: WEIGHTS[name] * value for name, value in signals.items()}
        scores = np.sum(list(contributions.values()), axis=0)
        picks: list[Pick] = []
        for index in self._best_first(scores):
            product = self.products[int(index)]
            if current is not None:
                product = current(product.product_id) or replace(product, variants=())
            price = self._allowed_price(product, constraints, int(index) in bought)
            if price is None:
                continue
            best = max(contributions, key=lambda name: contributions[name][index])
            because = self._reason(best, int(index), sources, request)
            picks.append(Pick(product, price, because, float(scores[index])))
            if len(picks) == k:
                break
        return picks

    @staticmethod
    def _best_first(scores: np.ndarray, head: int = 256) -> Iterator[int]:
        """Indices by falling score: the best ``head`` by a partial sort (most requests stop
        there), then the rest, in the order a full stable sort would give."""
        if len(scores) <= head:
            yield from (int(i) for i in np.argsort(-scores, kind="stable"))
            return
        threshold = scores[np.argpartition(-scores, head)[:head]].min()
        # Everything scoring above the head's lowest score is in the head; ties at that score
        # may straddle it, so the walk takes the strictly better ones first and sorts the rest
        # only if it gets that far.
        for part in (np.flatnonzero(scores > threshold), np.flatnonzero(scores <= threshold)):
            yield from (int(i) for i in part[np.argsort(-scores[part], kind="stable")])

    def _bought_after(self, recent: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """How often each product was bought after one of ``recent``, and after which most."""
        total = np.zeros(len(self.products), dtype=np.float32)
        best = np.zeros(len(self.products), dtype=np.float32)
        source = np.zeros(len(self.products), dtype=np.int64)
        for item in recent:
            if item not in self.followers:
                continue
            later, count = self.followers[item]
            np.add.at(total, later, count)
            stronger = count > best[later]
            best[later[stronger]] = count[stronger]
            source[later[stronger]] = item
        return total, source

    def _allowed_price(
        self, product: Product, constraints: Constraints, bought: bool
    ) -> float | None:
        """The lowest in-stock price within the range, or ``None`` when the product is out."""
        category = (product.category or "").lower()
        if bought and not any(word in category for word in CONSUMABLE_WORDS):
            return None
        if constraints.category and product.category != constraints.category:
            return None
        prices = [
            v.price
            for v in product.available_variants
            if (constraints.min_price is None or v.price >= constraints.min_price)
            and (constraints.max_price is None or v.price <= constraints.max_price)
        ]
        return min(prices) if prices else None

    def _reason(
        self, signal: str, index: int, sources: Mapping[str, np.ndarray], request: str
    ) -> Reason:
        """Why a pick was made, as a shop assistant would say it (never the request quoted)."""
        if signal == "history":
            return reason("similar", product=self.products[int(sources["history"][index])].name)
        if signal == "together":
            return reason("goes_with", product=self.products[int(sources["together"][index])].name)
        if signal == "sequence":
            return reason("sequence")
        if signal == "request":
            return request_reason_of(
                self.products[index], request, popular=self.popularity[index] >= POPULAR
            )
        return reason("popular")

    @staticmethod
    def _says_more_than_recommend(request: str) -> bool:
        words = re.findall(r"[a-z]+", request.lower())
        return any(word not in GENERIC_WORDS for word in words)


def request_reason(product: Product, request: str, *, popular: bool) -> str:
    """:func:`request_reason_of` in the shop's language."""
    return request_reason_of(product, request, popular=popular).text(Messages.for_language(None))


def request_reason_of(product: Product, request: str, *, popular: bool) -> Reason:
    """The reason for a pick the shopper's words chose, in the product's own words.

    "Popular for hiking" / "Made for the trail" for an activity the product is for,
    "Waterproof, as you asked" for a quality, "Comes in blue" for an option; the type of
    thing asked for alone ("a jacket"), or no shared word, gives a general reason. The request
    is never repeated back, even in part: only words from the shop's text are shown.
    """
    asked = {
        stem(w): w
        for w in re.findall(r"[a-z]+", request.lower())
        if w not in GENERIC_WORDS and w not in _STOPWORDS and len(w) >= 3
    }
    type_words = re.findall(r"[a-z]+", f"{product.category or ''} {product.name}".lower())
    kinds = {stem(w) for w in type_words[-1:]} | {
        stem(w) for w in re.findall(r"[a-z]+", (product.category or "").lower())
    }
    options = {v.lower() for variant in product.variants for v in variant.options.values()}
    activity = quality = option = None
    for word in re.findall(r"[a-z]+", product_text(product).lower()):
        root = stem(word)
        if root not in asked or word in _STOPWORDS:
            continue
        if root in ACTIVITIES:
            activity = activity or ACTIVITIES[root]
        elif root in kinds:
            continue
        elif word in options:
            option = option or word
        elif is_quality(asked[root]):
            quality = quality or asked[root]
    if activity and quality:
        return reason("quality_activity", quality=quality.capitalize(), activity=activity)
    if activity:
        return reason("popular_for" if popular else "made_for", activity=activity)
    if quality:
        return reason("quality", quality=quality.capitalize())
    if option:
        return reason("comes_in", option=option)
    if popular and product.category:
        return reason("favourite", category=product.category)
    return reason("fits")


class _CatalogueScan:
    """Similarity of every product's vector to a few query columns, as fast as this CPU allows.

    The pass reads the whole ``(n, d)`` matrix for a handful of columns, so it is bound by
    memory: a bfloat16 copy halves what is read and, where the CPU has bfloat16 arithmetic,
    took 1.6 ms instead of 5.9 ms for 20,000 × 384 (measured). Where it is slower (no such
    instructions) the float32 matrix is kept; the choice is timed once, on the real matrix.
    Products (cosines) are accurate to about 0.4% in bfloat16, enough to rank by.
    Through torch, not numpy: the encoder runs on torch's thread pool, and a numpy (BLAS) pool
    spinning beside it made each request's encoding 3x slower (p95 90 ms, measured).
    """

    def __init__(self, vectors: np.ndarray, *, min_rows: int = 4096) -> None:
        self._matrix = torch.from_numpy(vectors)
        if len(vectors) >= min_rows and _faster(self._matrix.bfloat16(), self._matrix):
            self._matrix = self._matrix.bfloat16()

    def dot(self, columns: np.ndarray) -> np.ndarray:
        right = torch.from_numpy(np.ascontiguousarray(columns, dtype=np.float32))
        product: np.ndarray = (self._matrix @ right.to(self._matrix.dtype)).float().numpy()
        return product


def _faster(candidate: torch.Tensor, baseline: torch.Tensor, repeats: int = 5) -> bool:
    probe = torch.ones(baseline.shape[1], 6)

    def best_time(matrix: torch.Tensor) -> float:
        right = probe.to(matrix.dtype)
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            matrix @ right
            timings.append(time.perf_counter() - started)
        return min(timings)

    best_time(candidate)  # warm-up
    return best_time(candidate) < 0.7 * best_time(baseline)
