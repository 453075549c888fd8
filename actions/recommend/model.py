"""SASRec: a causal transformer that reads a user's items in order and scores the next one.

Kang & McAuley's architecture (learned item and position embeddings, pre-norm self-attention
blocks, the item embedding table reused to score every item), trained here with full softmax
cross-entropy over the catalogue instead of one sampled negative, which the literature since
(gSASRec, "SASRec+") shows to be worth most of the gap to later models.

Positions count back from the latest item (0 = the most recent), so the item a prediction is
made after always has the same position embedding, in training and in serving alike. Training
(``training.py``) therefore scores the last position of every prefix of a history, as the
papers this is compared with do, rather than every position of the whole history, where the
most recent item's position would depend on how much history followed it.

Content fusion: when item text vectors are given (MiniLM embeddings of titles), each item's
vector is its learned embedding plus a learned projection of its text vector, so items seen
rarely still sit near similar products and a shopper's free-text request can be scored in the
same space. Item attributes (brand, categories: ids from the data set) add the mean of their
learned embeddings in the same way.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters (chosen on validation data; see ``actions/recommend/selection.py``)."""

    n_items: int
    dim: int = 64
    layers: int = 2
    heads: int = 1
    max_len: int = 50
    dropout: float = 0.5
    content_dim: int = 0
    """Width of the item text vectors; 0 = no content fusion."""
    n_attributes: int = 0
    """Distinct item attribute ids (1..n); 0 = no attribute fusion."""
    ffn_mult: int = 1
    """Width of each block's feed-forward layer, in multiples of ``dim``."""

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


class SASRec(nn.Module):
    """Item id sequences (left-padded with 0) in, one vector per position out."""

    attribute_mean: Tensor  # buffer, present when attributes are fused

    def __init__(
        self,
        config: SASRecConfig,
        content: Tensor | None = None,
        attributes: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.items = nn.Embedding(config.n_items + 1, config.dim, padding_idx=0)
        self.positions = nn.Embedding(config.max_len, config.dim)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            config.dim,
            config.heads,
            dim_feedforward=config.dim * config.ffn_mult,
            dropout=config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.dim)
        self.content_projection: nn.Linear | None = None
        if config.content_dim:
            if content is None or content.shape != (config.n_items + 1, config.content_dim):
                raise ValueError(
                    f"content vectors must be ({config.n_items + 1}, {config.content_dim})"
                )
            self.register_buffer("content", content.float(), persistent=False)
            self.content_projection = nn.Linear(config.content_dim, config.dim, bias=False)
        self.attribute_table: nn.Embedding | None = None
        if config.n_attributes:
            if attributes is None or attributes.shape[0] != config.n_items + 1:
                raise ValueError(f"attribute ids must have {config.n_items + 1} rows")
            if int(attributes.max()) > config.n_attributes or int(attributes.min()) < 0:
                raise ValueError(f"attribute ids must lie in 0..{config.n_attributes}")
            # Each item's row averages its attributes: a sparse (items × attributes) matrix, so
            # the forward and backward passes cost one multiply-add per (item, attribute) pair.
            self.register_buffer("attribute_mean", _mean_matrix(attributes), persistent=False)
            self.attribute_table = nn.Embedding(config.n_attributes + 1, config.dim, padding_idx=0)
            nn.init.normal_(self.attribute_table.weight, std=config.dim**-0.5)
            with torch.no_grad():
                self.attribute_table.weight[0].zero_()
        nn.init.normal_(self.items.weight, std=config.dim**-0.5)
        with torch.no_grad():
            self.items.weight[0].zero_()

    def item_vectors(self) -> Tensor:
        """Every item's vector (row 0 is padding), used both as input and to score."""
        vectors = self.items.weight
        if self.content_projection is not None:
            vectors = vectors + self.content_projection(self.content)
        if self.attribute_table is not None:
            vectors = vectors + self.attribute_mean @ self.attribute_table.weight
        return vectors

    def encode(self, sequences: Tensor, vectors: Tensor | None = None) -> Tensor:
        """Hidden states ``(batch, length, dim)``; position ``t`` has seen items ``0..t``.

        Rows are left-padded, so the last column holds each row's latest item.
        """
        vectors = self.item_vectors() if vectors is None else vectors
        length = sequences.shape[1]
        if length > self.config.max_len:
            raise ValueError(f"sequences longer than max_len={self.config.max_len}")
        present = (sequences > 0).unsqueeze(-1)
        # The latest item (last column) is position 0, the one before it 1, and so on.
        positions = torch.arange(length - 1, -1, -1, device=sequences.device)
        x = vectors[sequences] * math.sqrt(self.config.dim) + self.positions(positions)
        x = self.dropout(x) * present
        # Causal, and padding keys hidden; every position may see itself, so a row of padding
        # never has all keys masked (which would give NaN).
        blocked = torch.ones(length, length, dtype=torch.bool, device=sequences.device).triu(1)
        mask = blocked.unsqueeze(0) | ~present.transpose(1, 2)
        mask = mask & ~torch.eye(length, dtype=torch.bool, device=sequences.device)
        heads = self.config.heads
        mask = mask.repeat_interleave(heads, dim=0)
        x = self.blocks(x, mask=mask)
        hidden: Tensor = self.norm(x) * present
        return hidden

    def last_state(self, sequences: Tensor) -> Tensor:
        """The hidden state after each user's latest item (sequences are left-padded)."""
        return self.encode(sequences)[:, -1, :]

    def score_all(self, sequences: Tensor) -> Tensor:
        """Scores of every item (column 0 = padding, set to -inf) for each sequence."""
        vectors = self.item_vectors()
        states = self.encode(sequences, vectors)[:, -1, :]
        scores = states @ vectors.T
        scores[:, 0] = float("-inf")
        return scores


def _mean_matrix(attributes: Tensor) -> Tensor:
    """Sparse (CSR) ``(items, attributes + 1)`` matrix whose row ``i`` averages item ``i``'s
    ids; CSR multiplies about twice as fast as COO on CPU, forwards and backwards."""
    rows, slots = torch.nonzero(attributes > 0, as_tuple=True)
    columns = attributes[rows, slots].long()
    counts = (attributes > 0).sum(dim=1).clamp(min=1).float()
    values = 1.0 / counts[rows]
    size = (attributes.shape[0], int(attributes.max()) + 1)
    matrix = torch.sparse_coo_tensor(
        torch.stack([rows, columns]), values, size, check_invariants=True
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return matrix.coalesce().to_sparse_csr()
