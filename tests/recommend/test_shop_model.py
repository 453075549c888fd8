"""Training the sequence model on a shop's histories, loading it, and serving it as a signal."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from actions.recommend.shop_model import SequenceScorer, train_shop_model
from actions.recommend.shop_recommender import ShopRecommender
from actions.recommend.training import TrainConfig
from actions.shop.port import Product, Variant


def catalogue(n: int) -> list[Product]:
    return [
        Product(f"p{i}", f"Product {i}", (Variant(f"v{i}", {"size": "M"}, True, 10.0 + i),), "Gear")
        for i in range(n)
    ]


def test_a_trained_shop_model_predicts_the_next_purchase(tmp_path: Path) -> None:
    products = catalogue(12)
    rng = np.random.default_rng(0)
    # Customers buy along the catalogue: after p3 comes p4.
    histories = {}
    for c in range(80):
        start = int(rng.integers(0, 12))
        histories[f"c{c}"] = [f"p{(start + k) % 12}" for k in range(int(rng.integers(3, 7)))]
    vectors = np.eye(12, 8, dtype=np.float32) + 0.01
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    meta = train_shop_model(
        products, histories, vectors, tmp_path,
        config=TrainConfig(epochs=40, batch_size=16, lr=5e-3, eval_every=4, patience=4),
        dim=16, progress=False,
    )  # fmt: skip
    assert meta["holdout"]["HR@5"] > 0.8
    scorer = SequenceScorer.load(tmp_path, products, vectors)
    assert scorer is not None
    chance = scorer.probabilities(["p2", "p3"])
    assert int(np.argmax(chance)) == 4
    assert abs(float(chance.sum()) - 1.0) < 1e-4
    # Another catalogue (a product added) does not load the stale model.
    assert SequenceScorer.load(tmp_path, catalogue(13), np.ones((13, 8), np.float32)) is None

    recommender = ShopRecommender(
        products, {}, lambda texts: np.ones((len(texts), 8), np.float32),
        vectors=vectors, sequence=scorer.probabilities,
    )  # fmt: skip
    (first,) = recommender.recommend(["p2", "p3"], "", k=1)
    assert first.product.product_id == "p4"
    assert first.reason == "Often bought next by shoppers like you"


def test_no_model_folder_means_no_sequence_signal(tmp_path: Path) -> None:
    assert SequenceScorer.load(tmp_path, catalogue(3), np.ones((3, 8), np.float32)) is None
