"""The action server's recommender is rebuilt when stale, re-embedding only new product texts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

import actions.recommend_action as recommend_action
from actions.recommend_action import recommender_for, refresh_seconds
from actions.shop.port import Product, Variant


class FakeShop:
    """The two reads the recommender needs, with a catalogue and orders that change."""

    def __init__(self) -> None:
        self.products = [
            Product("tent", "Camp Tent", (Variant("tent-1", {}, True, 300.0),), "Camp"),
            Product("stove", "Camp Stove", (Variant("stove-1", {}, True, 60.0),), "Camp"),
        ]
        self.histories: dict[str, list[str]] = {"a": ["tent"]}

    def list_products(self) -> list[Product]:
        return list(self.products)

    def purchase_histories(self) -> dict[str, list[str]]:
        return {user: list(items) for user, items in self.histories.items()}


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    calls: list[str] = []

    def fake_minilm(texts: Sequence[str]) -> np.ndarray:
        calls.extend(texts)
        return np.ones((len(texts), 4), np.float32) / 2

    monkeypatch.setattr(recommend_action, "minilm_texts", fake_minilm)
    monkeypatch.setenv(recommend_action.MODEL_DIR_ENV, str(tmp_path))  # no shop model here
    monkeypatch.delenv(recommend_action.REFRESH_ENV, raising=False)
    yield calls
    recommend_action._recommenders.clear()


def test_a_fresh_recommender_is_reused_and_a_stale_one_rebuilt(encoded: list[str]) -> None:
    shop = FakeShop()
    first = recommender_for(shop, now=0.0)  # type: ignore[arg-type]
    assert len(encoded) == 2
    shop.histories["b"] = ["stove", "tent"]
    shop.products.append(
        Product("stool", "Camp Stool", (Variant("stool-1", {}, True, 25.0),), "Camp")
    )
    assert recommender_for(shop, now=299.0) is first  # type: ignore[arg-type]
    second = recommender_for(shop, now=301.0)  # type: ignore[arg-type]
    assert second is not first
    assert [p.product_id for p in second.products] == ["tent", "stove", "stool"]
    assert second.popularity[1] > 0  # the new order counts
    assert encoded[2:] == [recommend_action.product_text(shop.products[2])]  # only the new text


def test_the_refresh_period_comes_from_the_environment() -> None:
    assert refresh_seconds({}) == 300.0
    assert refresh_seconds({"CONCIERGE_RECOMMENDER_REFRESH_S": "30"}) == 30.0
    with pytest.raises(ValueError, match="number of seconds"):
        refresh_seconds({"CONCIERGE_RECOMMENDER_REFRESH_S": "soon"})


def test_requests_are_embedded_in_int8_unless_turned_off() -> None:
    assert recommend_action.request_int8({}) is True
    assert recommend_action.request_int8({"CONCIERGE_RECOMMENDER_REQUEST_INT8": "0"}) is False
    assert recommend_action.request_int8({"CONCIERGE_RECOMMENDER_REQUEST_INT8": "on"}) is True
    with pytest.raises(ValueError, match="1 or 0"):
        recommend_action.request_int8({"CONCIERGE_RECOMMENDER_REQUEST_INT8": "maybe"})


def test_with_int8_off_requests_and_catalogue_share_one_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[bool] = []

    class CountingEncoder:
        def __init__(self, *, int8: bool = False) -> None:
            built.append(int8)

        def load(self) -> None: ...

        def encode(self, texts: Sequence[str]) -> np.ndarray:
            return np.ones((len(texts), 4), np.float32) / 2

    import bot.nlu.encoder

    monkeypatch.setattr(bot.nlu.encoder, "MiniLMEncoder", CountingEncoder)
    recommend_action._encoder.cache_clear()
    try:
        monkeypatch.setenv(recommend_action.REQUEST_INT8_ENV, "0")
        recommend_action.minilm_texts(["tent"])
        recommend_action.request_vectors(["a tent"])
        assert built == [False]
        monkeypatch.setenv(recommend_action.REQUEST_INT8_ENV, "1")
        recommend_action.request_vectors(["a tent"])
        assert built == [False, True]
    finally:
        recommend_action._encoder.cache_clear()
