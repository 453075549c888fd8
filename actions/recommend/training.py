"""Trains SASRec with full-catalogue cross-entropy and scores it by full ranking.

Every prefix of a user's training items predicts the item that followed it, from the prefix's
last position (positions count back from the latest item, see ``model.py``). Batches group
prefixes of similar length so little time goes on padding. Training stops when validation
NDCG@10 has not improved for ``patience`` evaluations, and the best weights are kept.
Everything is seeded.
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

from actions.recommend.contrastive import SameTargetPartners, paired_info_nce
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
    contrastive: float = 0.0
    """Weight of the same-next-item contrastive loss (``contrastive.py``); 0 = off."""
    temperature: float = 1.0
    """Temperature of that loss."""

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
    inputs, targets = next_item_samples(prefixes, model.config.max_len)
    partners = SameTargetPartners(targets) if config.contrastive else None
    report = TrainReport()
    best_state = copy.deepcopy(model.state_dict())
    evaluations_without_gain = 0
    started = time.perf_counter()
    epochs = tqdm(range(1, config.epochs + 1), desc="training", unit="epoch", disable=not progress)
    for epoch in epochs:
        model.train()
        total, count = 0.0, 0
        for batch in length_batches(inputs, config.batch_size, rng):
            loss = _batch_loss(model, inputs, targets, batch, partners, config, rng, device)
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


def next_item_samples(
    rows: Sequence[Sequence[int]], max_len: int
) -> tuple[list[tuple[int, ...]], Tensor]:
    """Every (history so far, next item) pair of ``rows``; histories keep their last ``max_len``."""
    inputs: list[tuple[int, ...]] = []
    targets: list[int] = []
    for row in rows:
        for end in range(1, len(row)):
            inputs.append(tuple(row[max(0, end - max_len) : end]))
            targets.append(row[end])
    return inputs, torch.tensor(targets, dtype=torch.long)


def _batch_loss(
    model: SASRec,
    inputs: Sequence[Sequence[int]],
    targets: Tensor,
    batch: list[int],
    partners: SameTargetPartners | None,
    config: TrainConfig,
    rng: np.random.Generator,
    device: str,
) -> Tensor:
    """Cross-entropy of each history's next item over the whole catalogue, plus the
    contrastive term when it is on."""
    vectors = model.item_vectors()
    states = _last_states(model, [inputs[i] for i in batch], vectors, device)
    batch_targets = targets[batch].to(device)
    logits = states @ vectors.T
    logits[:, 0] = float("-inf")
    loss = functional.cross_entropy(logits, batch_targets)
    if partners is not None:
        # Partners are cropped to the batch's longest history (their latest items kept): batches
        # group short histories, and a partner padded to 50 would cost ten times the batch.
        width = max(len(inputs[i]) for i in batch)
        cropped = [inputs[i][-width:] for i in partners.pick(batch, rng)]
        paired = _last_states(model, cropped, vectors, device)
        loss = loss + config.contrastive * paired_info_nce(
            states, paired, batch_targets, config.temperature
        )
    return loss


def _last_states(
    model: SASRec, histories: Sequence[Sequence[int]], vectors: Tensor, device: str
) -> Tensor:
    padded = torch.from_numpy(left_padded(histories, model.config.max_len)).to(device)
    return model.encode(padded, vectors)[:, -1, :]


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
    attributes: Tensor | None = None,
    dim: int = 64,
    layers: int = 2,
    heads: int = 1,
    max_len: int = 50,
    dropout: float = 0.5,
    ffn_mult: int = 1,
) -> SASRec:
    """A fresh SASRec for ``n_items`` items, fused with ``content`` vectors and ``attributes``
    (a padded ``(n_items + 1, k)`` table of attribute ids) when given."""
    config = SASRecConfig(
        n_items=n_items,
        dim=dim,
        layers=layers,
        heads=heads,
        max_len=max_len,
        dropout=dropout,
        content_dim=0 if content is None else int(content.shape[1]),
        n_attributes=0 if attributes is None else int(attributes.max()),
        ffn_mult=ffn_mult,
    )
    return SASRec(config, content, attributes)


def top_items(
    model: SASRec, cases: Sequence[EvalCase], k: int, *, device: str = "cpu", batch_size: int = 512
) -> list[list[int]]:
    """Each case's ``k`` best items, its history left out."""
    tops: list[list[int]] = []
    for _, scores in candidate_scores(model, cases, device=device, batch_size=batch_size):
        tops.extend(torch.topk(scores, k, dim=1).indices.cpu().tolist())
    return tops
