"""SASRec trained on the shop's own purchase histories, served as the recommender's sequence signal.

``python -m actions.recommend train-shop`` fits the model (with the products' MiniLM text
vectors fused in, so rarely bought products still have a place) and writes a folder:
``weights.pt`` (the state dict), ``model.json`` (configuration, the product ids in model
order, training figures). :class:`SequenceScorer` loads it in the action server and turns a
customer's history into a probability for every product.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actions.recommend.model import SASRec, SASRecConfig
from actions.recommend.sequences import EvalCase, Sequences, eval_cases, training_prefixes
from actions.recommend.training import TrainConfig, build_model, evaluate, train_sasrec
from actions.shop.port import Product

FORMAT_VERSION = 2  # 2: positions count back from the latest item


def padded_content(text_vectors: np.ndarray) -> torch.Tensor:
    """The products' text vectors as model rows 1..n, with the zero row 0 for padding."""
    padding = np.zeros((1, text_vectors.shape[1]), np.float32)
    return torch.from_numpy(np.vstack([padding, np.asarray(text_vectors, np.float32)]))


def shop_sequences(
    products: Sequence[Product], histories: Mapping[str, Sequence[str]]
) -> Sequences:
    """The histories as S3-Rec style sequences, products numbered 1.. in catalogue order."""
    number = {p.product_id: i + 1 for i, p in enumerate(products)}
    users, rows = [], []
    for user, history in histories.items():
        row = tuple(number[p] for p in history if p in number)
        if row:
            users.append(user)
            rows.append(row)
    return Sequences(tuple(users), tuple(rows), len(products))


def train_shop_model(
    products: Sequence[Product],
    histories: Mapping[str, Sequence[str]],
    text_vectors: np.ndarray,
    out_dir: Path,
    *,
    config: TrainConfig | None = None,
    dim: int = 32,
    progress: bool = True,
) -> dict[str, Any]:
    """Trains on every history (the last purchase of each held out for early stopping).

    Args:
        text_vectors: ``(len(products), d)`` unit vectors of the product texts.

    Returns:
        The figures written to ``model.json``.
    """
    sequences = shop_sequences(products, histories)
    content = padded_content(text_vectors)
    model = build_model(len(products), content, dim=dim, max_len=50, dropout=0.3)
    config = config or TrainConfig(epochs=60, batch_size=64, lr=2e-3, eval_every=2, patience=8)
    # The held-out last purchase picks the epoch; users with one purchase only train.
    holdout: list[EvalCase] = eval_cases(sequences, "test")
    report = train_sasrec(
        model, training_prefixes(sequences, 1), holdout, config, progress=progress
    )
    scores = evaluate(model, holdout) if holdout else None
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out_dir / "weights.pt")
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "product_ids": [p.product_id for p in products],
        "train": config.to_dict(),
        "customers": len(sequences),
        "purchases": sequences.interactions,
        "best_epoch": report.best_epoch,
        "holdout": scores.as_dict() if scores else None,
    }
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


class SequenceScorer:
    """A trained shop model: history in, a probability for every product out."""

    def __init__(self, model: SASRec, product_ids: Sequence[str]) -> None:
        self._model = model.eval()
        self._number = {pid: i + 1 for i, pid in enumerate(product_ids)}
        self.product_ids = list(product_ids)

    @classmethod
    def load(
        cls, folder: Path, products: Sequence[Product], text_vectors: np.ndarray
    ) -> SequenceScorer | None:
        """The model in ``folder``, or ``None`` when it is absent or for another catalogue."""
        meta_path = folder / "model.json"
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION or meta.get("product_ids") != [
            p.product_id for p in products
        ]:
            return None  # trained on another catalogue: retrain with train-shop
        config = SASRecConfig(**meta["config"])
        content = padded_content(text_vectors) if config.content_dim else None
        model = SASRec(config, content)
        model.load_state_dict(torch.load(folder / "weights.pt", weights_only=True))
        return cls(model, meta["product_ids"])

    @torch.no_grad()
    def probabilities(self, history: Sequence[str]) -> np.ndarray:
        """Next-purchase probability of each product (catalogue order) after ``history``."""
        row = [self._number[p] for p in history if p in self._number]
        if not row:
            return np.full(len(self.product_ids), 1.0 / len(self.product_ids), np.float32)
        row = row[-self._model.config.max_len :]
        scores = self._model.score_all(torch.tensor([row]))[0, 1:]
        probabilities: np.ndarray = torch.softmax(scores, dim=0).numpy()
        return probabilities
