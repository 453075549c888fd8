"""Chats to token ids with an assistant-only loss mask, and padded batches of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from bot.generation.backend import ChatMessage

IGNORE = -100
"""Label of tokens that carry no loss (the prompt); the value torch's cross-entropy skips."""


@dataclass(frozen=True, slots=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def as_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def prompt_ids(tokenizer: Any, messages: Sequence[ChatMessage]) -> list[int]:
    """Token ids of a chat ending with the assistant's turn opened (what generation continues)."""
    ids = tokenizer.apply_chat_template(
        as_dicts(messages), add_generation_prompt=True, tokenize=True
    )
    return list(_ids(ids))


def encode_chat(tokenizer: Any, messages: Sequence[ChatMessage], max_tokens: int) -> Encoded | None:
    """The chat's ids, with labels only on the final assistant message (and its end token).

    The prompt is everything the template puts before the answer, so the loss never rewards
    the model for predicting the shopper's words or the context. A chat whose prompt alone
    fills ``max_tokens`` is dropped (None): cutting the context would teach answers without
    their grounding. A long answer is cut at ``max_tokens``.
    """
    if not messages or messages[-1].role != "assistant":
        raise ValueError("a training chat must end with the assistant's answer")
    prefix = prompt_ids(tokenizer, messages[:-1])
    full = list(_ids(tokenizer.apply_chat_template(as_dicts(messages), tokenize=True)))
    if full[: len(prefix)] != prefix:
        raise ValueError("the chat template does not extend the prompt with the answer")
    # Templates end the answer with "<end>\n"; the newline after the end token is not a target.
    end = tokenizer.eos_token_id
    answer = full[len(prefix) :]
    if end in answer:
        answer = answer[: answer.index(end) + 1]
    if len(prefix) >= max_tokens - 8:
        return None
    ids = (prefix + answer)[:max_tokens]
    labels = ([IGNORE] * len(prefix) + answer)[:max_tokens]
    return Encoded(ids, labels)


def collate(batch: Sequence[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors: input ids, attention mask, labels (padding ignored)."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def length_batches(
    encoded: Sequence[Encoded], *, max_tokens_per_batch: int, max_batch: int
) -> list[list[int]]:
    """Indices grouped by similar length so padding wastes little compute."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = len(encoded[i].input_ids)
        if current and (
            (len(current) + 1) * width > max_tokens_per_batch or len(current) >= max_batch
        ):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _ids(value: Any) -> list[int]:
    # apply_chat_template returns a list, or a BatchEncoding-like mapping in transformers 5.
    if isinstance(value, dict) or hasattr(value, "keys"):
        value = value["input_ids"]
    return [int(v) for v in value]
