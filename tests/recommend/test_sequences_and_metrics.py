"""The S3-Rec sequence format, the leave-one-out split and full-ranking metrics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from actions.recommend.metrics import ranking_scores, target_ranks
from actions.recommend.sequences import (
    SequenceFileError,
    Sequences,
    eval_cases,
    left_padded,
    length_batches,
    training_prefixes,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seq.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_users_in_order_and_splits_leave_one_out(tmp_path: Path) -> None:
    seqs = Sequences.read(write(tmp_path, "1 1 2 3 4\n2 5 6\n\n3 7\n"))
    assert seqs.users == ("1", "2", "3")
    assert seqs.n_items == 7
    assert seqs.interactions == 7
    assert training_prefixes(seqs, 2) == [(1, 2), (), ()]
    assert training_prefixes(seqs, 1) == [(1, 2, 3), (5,), ()]
    valid = eval_cases(seqs, "valid")
    test = eval_cases(seqs, "test")
    assert [(c.user, c.history, c.target) for c in valid] == [(0, (1, 2), 3)]
    assert [(c.user, c.history, c.target) for c in test] == [(0, (1, 2, 3), 4), (1, (5,), 6)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("1 a b\n", "integers"), ("1\n", "at least one item"), ("1 0 2\n", "start at 1"), ("", "no")],
)
def test_bad_files_are_refused_with_the_line(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(SequenceFileError, match=problem):
        Sequences.read(write(tmp_path, text))


def test_left_padding_keeps_the_latest_items() -> None:
    padded = left_padded([(1, 2, 3, 4), (5,)], max_len=3)
    assert padded.tolist() == [[2, 3, 4], [0, 0, 5]]


def test_length_batches_cover_every_row_once() -> None:
    rows = [(1,) * n for n in (5, 1, 3, 2, 4, 6, 1)]
    batches = list(length_batches(rows, 3, np.random.default_rng(0)))
    assert sorted(i for b in batches for i in b) == list(range(7))
    assert all(len(b) <= 3 for b in batches)


def test_ranks_count_items_scored_higher() -> None:
    scores = np.array([[0.1, 0.9, 0.5, -np.inf], [0.3, 0.2, 0.1, 0.0]])
    assert target_ranks(scores, np.array([2, 0])).tolist() == [1, 0]


def test_hit_rate_and_ndcg_from_ranks() -> None:
    scores = ranking_scores([0, 4, 9, 30])
    assert scores.hit_rate == {5: 0.5, 10: 0.75, 20: 0.75}
    expected_ndcg10 = (1 + 1 / math.log2(6) + 1 / math.log2(11)) / 4
    assert scores.ndcg[10] == pytest.approx(expected_ndcg10)
    assert scores.ndcg[5] == pytest.approx((1 + 1 / math.log2(6)) / 4)
    with pytest.raises(ValueError, match="no ranks"):
        ranking_scores([])
