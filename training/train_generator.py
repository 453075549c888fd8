"""``python -m bot train-generator``: builds the data, measures, fine-tunes and saves the adapter.

Steps, each with a progress bar: resolve the base model (converting the packaged GGUF once),
read Bitext in place and split it as the baseline did, build grounded examples from the shop's
knowledge and orders, measure held-out perplexity, train, measure again, save.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ROOT, Settings

if TYPE_CHECKING:
    from bot.generation.training_data import ChatExample, Retrieved
    from bot.nlu.encoder import TextEncoder

log = logging.getLogger(__name__)

DEFAULT_BITEXT = (
    ROOT.parent / "shared/datasets/bitext-customer-support/bitext_cs_train_v2_8b6ca3d.csv"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="output folder (generator.adapter)")
    parser.add_argument(
        "--base", default=None, help="base model (generator.model): smollm2 or a folder"
    )
    parser.add_argument("--method", choices=("lora", "full"), default="lora")
    parser.add_argument(
        "--bitext", type=Path, default=DEFAULT_BITEXT, help="Bitext v2 CSV (read in place)"
    )
    parser.add_argument(
        "--bitext-train", type=int, default=400, help="Bitext rows to train on; 0 = all"
    )
    parser.add_argument(
        "--bitext-eval", type=int, default=300, help="held-out rows for perplexity; 0 = all"
    )
    parser.add_argument(
        "--per-passage", type=int, default=12, help="grounded examples per knowledge passage"
    )
    parser.add_argument("--orders", type=int, default=100, help="order-fact examples")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument(
        "--lr", type=float, default=None, help="learning rate (2e-4 LoRA, 5e-5 full)"
    )
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--tokens-per-batch", type=int, default=4096)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads; 0 = torch's choice"
    )
    parser.add_argument("--seed", type=int, default=0)


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Runs the whole recipe; returns the metrics written to ``metrics.json``."""
    import torch

    from bot.generation.model_files import dtype_for, resolve_model_folder
    from bot.generation.training import (
        TrainConfig,
        encode_all,
        perplexity,
        prepare_model,
        save,
        train,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or settings.path(settings.generator.adapter)
    lr = args.lr or (2e-4 if args.method == "lora" else 5e-5)
    config = TrainConfig(
        method=args.method,
        lora_r=args.lora_r,
        lora_alpha=2 * args.lora_r,
        learning_rate=lr,
        epochs=args.epochs,
        max_tokens=args.max_tokens,
        tokens_per_batch=args.tokens_per_batch,
        seed=args.seed,
        device=args.device,
        threads=torch.get_num_threads(),
    )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = resolve_model_folder(args.base or settings.generator.model)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    dtype = getattr(torch, dtype_for(args.device))
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(args.device)
    train_examples, evals, counts = build_data(settings, args)
    encoded_train, dropped = encode_all(tokenizer, train_examples, config.max_tokens)
    encoded_eval = {
        name: encode_all(tokenizer, ex, config.max_tokens)[0] for name, ex in evals.items()
    }
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    before = {
        n: round(perplexity(model, e, pad_id=pad, desc=f"ppl {n} (base)"), 4)
        for n, e in encoded_eval.items()
    }
    log.info("base perplexity: %s", before)
    model = prepare_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    record = train(model, tokenizer, encoded_train, config)
    after = {
        n: round(perplexity(model, e, pad_id=pad, desc=f"ppl {n} (tuned)"), 4)
        for n, e in encoded_eval.items()
    }
    log.info("tuned perplexity: %s", after)
    metrics = {
        "base_model": str(args.base or settings.generator.model),
        "perplexity_base": before,
        "perplexity_tuned": after,
        "examples": counts | {"dropped_too_long": dropped},
        "train_tokens": sum(len(e.input_ids) for e in encoded_train),
        "target_tokens": sum(e.target_tokens for e in encoded_train),
        "trainable_parameters": trainable,
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        **{k: v for k, v in record.items() if k != "losses"},
        "loss_curve": record["losses"][:: max(1, len(record["losses"]) // 100)],
    }
    save(model, tokenizer, out, config, metrics)
    print(json.dumps({k: v for k, v in metrics.items() if k != "loss_curve"}, indent=2))
    return metrics


def build_data(
    settings: Settings, args: argparse.Namespace
) -> tuple[list[ChatExample], dict[str, list[ChatExample]], dict[str, int]]:
    """Training examples, held-out sets by name, and the counts of each kind."""
    from bot.generation.training_data import (
        GroundedBuilder,
        Question,
        bitext_examples,
        heading_questions,
        order_examples,
        read_bitext,
        split_bitext,
    )
    from bot.knowledge.passages import load_passages
    from bot.nlu.encoder import MiniLMEncoder
    from bot.nlu.training_data import load_nlu_yaml

    rows = read_bitext(args.bitext)
    bitext_train, bitext_held = split_bitext(rows)
    bitext_train_used = bitext_train[: args.bitext_train] if args.bitext_train else bitext_train
    bitext_eval = bitext_held[: args.bitext_eval] if args.bitext_eval else bitext_held

    passages = load_passages(settings.path(settings.knowledge.directory))
    profile = settings.shop
    encoder = MiniLMEncoder()
    builder = GroundedBuilder(
        passages,
        encoder,
        shop_name=profile.name,
        placeholders=profile.placeholders(),
        top_k=settings.generator.prompt_passages,
        max_sentences=settings.generator.focus_sentences,
        seed=args.seed,
    )
    nlu = load_nlu_yaml(settings.path(settings.nlu.training_data))
    known = {i for p in passages for i in p.intents}
    questions = [Question(e.text, e.intent) for e in nlu.examples if e.intent in known]
    # Bitext questions of the same intents, from the training split only, in its own words.
    questions += [
        Question(r.instruction, r.intent)
        for r in bitext_train[:6000]
        if r.intent in known and "{{" not in r.instruction
    ]
    questions += heading_questions(passages)
    retrieved = retrieve(settings, encoder, [q.text for q in questions])
    # The answerer never calls the model when the best passage is below the bar, so neither
    # does training: such questions would teach answers the model is never asked for.
    usable = [(q, r) for q, r in zip(questions, retrieved, strict=True) if r.relevant]
    grounded = builder.build(
        [q for q, _ in usable], [r for _, r in usable], max_per_passage=args.per_passage
    )
    off_topic = [e.text for e in nlu.examples if e.intent == "out_of_scope"]
    off_hits = retrieve(settings, encoder, off_topic)
    passing = [(q, r) for q, r in zip(off_topic, off_hits, strict=True) if r.relevant]
    grounded += builder.unanswerable([q for q, _ in passing], [r for _, r in passing])
    grounded += order_examples(
        settings.path(settings.nlu.catalog).parent / "orders.json",
        passages,
        shop_name=profile.name,
        placeholders=profile.placeholders(),
        seed=args.seed,
        limit=args.orders,
    )
    rng = random.Random(args.seed)
    rng.shuffle(grounded)
    cut = max(1, len(grounded) // 10)
    grounded_eval, grounded_train = grounded[:cut], grounded[cut:]
    train_set = bitext_examples(bitext_train_used) + grounded_train
    counts: dict[str, int] = {
        "bitext_train": len(bitext_train_used),
        "bitext_eval": len(bitext_eval),
        "grounded_train": len(grounded_train),
        "grounded_eval": len(grounded_eval),
    }
    for kind in ("grounded", "abstain", "order"):
        counts[f"{kind}_train"] = sum(1 for e in grounded_train if e.kind == kind)
    return train_set, {"bitext": bitext_examples(bitext_eval), "grounded": grounded_eval}, counts


def retrieve(settings: Settings, encoder: TextEncoder, texts: Sequence[str]) -> list[Retrieved]:
    """The serving knowledge base's hits for each text (same settings, same fusion)."""
    import asyncio

    from bot.composition import retrieval_settings
    from bot.generation.training_data import Retrieved
    from bot.knowledge import KnowledgeBase
    from bot.nlu.encoder import BatchingEncoder

    bar = settings.policy.answer_min_score

    async def search_all() -> list[Retrieved]:
        batcher = BatchingEncoder(encoder, max_batch=256, max_wait_s=0.01)
        base = KnowledgeBase.from_directory(
            settings.path(settings.knowledge.directory),
            batcher,
            settings=retrieval_settings(settings),
        )
        await base.load()
        limit = asyncio.Semaphore(256)

        async def one(text: str) -> Retrieved:
            async with limit:
                hits = await base.search(text, k=settings.knowledge.top_k)
            return Retrieved(tuple(h.passage.id for h in hits), bool(hits) and hits[0].clears(bar))

        try:
            return list(await asyncio.gather(*(one(t) for t in texts)))
        finally:
            await batcher.aclose()

    return asyncio.run(search_all())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot train-generator [options]``."""
    from bot.config import load_settings

    parser = argparse.ArgumentParser(prog="python -m bot train-generator", description=__doc__)
    parser.add_argument("--config", type=Path, default=None, help="config file (config.yml)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.bitext.exists():
        print(f"error: {args.bitext} not found (pass --bitext)", file=sys.stderr)
        return 1
    run(load_settings(args.config), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
