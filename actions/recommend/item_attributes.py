"""Item attributes for content fusion: the S3-Rec data sets' ``*_item2attributes.json``.

The file maps each item id to a list of attribute ids (brand and categories, numbered from 1).
They become a ``(n_items + 1, k)`` table padded with 0, which the model turns into the mean of
learned attribute embeddings per item, so items with few purchases share what their brand and
category mates have learned.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch


class AttributeFileError(ValueError):
    """An attribute file that is not ``{"item": [attribute, …], …}`` with positive ids."""


def read_item_attributes(path: Path, n_items: int) -> torch.Tensor:
    """The padded attribute-id table for items ``1..n_items`` (row 0 and unknown items are 0).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        AttributeFileError: the file is not an object of item id → list of positive integers.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AttributeFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise AttributeFileError(f"{path}: expected an object of item id → attribute ids")
    table: dict[int, list[int]] = {}
    for key, values in raw.items():
        try:
            item = int(key)
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            raise AttributeFileError(f"{path}: item {key!r} has non-integer ids") from None
        if any(v < 1 for v in ids):
            raise AttributeFileError(f"{path}: item {key!r}: attribute ids start at 1")
        if 1 <= item <= n_items:
            table[item] = sorted(set(ids))
    width = max((len(v) for v in table.values()), default=0) or 1
    out = torch.zeros((n_items + 1, width), dtype=torch.long)
    for item, ids in table.items():
        out[item, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


def attributes_beside(dataset: Path) -> Path | None:
    """``Beauty_item2attributes.json`` beside ``Beauty.txt``, when there is one."""
    candidate = dataset.with_name(f"{dataset.stem}_item2attributes.json")
    return candidate if candidate.is_file() else None
