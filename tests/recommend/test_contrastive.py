"""The same-next-item contrastive regulariser: partners and the paired InfoNCE loss."""

from __future__ import annotations

import math

import numpy as np
import torch

from actions.recommend.contrastive import SameTargetPartners, paired_info_nce


def test_a_partner_shares_the_next_item_and_is_another_sample_when_one_exists() -> None:
    targets = torch.tensor([5, 7, 5, 9, 5, 7])
    partners = SameTargetPartners(targets)
    rng = np.random.default_rng(0)
    seen: dict[int, set[int]] = {i: set() for i in range(6)}
    for _ in range(200):
        for sample, partner in zip(range(6), partners.pick(list(range(6)), rng), strict=True):
            seen[sample].add(partner)
    assert seen[0] == {2, 4}  # both others with item 5, never itself
    assert seen[1] == {5}
    assert seen[5] == {1}
    assert seen[3] == {3}  # alone with item 9: its own second view


def test_the_loss_is_low_for_matching_pairs_and_high_for_swapped_ones() -> None:
    torch.manual_seed(0)
    first = functional_normalise(torch.randn(8, 16)) * 5
    targets = torch.arange(8)
    matched = paired_info_nce(first, first.clone(), targets, temperature=1.0)
    swapped = paired_info_nce(first, first.roll(1, dims=0), targets, temperature=1.0)
    assert matched < 0.1 < math.log(15) < swapped


def test_states_with_the_same_next_item_are_not_negatives() -> None:
    torch.manual_seed(0)
    first, second = torch.randn(4, 8), torch.randn(4, 8)
    distinct = paired_info_nce(first, second, torch.tensor([1, 2, 3, 4]), temperature=1.0)
    shared = paired_info_nce(first, second, torch.tensor([1, 1, 1, 1]), temperature=1.0)
    assert shared.item() == 0.0  # only the positive is left: nothing to push apart
    assert distinct > shared


def functional_normalise(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True)
