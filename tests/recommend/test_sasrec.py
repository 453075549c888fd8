"""SASRec: causality, content fusion, and that training learns a sequential pattern."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from actions.recommend.sequences import Sequences, eval_cases, training_prefixes
from actions.recommend.training import (
    TrainConfig,
    build_model,
    evaluate,
    next_item_samples,
    top_items,
    train_sasrec,
)


def test_a_position_never_sees_later_items() -> None:
    torch.manual_seed(0)
    model = build_model(20, None, dim=16, max_len=6, dropout=0.0).eval()
    a = torch.tensor([[0, 3, 4, 5, 6, 7]])
    b = torch.tensor([[0, 3, 4, 5, 9, 11]])
    with torch.no_grad():
        first, second = model.encode(a), model.encode(b)
    assert torch.allclose(first[:, :4], second[:, :4], atol=1e-6)
    assert not torch.allclose(first[:, 4:], second[:, 4:])
    assert torch.all(first[:, 0] == 0)  # padding has no state


def test_the_latest_item_has_the_same_position_whatever_the_padding() -> None:
    # Positions count back from the latest item, so a history scores the same padded to any
    # width, and a prefix seen in training looks like a history seen in serving.
    torch.manual_seed(0)
    model = build_model(20, None, dim=16, max_len=6, dropout=0.0).eval()
    with torch.no_grad():
        short = model.score_all(torch.tensor([[4, 9]]))
        wide = model.score_all(torch.tensor([[0, 0, 0, 0, 4, 9]]))
    assert torch.allclose(short, wide, atol=1e-5)


def test_every_prefix_predicts_the_item_after_it() -> None:
    inputs, targets = next_item_samples([(1, 2, 3, 4), (5,), (6, 7)], max_len=2)
    assert inputs == [(1,), (1, 2), (2, 3), (6,)]
    assert targets.tolist() == [2, 3, 4, 7]


def test_scores_cover_every_item_but_padding() -> None:
    model = build_model(30, None, dim=16, max_len=5, dropout=0.0).eval()
    with torch.no_grad():
        scores = model.score_all(torch.tensor([[0, 0, 1, 2, 3]]))
    assert scores.shape == (1, 31)
    assert scores[0, 0] == float("-inf")
    assert torch.isfinite(scores[0, 1:]).all()


def test_content_vectors_must_match_the_catalogue() -> None:
    with pytest.raises(ValueError, match="content vectors"):
        build_model(10, torch.zeros(5, 8), dim=16)
    model = build_model(10, torch.randn(11, 8), dim=16)
    assert model.item_vectors().shape == (11, 16)


def cyclic_sequences(users: int = 240, items: int = 40, seed: int = 0) -> Sequences:
    """Users walk the catalogue in order from a random start: the next item is always +1."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(users):
        start, length = int(rng.integers(1, items + 1)), int(rng.integers(5, 12))
        rows.append(tuple((start + i - 1) % items + 1 for i in range(length)))
    return Sequences(tuple(str(u) for u in range(users)), tuple(rows), items)


def test_training_learns_the_next_item_and_keeps_the_best_epoch() -> None:
    sequences = cyclic_sequences()
    model = build_model(sequences.n_items, None, dim=32, max_len=16, dropout=0.1)
    test = eval_cases(sequences, "test")
    before = evaluate(model, test).ndcg[10]
    config = TrainConfig(epochs=12, batch_size=32, lr=5e-3, eval_every=2, patience=3, seed=0)
    report = train_sasrec(
        model, training_prefixes(sequences, 2), eval_cases(sequences, "valid"), config,
        progress=False,
    )  # fmt: skip
    after = evaluate(model, test)
    assert before < 0.3 < after.ndcg[10]
    assert after.hit_rate[5] > 0.9
    assert report.best_epoch in [row["epoch"] for row in report.curve]
    # The top item for a user who just bought item k is k + 1, and history is never offered.
    case = test[0]
    (top,) = top_items(model, [case], 5)
    assert top[0] == case.history[-1] % sequences.n_items + 1
    assert not set(top) & set(case.history)


def test_training_with_the_contrastive_term_still_learns_the_pattern() -> None:
    sequences = cyclic_sequences()
    model = build_model(sequences.n_items, None, dim=32, max_len=16, dropout=0.1)
    config = TrainConfig(
        epochs=8, batch_size=32, lr=5e-3, eval_every=2, patience=3, seed=0, contrastive=0.1
    )
    report = train_sasrec(
        model, training_prefixes(sequences, 2), eval_cases(sequences, "valid"), config,
        progress=False,
    )  # fmt: skip
    assert report.curve[-1]["loss"] > 0
    assert evaluate(model, eval_cases(sequences, "test")).ndcg[10] > 0.3
