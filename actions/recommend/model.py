"""SASRec: a causal transformer that reads a user's items in order and scores the next one.

Kang & McAuley's architecture (learned item and position embeddings, pre-norm self-attention
blocks, the item embedding table reused to score every item), trained here with full softmax
cross-entropy over the catalogue instead of one sampled negative, which the literature since
(gSASRec, "SASRec+") shows to be worth most of the gap to later models.

Content fusion: when item text vectors are given (MiniLM embeddings of titles), each item's
vector is its learned embedding plus a learned projection of its text vector, so items seen
rarely still sit near similar products and a shopper's free-text request can be scored in the
same space.
"""

from __future__ import annotations

import math
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

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


class SASRec(nn.Module):
    """Item id sequences (left-padded with 0) in, one vector per position out."""

    def __init__(self, config: SASRecConfig, content: Tensor | None = None) -> None:
        super().__init__()
        self.config = config
        self.items = nn.Embedding(config.n_items + 1, config.dim, padding_idx=0)
        self.positions = nn.Embedding(config.max_len, config.dim)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            config.dim,
            config.heads,
            dim_feedforward=config.dim,
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
        nn.init.normal_(self.items.weight, std=config.dim**-0.5)
        with torch.no_grad():
            self.items.weight[0].zero_()

    def item_vectors(self) -> Tensor:
        """Every item's vector (row 0 is padding), used both as input and to score."""
        vectors = self.items.weight
        if self.content_projection is not None:
            vectors = vectors + self.content_projection(self.content)
        return vectors

    def encode(self, sequences: Tensor, vectors: Tensor | None = None) -> Tensor:
        """Hidden states ``(batch, length, dim)``; position ``t`` has seen items ``0..t``."""
        vectors = self.item_vectors() if vectors is None else vectors
        length = sequences.shape[1]
        if length > self.config.max_len:
            raise ValueError(f"sequences longer than max_len={self.config.max_len}")
        present = (sequences > 0).unsqueeze(-1)
        positions = torch.arange(length, device=sequences.device)
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
