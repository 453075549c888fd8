"""Interaction sequences in the S3-Rec format and their leave-one-out split.

One user per line, ``user item1 item2 …`` in time order, items numbered from 1 (0 is padding).
The last item of each user is the test target, the one before it the validation target, and the
rest is training data; this is the protocol of S3-Rec and the papers that compare with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class SequenceFileError(ValueError):
    """A sequence file that does not follow the ``user item1 item2 …`` format."""


@dataclass(frozen=True)
class Sequences:
    """Every user's items in time order; ``n_items`` is the largest item id."""

    users: tuple[str, ...]
    items: tuple[tuple[int, ...], ...]
    n_items: int

    @classmethod
    def read(cls, path: Path) -> Sequences:
        """Reads a sequence file.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            SequenceFileError: a line has no items, or an item is not a positive integer.
        """
        users: list[str] = []
        items: list[tuple[int, ...]] = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) < 2:
                    raise SequenceFileError(f"{path}:{number}: a user needs at least one item")
                try:
                    row = tuple(int(f) for f in fields[1:])
                except ValueError:
                    raise SequenceFileError(
                        f"{path}:{number}: items must be integers, got {line.strip()[:80]!r}"
                    ) from None
                if min(row) < 1:
                    raise SequenceFileError(f"{path}:{number}: item ids start at 1 (0 is padding)")
                users.append(fields[0])
                items.append(row)
        if not items:
            raise SequenceFileError(f"{path}: no sequences")
        return cls(tuple(users), tuple(items), max(max(row) for row in items))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def interactions(self) -> int:
        return sum(len(row) for row in self.items)


@dataclass(frozen=True)
class EvalCase:
    """One user's ranking question: given ``history``, where does ``target`` rank?

    Items in ``history`` are left out of the ranking (the user has them already).
    """

    user: int
    history: tuple[int, ...]
    target: int


def training_prefixes(sequences: Sequences, holdout: int) -> list[tuple[int, ...]]:
    """Each user's items without the last ``holdout`` (2 while selecting, 1 for the final fit)."""
    return [row[:-holdout] if holdout else row for row in sequences.items]


def eval_cases(sequences: Sequences, split: str) -> list[EvalCase]:
    """Validation (second-to-last item) or test (last item) cases of users with enough items.

    Users with fewer than 3 items (validation) or 2 items (test) have no case.
    """
    if split not in ("valid", "test"):
        raise ValueError(f"split must be 'valid' or 'test', not {split!r}")
    offset = 2 if split == "valid" else 1
    cases = []
    for user, row in enumerate(sequences.items):
        if len(row) > offset:
            cases.append(EvalCase(user, row[: len(row) - offset], row[len(row) - offset]))
    return cases


def left_padded(rows: Sequence[Sequence[int]], max_len: int) -> np.ndarray:
    """The last ``max_len`` items of each row, right-aligned, padded with 0 on the left."""
    width = min(max_len, max((len(r) for r in rows), default=1)) or 1
    out = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        tail = list(row[-width:])
        if tail:
            out[i, width - len(tail) :] = tail
    return out


def length_batches(
    rows: Sequence[Sequence[int]], batch_size: int, rng: np.random.Generator
) -> Iterator[list[int]]:
    """Row indices in batches of similar length (little padding), in a shuffled order."""
    order = np.argsort([len(r) + rng.random() for r in rows], kind="stable")
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    for index in rng.permutation(len(batches)):
        yield batches[index]
