"""The shop recommender's signals, filters and reasons, with a word-count encoder."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest

from actions.recommend.shop_recommender import (
    Constraints,
    ShopRecommender,
    parse_constraints,
    request_reason,
)
from actions.shop.port import Product, Variant

VOCABULARY = (
    "running shoe trail jacket rain waterproof sock wool tent camp stove snack bar".split()  # noqa: SIM905
)


def words_encoder(texts: Sequence[str]) -> np.ndarray:
    """Counts vocabulary words: similar texts share words (a stand-in for MiniLM)."""
    rows = []
    for text in texts:
        found = re.findall(r"[a-z]+", text.lower())
        vector = np.array([found.count(w) for w in VOCABULARY], dtype=np.float32) + 1e-3
        rows.append(vector / np.linalg.norm(vector))
    return np.stack(rows)


def product(pid: str, name: str, category: str, price: float, available: bool = True) -> Product:
    return Product(pid, name, (Variant(f"{pid}-1", {"size": "M"}, available, price),), category)


PRODUCTS = [
    product("shoe", "Trail Running Shoe", "Footwear", 120.0),
    product("sock", "Wool Running Sock", "Footwear", 18.0),
    product("rain", "Waterproof Rain Jacket", "Outerwear", 150.0),
    product("tent", "Camp Tent", "Camp", 300.0),
    product("stove", "Camp Stove", "Camp", 60.0),
    product("bar", "Snack Bar", "Trail Food", 3.0),
    product("gone", "Running Jacket", "Outerwear", 90.0, available=False),
]
HISTORIES = {
    "a": ["tent", "stove"],
    "b": ["tent", "stove", "bar"],
    "c": ["shoe", "sock"],
    "d": ["shoe", "sock", "bar"],
    "e": ["bar"],
    "f": ["bar"],
}


@pytest.fixture(scope="module")
def recommender() -> ShopRecommender:
    return ShopRecommender(PRODUCTS, HISTORIES, words_encoder)


def ids(picks: Sequence[object]) -> list[str]:
    return [p.product.product_id for p in picks]  # type: ignore[attr-defined]


def test_a_new_shopper_gets_popular_products(recommender: ShopRecommender) -> None:
    picks = recommender.recommend([], "recommend me something", k=3)
    assert ids(picks)[0] == "bar"  # bought by five customers
    assert picks[0].reason == "Popular with our shoppers"


def test_the_request_words_choose(recommender: ShopRecommender) -> None:
    picks = recommender.recommend([], "a gift for my sister who goes running", k=2)
    assert set(ids(picks)) == {"shoe", "sock"}
    # Said as a shop assistant would, in the shop's words: never the request quoted back.
    assert picks[0].reason == "Made for running"
    assert not {"gift", "sister", "goes"} & set(picks[0].reason.lower().split())


@pytest.mark.parametrize(
    ("request_text", "reason"),
    [
        ("something waterproof please", "Waterproof, as you asked"),
        ("a jacket for a rainy day", "A good fit for what you described"),
        ("anything for camping", "Made for camping"),
    ],
)
def test_request_reasons_echo_one_quality_or_activity_of_the_product(
    request_text: str, reason: str
) -> None:
    rain = PRODUCTS[2]
    tent = PRODUCTS[3]
    product = tent if "camp" in request_text else rain
    assert request_reason(product, request_text, popular=False) == reason
    assert request_reason(tent, "anything for camping", popular=True) == "Popular for camping"


def test_out_of_stock_and_bought_products_are_never_offered(recommender: ShopRecommender) -> None:
    picks = recommender.recommend(["shoe"], "running jacket", k=6)
    assert "gone" not in ids(picks)
    assert "shoe" not in ids(picks)


def test_stock_and_prices_are_read_live_when_a_lookup_is_given(
    recommender: ShopRecommender,
) -> None:
    now = {p.product_id: p for p in PRODUCTS}
    now["bar"] = product("bar", "Snack Bar", "Trail Food", 3.0, available=False)  # sold out since
    now["sock"] = product("sock", "Wool Running Sock", "Footwear", 15.0)  # on sale since
    now["gone"] = product("gone", "Running Jacket", "Outerwear", 90.0)  # back in stock
    del now["tent"]  # removed from the catalogue
    picks = recommender.recommend([], "", k=7, current=now.get)
    assert "bar" not in ids(picks)
    assert "tent" not in ids(picks)
    assert "gone" in ids(picks)
    assert next(p.price for p in picks if p.product.product_id == "sock") == 15.0
    assert "bar" in ids(recommender.recommend([], "", k=7))  # the built copy is unchanged


def test_consumables_stay_recommendable_after_a_buy(recommender: ShopRecommender) -> None:
    assert "bar" in ids(recommender.recommend(["bar"], "", k=6))


def test_history_brings_what_others_bought_next_with_a_reason(
    recommender: ShopRecommender,
) -> None:
    (first, *_) = recommender.recommend(["tent"], "", k=3)
    assert first.product.product_id == "stove"
    assert first.reason in ("Goes with your Camp Tent", "Similar to your Camp Tent")


def test_price_and_category_are_filters(recommender: ShopRecommender) -> None:
    cheap = recommender.recommend([], "something under $20", k=6)
    assert cheap
    assert all(p.price <= 20 for p in cheap)
    camp = recommender.recommend([], "", Constraints(category="Camp"), k=6)
    assert set(ids(camp)) == {"tent", "stove"}
    assert recommender.recommend([], "", Constraints(min_price=1000), k=3) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anything under $50?", Constraints(None, 50.0, None)),
        ("between 20 and 40 dollars", Constraints(20.0, 40.0, None)),
        ("a camp thing over 100", Constraints(100.0, None, "Camp")),
        ("new footwear please", Constraints(None, None, "Footwear")),
        ("surprise me", Constraints()),
    ],
)
def test_constraints_from_words(text: str, expected: Constraints) -> None:
    assert parse_constraints(text, ["Camp", "Footwear", "Outerwear"]) == expected


@pytest.mark.parametrize("ties", [False, True])
def test_the_partial_sort_walks_candidates_in_full_sort_order(ties: bool) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(1, 3000))
        scores = (rng.integers(0, 20, n) if ties else rng.random(n)).astype(np.float32)
        walked = list(ShopRecommender._best_first(scores, head=int(rng.integers(1, 400))))
        assert walked == np.argsort(-scores, kind="stable").tolist()
