"""Full-ranking hit rate and NDCG, as in S3-Rec's evaluation (every item is a candidate)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CUTOFFS = (5, 10, 20)


@dataclass(frozen=True)
class RankingScores:
    """HR@k and NDCG@k over a set of users (means, 0..1), and how many users were scored."""

    users: int
    hit_rate: dict[int, float]
    ndcg: dict[int, float]

    def as_dict(self) -> dict[str, float | int]:
        row: dict[str, float | int] = {"users": self.users}
        for k in sorted(self.hit_rate):
            row[f"HR@{k}"] = self.hit_rate[k]
        for k in sorted(self.ndcg):
            row[f"NDCG@{k}"] = self.ndcg[k]
        return row


def ranking_scores(
    ranks: Sequence[int] | np.ndarray, cutoffs: Sequence[int] = CUTOFFS
) -> RankingScores:
    """Scores from each user's 0-based rank of the held-out item (0 = ranked first)."""
    values = np.asarray(ranks, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no ranks to score")
    hit = {k: float(np.mean(values < k)) for k in cutoffs}
    gains = np.where(values < max(cutoffs), 1.0 / np.log2(values + 2.0), 0.0)
    ndcg = {k: float(np.mean(np.where(values < k, gains, 0.0))) for k in cutoffs}
    return RankingScores(int(values.size), hit, ndcg)


def target_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each row of ``scores`` (already -inf on excluded items), the rank of its target.

    The rank counts the items scored strictly higher than the target, so ties go the target's
    way no more than S3-Rec's ``argsort`` does for exactly equal floats (which never happen
    with learned scores).
    """
    target_scores = scores[np.arange(len(targets)), targets]
    ranks: np.ndarray = (scores > target_scores[:, None]).sum(axis=1)
    return ranks
