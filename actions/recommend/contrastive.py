"""A contrastive regulariser for the sequence model (DuoRec's, Qiu et al. 2022).

Two histories followed by the same item should get similar states. For each training history
the batch also encodes a *partner*: another history with the same next item when there is one,
else the same history again, whose fresh dropout gives a second view of it. An InfoNCE loss
pulls each pair together and pushes apart every other state in the batch, except those whose
next item is the same (they are not negatives). It spreads the states over the space and keeps
the few histories behind each rare item from being learned alone. A partner longer than the
longest history in its batch keeps only its latest items (a crop, itself an augmentation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional


class SameTargetPartners:
    """Finds, for a training sample, another sample whose next item is the same."""

    def __init__(self, targets: Tensor) -> None:
        order = torch.argsort(targets, stable=True).numpy()
        grouped = targets.numpy()[order]
        self._order = order
        self._start = np.empty_like(order)
        self._size = np.empty_like(order)
        self._rank = np.empty_like(order)
        starts = np.searchsorted(grouped, grouped, side="left")
        self._start[order] = starts
        self._size[order] = np.searchsorted(grouped, grouped, side="right") - starts
        self._rank[order] = np.arange(len(order))

    def pick(self, batch: Sequence[int], rng: np.random.Generator) -> list[int]:
        """For each of ``batch``, a random other sample with its next item (itself if alone)."""
        index = np.asarray(batch, dtype=np.int64)
        start, size, own = self._start[index], self._size[index], self._rank[index]
        offset = (rng.random(len(index)) * np.maximum(size - 1, 1)).astype(np.int64)
        slot = start + offset
        slot = np.where(slot >= own, slot + 1, slot)  # skip the sample itself
        slot = np.where(size > 1, slot, own)
        chosen: list[int] = self._order[slot].tolist()
        return chosen


def paired_info_nce(first: Tensor, second: Tensor, targets: Tensor, temperature: float) -> Tensor:
    """InfoNCE over ``2n`` states where ``first[i]`` and ``second[i]`` are a positive pair.

    States with the same target as the anchor are left out of its negatives.
    """
    n = first.shape[0]
    states = torch.cat([first, second])
    labels = torch.cat([targets, targets])
    similarity = states @ states.T / temperature
    same = labels[:, None] == labels[None, :]
    positive = torch.arange(2 * n, device=states.device).roll(n)
    blocked = same.clone()
    blocked[torch.arange(2 * n), positive] = False  # the pair itself stays in
    similarity = similarity.masked_fill(blocked, float("-inf"))
    return functional.cross_entropy(similarity, positive)
