"""Generation speed of the in-process model: time to first token and tokens/s for 1-64 streams.

N shoppers ask at the same moment; each gets a grounded prompt as the answerer builds it (shop
profile, three shipping passages from ``data/knowledge``, a question; about 390 tokens) and
up to ``--max-new-tokens`` greedy tokens from SmolLM2-135M-Instruct (merged with the LoRA
adapter in ``models/generator`` when one is there) served by
:class:`bot.generation.local.LocalGenerator`, which batches the streams continuously.

Reported per number of streams: time to first token (p50/p95, from the moment all N asked),
tokens/s of one stream after its first token (p50), aggregate tokens/s of all streams, decode
steps and the widest batch. Beside them, the memory-bandwidth ceiling of one stream: every
decode step reads all weights once, so one stream cannot exceed bandwidth / weight bytes.
Bandwidth is measured here by timing copies of a 1 GiB tensor; ``--bandwidth-gbs`` sets the
figure used for the ceiling (default: 17.0, the copy rate measured on the 2-core development
VM, 15-19 GB/s over six runs, counting bytes read and written as STREAM's copy does).

    python benchmarks/generation.py                        # CPU; 1, 8 and 32 streams
    python benchmarks/generation.py --streams 1,8,32,64 --max-new-tokens 64
    python benchmarks/generation.py --device cuda --adapter ''   # GPU, base model

Prints a table and writes ``benchmarks/results/generation-<device>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import ShopProfile  # noqa: E402
from bot.generation.backend import GenerationRequest  # noqa: E402
from bot.generation.local import LocalGenerator  # noqa: E402
from bot.generation.model_files import resolve_model_folder  # noqa: E402
from bot.generation.prompt import Source, build_messages  # noqa: E402
from bot.knowledge import fill_placeholders  # noqa: E402
from bot.knowledge.passages import load_passages  # noqa: E402
from bot.stats import percentile  # noqa: E402

DEFAULT_BANDWIDTH_GBS = 17.0
"""Copy bandwidth (read + write) of a 1 GiB torch tensor on the 2-core development VM."""

PASSAGES = (
    "shipping.md#shipping-options-and-fees",
    "shipping.md#where-we-ship",
    "shipping.md#carriers-and-tracking-numbers",
)
QUESTIONS = (
    "How long does express shipping take and what does it cost?",
    "Do you ship to Norway, and how much is delivery there?",
    "When will my order arrive if I pick standard shipping?",
    "Is there free shipping on orders over a certain amount?",
)


@dataclass(frozen=True)
class Row:
    streams: int
    ttft_p50_s: float
    ttft_p95_s: float
    stream_tps_p50: float
    aggregate_tps: float
    tokens_per_stream: float
    wall_s: float
    steps: int
    peak_batch: int


def measure_bandwidth(device: str, gib: float = 1.0, repeats: int = 5) -> float:
    """GB/s (10^9 bytes) of copying a ``gib`` GiB tensor, counting bytes read and written."""
    source = torch.ones(int(gib * (1 << 30)) // 4, dtype=torch.float32, device=device)
    target = torch.empty_like(source)
    target.copy_(source)  # first touch: page faults, not bandwidth
    best = math.inf
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        target.copy_(source)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    moved = 2 * source.numel() * source.element_size()
    del source, target
    return moved / best / 1e9


def weight_count(folder: Path) -> int:
    """Parameters stored in the folder's safetensors files (tied weights are stored once)."""
    from safetensors import safe_open

    total = 0
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as weights:
            for name in weights.keys():  # noqa: SIM118 - safe_open is not a mapping
                total += math.prod(weights.get_slice(name).get_shape())
    return total


def grounded_requests(max_new_tokens: int) -> list[GenerationRequest]:
    """One request per question, each with the same three passages as context."""
    profile = ShopProfile()
    by_id = {p.id: p for p in load_passages(ROOT / "data" / "knowledge")}
    sources = [
        Source(
            by_id[i].id,
            f"{by_id[i].title} - {by_id[i].heading}",
            fill_placeholders(by_id[i].text, profile.placeholders()),
        )
        for i in PASSAGES
    ]
    return [
        GenerationRequest(
            build_messages(shop_name=profile.name, question=question, sources=sources),
            max_new_tokens=max_new_tokens,
            timeout_s=3600,
        )
        for question in QUESTIONS
    ]


async def one_round(
    generator: LocalGenerator, requests: list[GenerationRequest], tokenizer: Any, bar: Any
) -> tuple[list[float], list[float], int, float]:
    """All requests at once: first-token times, per-stream tokens/s, tokens, wall seconds."""
    started = time.perf_counter()

    async def one(request: GenerationRequest) -> tuple[float, float, int]:
        first: float | None = None
        text = ""
        async for piece in generator.stream(request):
            if first is None:
                first = time.perf_counter()
            text += piece
        end = time.perf_counter()
        first = first or end
        tokens = len(tokenizer.encode(text, add_special_tokens=False))
        bar.update(1)
        return first - started, (tokens - 1) / (end - first) if end > first else 0.0, tokens

    before = generator.stats.tokens_generated
    results = await asyncio.gather(*(one(r) for r in requests))
    wall = time.perf_counter() - started
    generated = generator.stats.tokens_generated - before
    return [r[0] for r in results], [r[1] for r in results], generated, wall


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from transformers import AutoTokenizer

    folder = resolve_model_folder(args.model)
    adapter = Path(args.adapter) if args.adapter else None
    if adapter is not None and not (adapter / "adapter_config.json").is_file():
        print(f"no adapter in {adapter}: the base model answers")
        adapter = None
    print("measuring memory bandwidth (1 GiB tensor copies) ...")
    measured = measure_bandwidth(args.device)
    streams = [int(s) for s in args.streams.split(",")]
    generator = LocalGenerator(
        folder,
        adapter_dir=adapter,
        device=args.device,
        max_batch=max(streams),
        max_waiting=max(streams),
        timeout_s=3600,
        threads=args.threads,
        prefill_tokens=args.prefill_tokens,
    )
    loading = time.perf_counter()
    await generator.start()
    load_s = time.perf_counter() - loading
    tokenizer = AutoTokenizer.from_pretrained(folder)
    requests = grounded_requests(args.max_new_tokens)
    prompt_tokens = [generator.prompt_tokens(r.messages) for r in requests]
    print(f"prompt tokens: {prompt_tokens} (model loaded in {load_s:.1f}s)")
    dtype = generator.dtype or ("float32" if args.device == "cpu" else "bfloat16")
    params = weight_count(folder)
    weight_bytes = params * torch.empty(0, dtype=getattr(torch, dtype)).element_size()

    await generator.complete(requests[0])  # warm-up: first-call allocations, lazy imports
    rows = []
    try:
        for n in streams:
            rounds = max(1, math.ceil(args.min_samples / n))
            ttft: list[float] = []
            rates: list[float] = []
            tokens, wall = 0, 0.0
            before = generator.stats
            with tqdm(total=n * rounds, desc=f"{n} streams", unit="answer") as bar:
                for _ in range(rounds):
                    batch = [requests[i % len(requests)] for i in range(n)]
                    first, rate, generated, seconds = await one_round(
                        generator, batch, tokenizer, bar
                    )
                    ttft += first
                    rates += rate
                    tokens += generated
                    wall += seconds
            after = generator.stats
            rows.append(
                Row(
                    streams=n,
                    ttft_p50_s=round(statistics.median(ttft), 3),
                    ttft_p95_s=round(percentile(ttft, 0.95) or 0.0, 3),
                    stream_tps_p50=round(statistics.median(rates), 2),
                    aggregate_tps=round(tokens / wall, 2),
                    tokens_per_stream=round(tokens / (n * rounds), 1),
                    wall_s=round(wall, 2),
                    steps=after.steps - before.steps,
                    peak_batch=after.peak_batch,
                )
            )
    finally:
        await generator.aclose()
    return {
        "device": args.device,
        "model": str(folder.name),
        "adapter": _shown(adapter) if adapter else None,
        "dtype": dtype,
        "threads": args.threads or torch.get_num_threads(),
        "parameters": params,
        "weight_bytes": weight_bytes,
        "prompt_tokens": prompt_tokens,
        "max_new_tokens": args.max_new_tokens,
        "prefill_tokens": args.prefill_tokens,
        "load_s": round(load_s, 2),
        "bandwidth": {
            "measured_copy_gbs": round(measured, 2),
            "assumed_gbs": args.bandwidth_gbs,
            "one_stream_limit_tps": round(args.bandwidth_gbs * 1e9 / weight_bytes, 1),
            "one_stream_limit_tps_measured": round(measured * 1e9 / weight_bytes, 1),
        },
        "rows": [asdict(row) for row in rows],
    }


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (results files get committed)."""
    return (
        str(path.resolve().relative_to(ROOT)) if path.resolve().is_relative_to(ROOT) else str(path)
    )


def print_table(result: dict[str, Any]) -> None:
    band = result["bandwidth"]
    print(
        f"\n{result['model']} ({result['parameters'] / 1e6:.0f} M parameters, "
        f"{result['dtype']}, {result['weight_bytes'] / 1e6:.0f} MB read per step) on "
        f"{result['device']}, {result['threads']} threads; adapter: {result['adapter']}"
    )
    print(
        f"prompt {result['prompt_tokens'][0]}-{max(result['prompt_tokens'])} tokens, up to "
        f"{result['max_new_tokens']} new tokens per stream"
    )
    print(
        f"bandwidth: measured {band['measured_copy_gbs']} GB/s (1 GiB copy); one stream "
        f"<= {band['one_stream_limit_tps']} tok/s at {band['assumed_gbs']} GB/s "
        f"({band['one_stream_limit_tps_measured']} tok/s at the measured rate)"
    )
    header = (
        f"{'streams':>7} {'TTFT p50':>9} {'TTFT p95':>9} {'tok/s/stream':>13} "
        f"{'tok/s total':>12} {'tok/stream':>11} {'steps':>6} {'peak':>5} {'wall s':>7}"
    )
    print(header)
    for row in result["rows"]:
        print(
            f"{row['streams']:>7} {row['ttft_p50_s']:>9.2f} {row['ttft_p95_s']:>9.2f} "
            f"{row['stream_tps_p50']:>13.1f} {row['aggregate_tps']:>12.1f} "
            f"{row['tokens_per_stream']:>11.1f} {row['steps']:>6} {row['peak_batch']:>5} "
            f"{row['wall_s']:>7.1f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,8,32", help="comma-separated stream counts")
    parser.add_argument("--model", default="smollm2", help="`smollm2` or a model folder")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument(
        "--adapter",
        default=str(ROOT / "models" / "generator"),
        help="LoRA adapter folder, used when it holds adapter_config.json; '' = base model",
    )
    parser.add_argument(
        "--bandwidth-gbs",
        type=float,
        default=DEFAULT_BANDWIDTH_GBS,
        help="memory bandwidth for the one-stream ceiling (default: measured on the dev VM)",
    )
    parser.add_argument("--min-samples", type=int, default=8, help="answers per stream count")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument(
        "--prefill-tokens", type=int, default=512, help="prompt tokens prefilled per step"
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="default: results/generation-<device>.json"
    )
    args = parser.parse_args()

    result = asyncio.run(run(args))
    print_table(result)
    path = args.json or ROOT / "benchmarks" / "results" / f"generation-{args.device}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
