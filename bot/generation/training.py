"""Fine-tuning the answer model: LoRA (default) or full, assistant-only loss, seeded.

Recipe (``python -m bot train-generator --help`` lists every option)::

    # the shipped adapter, on this 2-core CPU
    python -m bot train-generator --out models/generator
    # a bigger run where a GPU is lent
    python -m bot train-generator --bitext-train 0 --epochs 2 --device cuda

The folder written holds the peft adapter (or the full model), ``training_config.json`` with
every setting and data count, and ``metrics.json`` with the held-out perplexities before and
after training.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from bot.generation.tokenize import Encoded, collate, encode_chat, length_batches
from bot.generation.training_data import ChatExample

log = logging.getLogger(__name__)

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""Every linear layer of a Llama-style block: the setting the issue's baseline measured."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one fine-tuning run; saved beside the weights."""

    method: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = LORA_TARGETS
    learning_rate: float = 2e-4
    epochs: float = 1.0
    warmup_share: float = 0.05
    weight_decay: float = 0.0
    max_tokens: int = 512
    tokens_per_batch: int = 4096
    max_batch: int = 16
    grad_clip: float = 1.0
    seed: int = 0
    device: str = "cpu"
    threads: int = 0
    adapter_dtype: str = "float16"

    def __post_init__(self) -> None:
        if self.method not in ("lora", "full"):
            raise ValueError(f"method must be 'lora' or 'full', got {self.method!r}")
        if self.epochs <= 0 or self.learning_rate <= 0:
            raise ValueError("epochs and learning_rate must be positive")


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def encode_all(
    tokenizer: Any, examples: Sequence[ChatExample], max_tokens: int
) -> tuple[list[Encoded], int]:
    """Encoded examples and how many were dropped because their prompt did not fit."""
    encoded = [encode_chat(tokenizer, e.messages, max_tokens) for e in examples]
    kept = [e for e in encoded if e is not None and e.target_tokens > 0]
    return kept, len(encoded) - len(kept)


@torch.no_grad()
def perplexity(
    model: Any,
    encoded: Sequence[Encoded],
    *,
    pad_id: int,
    tokens_per_batch: int = 8192,
    max_batch: int = 32,
    desc: str = "perplexity",
) -> float:
    """exp(mean negative log-likelihood per answer token) over the examples."""
    model.eval()
    device = next(model.parameters()).device
    total_nll, total_tokens = 0.0, 0
    batches = length_batches(encoded, max_tokens_per_batch=tokens_per_batch, max_batch=max_batch)
    for batch in tqdm(batches, desc=desc, unit="batch", leave=False):
        tensors = {k: v.to(device) for k, v in collate([encoded[i] for i in batch], pad_id).items()}
        nll, tokens = _loss_sum(model, tensors)
        total_nll += float(nll)
        total_tokens += tokens
    return math.exp(total_nll / max(total_tokens, 1))


def _loss_sum(model: Any, tensors: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    labels = tensors["labels"]
    shifted = labels[:, 1:]
    keep = shifted != -100
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    # Only answer positions are projected to the vocabulary: grounded prompts are mostly context,
    # and the full logits tensor (tokens x 49k) would cost more time and memory than the model.
    hidden = causal_lm.model(
        input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"]
    ).last_hidden_state
    picked = causal_lm.lm_head(hidden[:, :-1][keep]).float()
    nll = torch.nn.functional.cross_entropy(picked, shifted[keep], reduction="sum")
    return nll, int(keep.sum())


def prepare_model(model: Any, config: TrainConfig) -> Any:
    """Wraps the model for the chosen method; only trainable parameters get gradients."""
    if config.method == "full":
        model.train()
        return model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_targets),
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, lora)
    peft_model.train()
    return peft_model


def train(
    model: Any,
    tokenizer: Any,
    train_set: Sequence[Encoded],
    config: TrainConfig,
    *,
    on_step: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Runs the optimisation; returns the loss curve and timing. ``model`` is changed in place."""
    set_seed(config.seed)
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    device = next(model.parameters()).device
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("the model has no trainable parameters")
    optimiser = torch.optim.AdamW(
        trainable, lr=config.learning_rate, weight_decay=config.weight_decay
    )
    batches = length_batches(
        train_set, max_tokens_per_batch=config.tokens_per_batch, max_batch=config.max_batch
    )
    rng = random.Random(config.seed)
    whole_epochs = math.ceil(config.epochs)
    total_steps = max(1, round(len(batches) * config.epochs))
    warmup = max(1, int(total_steps * config.warmup_share))

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    losses: list[float] = []
    step = 0
    started = time.perf_counter()
    model.train()
    bar = tqdm(total=total_steps, desc=f"train-generator ({config.method})", unit="step")
    for _ in range(whole_epochs):
        order = list(batches)
        rng.shuffle(order)
        for batch in order:
            if step >= total_steps:
                break
            tensors = {
                k: v.to(device) for k, v in collate([train_set[i] for i in batch], pad_id).items()
            }
            nll, tokens = _loss_sum(model, tensors)
            loss = nll / max(tokens, 1)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            recent = sum(losses[-20:]) / len(losses[-20:])
            bar.set_postfix(loss=f"{recent:.3f}")
            bar.update()
            if on_step is not None:
                on_step(step, losses[-1])
    bar.close()
    return {
        "steps": step,
        "train_seconds": round(time.perf_counter() - started, 1),
        "first_loss": round(sum(losses[:20]) / max(1, len(losses[:20])), 4),
        "last_loss": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4),
        "losses": [round(x, 4) for x in losses],
    }


def save(
    model: Any, tokenizer: Any, out: Path, config: TrainConfig, record: dict[str, Any]
) -> None:
    """Writes the adapter (or full model), its config and the run's record."""
    out.mkdir(parents=True, exist_ok=True)
    if config.method == "lora":
        # The adapter ships in the repository: half precision halves its size, and peft casts
        # it back to the base model's dtype when it is loaded.
        dtype = getattr(torch, config.adapter_dtype)
        state = {n: p.detach().to(dtype) for n, p in model.named_parameters() if p.requires_grad}
        model.save_pretrained(out, state_dict=state, safe_serialization=True)
    else:
        model.save_pretrained(out, safe_serialization=True)
        tokenizer.save_pretrained(out)
    (out / "training_config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(record, indent=2) + "\n")
