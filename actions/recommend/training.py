"""Trains SASRec with full-catalogue cross-entropy and scores it by full ranking.

Every position of a training prefix predicts the item that followed it. Batches group users of
similar length so little time goes on padding. Training stops when validation NDCG@10 has not
improved for ``patience`` evaluations, and the best weights are kept. Everything is seeded.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional
from tqdm import tqdm

from actions.recommend.metrics import RankingScores, ranking_scores, target_ranks
from actions.recommend.model import SASRec, SASRecConfig
from actions.recommend.sequences import EvalCase, left_padded, length_batches


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings."""

    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    eval_every: int = 2
    patience: int = 10
    """Evaluations without a better validation NDCG@10 before stopping."""
    seed: int = 0

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


@dataclass
class TrainReport:
    """What a training run did: epochs, time, and the validation curve."""

    epochs_run: int = 0
    best_epoch: int = 0
    best_valid_ndcg10: float = 0.0
    seconds: float = 0.0
    curve: list[dict[str, float]] = field(default_factory=list)


def set_seed(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)


def train_sasrec(
    model: SASRec,
    prefixes: Sequence[Sequence[int]],
    valid: Sequence[EvalCase],
    config: TrainConfig,
    *,
    device: str = "cpu",
    progress: bool = True,
    on_eval: Callable[[int, RankingScores], None] | None = None,
) -> TrainReport:
    """Fits ``model`` on ``prefixes``; keeps the weights with the best validation NDCG@10."""
    set_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    rows = [row for row in prefixes if len(row) >= 2]
    max_len = model.config.max_len + 1  # inputs and targets are shifted by one
    report = TrainReport()
    best_state = copy.deepcopy(model.state_dict())
    evaluations_without_gain = 0
    started = time.perf_counter()
    epochs = tqdm(range(1, config.epochs + 1), desc="training", unit="epoch", disable=not progress)
    for epoch in epochs:
        model.train()
        total, count = 0.0, 0
        for batch in length_batches(rows, config.batch_size, rng):
            padded = torch.from_numpy(left_padded([rows[i] for i in batch], max_len)).to(device)
            inputs, targets = padded[:, :-1], padded[:, 1:]
            loss = _next_item_loss(model, inputs, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
        report.epochs_run = epoch
        if epoch % config.eval_every and epoch != config.epochs:
            continue
        scores = evaluate(model, valid, device=device)
        ndcg10 = scores.ndcg[10]
        report.curve.append({"epoch": epoch, "loss": total / max(count, 1), "valid_ndcg10": ndcg10})
        epochs.set_postfix(loss=f"{total / max(count, 1):.3f}", valid_ndcg10=f"{ndcg10:.4f}")
        if on_eval is not None:
            on_eval(epoch, scores)
        if ndcg10 > report.best_valid_ndcg10:
            report.best_valid_ndcg10, report.best_epoch = ndcg10, epoch
            best_state = copy.deepcopy(model.state_dict())
            evaluations_without_gain = 0
        else:
            evaluations_without_gain += 1
            if evaluations_without_gain >= config.patience:
                break
    model.load_state_dict(best_state)
    report.seconds = time.perf_counter() - started
    return report


def _next_item_loss(model: SASRec, inputs: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy of every real position's next item over the whole catalogue."""
    vectors = model.item_vectors()
    states = model.encode(inputs, vectors)
    real = targets > 0
    logits = states[real] @ vectors.T
    logits[:, 0] = float("-inf")
    return functional.cross_entropy(logits, targets[real])


def candidate_scores(
    model: SASRec, cases: Sequence[EvalCase], *, device: str = "cpu", batch_size: int = 512
) -> Iterator[tuple[Sequence[EvalCase], Tensor]]:
    """Batches of cases with every item's score, the cases' histories at -inf.

    The user's earlier items are not candidates (the protocol of S3-Rec and after).
    """
    model.eval()
    for start in range(0, len(cases), batch_size):
        chunk = cases[start : start + batch_size]
        sequences = torch.from_numpy(
            left_padded([c.history for c in chunk], model.config.max_len)
        ).to(device)
        with torch.no_grad():
            scores = model.score_all(sequences).float()
        for row, case in enumerate(chunk):
            scores[row, list(case.history)] = float("-inf")
        yield chunk, scores


def rank_cases(
    model: SASRec, cases: Sequence[EvalCase], *, device: str = "cpu", batch_size: int = 512
) -> np.ndarray:
    """Each case's 0-based rank of its target among all items not in its history."""
    ranks = [
        target_ranks(scores.cpu().numpy(), np.array([c.target for c in chunk]))
        for chunk, scores in candidate_scores(model, cases, device=device, batch_size=batch_size)
    ]
    return np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)


def evaluate(model: SASRec, cases: Sequence[EvalCase], *, device: str = "cpu") -> RankingScores:
    """HR@{5,10,20} and NDCG@{5,10,20} over ``cases`` by full ranking."""
    return ranking_scores(rank_cases(model, cases, device=device))


def build_model(
    n_items: int,
    content: Tensor | None,
    *,
    dim: int = 64,
    layers: int = 2,
    heads: int = 1,
    max_len: int = 50,
    dropout: float = 0.5,
) -> SASRec:
    """A fresh SASRec for ``n_items`` items, fused with ``content`` vectors when given."""
    config = SASRecConfig(
        n_items=n_items,
        dim=dim,
        layers=layers,
        heads=heads,
        max_len=max_len,
        dropout=dropout,
        content_dim=0 if content is None else int(content.shape[1]),
    )
    return SASRec(config, content)


def top_items(
    model: SASRec, cases: Sequence[EvalCase], k: int, *, device: str = "cpu", batch_size: int = 512
) -> list[list[int]]:
    """Each case's ``k`` best items, its history left out."""
    tops: list[list[int]] = []
    for _, scores in candidate_scores(model, cases, device=device, batch_size=batch_size):
        tops.extend(torch.topk(scores, k, dim=1).indices.cpu().tolist())
    return tops
