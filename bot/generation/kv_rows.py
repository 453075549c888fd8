"""The running batch's KV cache: rows that decode together, merged and trimmed in one copy.

The scheduler (:mod:`bot.generation.scheduler`) admits new requests between decode steps by
merging their freshly prefilled cache into the running one, and drops finished rows. Both go
through :func:`concat_rows`, which writes each layer once into buffers with spare columns that
:class:`RoomyLayer` then fills in place, one column per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from transformers.cache_utils import DynamicLayer

from bot.generation.backend import GenerationError

KV_ROOM = 64
"""Spare columns per layer buffer: the buffers are reallocated once every KV_ROOM steps."""


def check_cache_layers(cache: Any) -> None:
    """Refuses models whose cache layers cannot be merged row-wise (see the module docstring).

    Raises:
        GenerationError: A layer is not a plain ``DynamicLayer``.
    """
    for layer in cache.layers:
        if type(layer) is not DynamicLayer:
            raise GenerationError(
                f"the local generator batches only full-attention models; "
                f"this one has {type(layer).__name__} cache layers"
            )


@dataclass(eq=False, slots=True)
class Rows:
    """Rows decoding together: their jobs, KV cache, mask, next positions and next tokens."""

    jobs: list[Any]
    cache: Any
    mask: torch.Tensor  # [rows, columns], 0 on left padding
    positions: torch.Tensor  # [rows], each row's count of real tokens so far
    next: torch.Tensor  # [rows], the token each row feeds at the next step

    @classmethod
    def empty(cls, device: torch.device) -> Rows:
        def nothing(*shape: int) -> torch.Tensor:
            return torch.zeros(shape, dtype=torch.long, device=device)

        return cls([], None, nothing(0, 0), nothing(0), nothing(0))


class RoomyLayer(DynamicLayer):  # type: ignore[no-untyped-call]
    """A ``DynamicLayer`` whose keys and values are views of buffers with spare columns.

    ``DynamicLayer.update`` concatenates, copying the layer's whole cache at every step; at 32
    rows of 440 tokens that moves more memory than reading the weights does. Here a step
    writes its column in place, and the buffers are reallocated once every ``KV_ROOM`` steps.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._buffers: tuple[torch.Tensor, torch.Tensor] | None = None

    def adopt(self, keys: torch.Tensor, values: torch.Tensor, length: int) -> None:
        """Takes buffers ``[rows, heads, capacity, dim]`` whose first ``length`` columns are set."""
        self._buffers = (keys, values)
        self.keys, self.values = keys[:, :, :length], values[:, :, :length]
        self.dtype, self.device = keys.dtype, keys.device
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self._buffers is None or self.keys is None or self.values is None:
            raise RuntimeError("a RoomyLayer is filled with adopt() before it is used")
        length, new = self.keys.shape[2], key_states.shape[2]
        if length + new > self._buffers[0].shape[2]:
            self.adopt(_with_room(self.keys, new), _with_room(self.values, new), length)
        keys, values = self._buffers
        keys[:, :, length : length + new] = key_states
        values[:, :, length : length + new] = value_states
        self.keys, self.values = keys[:, :, : length + new], values[:, :, : length + new]
        return self.keys, self.values


def _with_room(states: torch.Tensor, new: int) -> torch.Tensor:
    rows, heads, length, dim = states.shape
    grown = states.new_empty((rows, heads, length + max(new, KV_ROOM), dim))
    grown[:, :, :length] = states
    return grown


def concat_rows(parts: Sequence[Rows], cache: Callable[[], Any], room: int) -> Rows:
    """The unreleased rows of ``parts`` as one batch, left-padded to a common width.

    Each layer's keys and values are written once into new buffers with ``room`` spare
    columns; columns that are padding in every kept row of a part are left out.
    """
    pieces = []
    for part in parts:
        keep = [row for row, job in enumerate(part.jobs) if not job.released]
        if not keep:
            continue
        index = None if len(keep) == len(part.jobs) else torch.tensor(keep, device=part.mask.device)
        mask = part.mask if index is None else part.mask[index]
        first = int(mask.any(dim=0).nonzero()[0])
        pieces.append((part, keep, index, first, mask[:, first:]))
    if not pieces:
        return Rows.empty(parts[0].mask.device)
    width = max(mask.shape[1] for *_, mask in pieces)
    rows = sum(len(keep) for _, keep, *_ in pieces)
    merged = cache()
    for number, layer in enumerate(merged.layers):
        buffers = []
        for name in ("keys", "values"):
            sample = getattr(pieces[0][0].cache.layers[number], name)
            buffer = sample.new_empty((rows, sample.shape[1], width + room, sample.shape[3]))
            start = 0
            for part, keep, index, first, mask in pieces:
                states = getattr(part.cache.layers[number], name)[:, :, first:]
                if index is not None:
                    states = states[index]
                end, pad = start + len(keep), width - mask.shape[1]
                buffer[start:end, :, :pad] = 0  # padding is masked, but 0 * NaN would not be
                buffer[start:end, :, pad:width] = states
                start = end
            buffers.append(buffer)
        layer.adopt(buffers[0], buffers[1], width)
    pick = [(part, index) for part, _, index, *_ in pieces]
    return Rows(
        [job for part, keep, *_ in pieces for job in (part.jobs[row] for row in keep)],
        merged,
        torch.cat([F.pad(mask, (width - mask.shape[1], 0)) for *_, mask in pieces]),
        torch.cat([p.positions if i is None else p.positions[i] for p, i in pick]),
        torch.cat([p.next if i is None else p.next[i] for p, i in pick]),
    )
