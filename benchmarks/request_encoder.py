"""MiniLM in float against MiniLM with int8 linear layers, for embedding shoppers' requests.

Speed: one request at a time (as the recommend action embeds them), p50/p95 in ms.
Quality: a catalogue of product titles from ``amazon-beauty-titles`` is embedded once in float
(as the action server does); queries are the first words of some of those titles, embedded by
each encoder; hit@1 and hit@10 say how often the title they came from ranks first / in the top
ten, and "agreement" how much of the int8 top ten the float top ten holds.

    python benchmarks/request_encoder.py [--titles ../shared/datasets/amazon-beauty-titles]

Prints a table and writes ``benchmarks/results/request_encoder.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.encoder import MiniLMEncoder  # noqa: E402
from bot.stats import percentiles_ms  # noqa: E402

REQUESTS = [
    "recommend me something",
    "a gift for my sister who runs, under $80",
    "a warm waterproof jacket for winter hikes",
    "something like the jacket I bought",
    "what goes with my last order?",
    "moisturiser for dry skin",
    "a good shampoo for curly hair under 20 dollars",
    "lightweight tent for two people",
    "I need new trail running shoes",
    "any ideas for a birthday present for my dad who likes camping?",
]


def read_titles(folder: Path) -> list[str]:
    lookup = folder / "products_lookup.csv"
    with lookup.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        return [row["name"].strip() for row in rows if (row.get("name") or "").strip()]


def timings_ms(encoder: MiniLMEncoder, repeats: int) -> list[float]:
    for text in REQUESTS:  # warm-up
        encoder.encode([text])
    timings = []
    for n in range(repeats):
        began = time.perf_counter()
        encoder.encode([REQUESTS[n % len(REQUESTS)]])
        timings.append((time.perf_counter() - began) * 1000)
    return sorted(timings)


def top10(queries: np.ndarray, catalogue: np.ndarray) -> np.ndarray:
    scores = queries @ catalogue.T
    best = np.argpartition(-scores, 10, axis=1)[:, :10]
    order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1)
    return np.take_along_axis(best, order, axis=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--titles", type=Path, default=ROOT.parent / "shared/datasets/amazon-beauty-titles"
    )
    parser.add_argument("--catalogue", type=int, default=6000, help="titles in the catalogue")
    parser.add_argument("--queries", type=int, default=1500)
    parser.add_argument("--query-words", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=400, help="timed requests per encoder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "request_encoder.json"
    )
    args = parser.parse_args()

    if not (args.titles / "products_lookup.csv").exists():
        print(f"skipped: no products_lookup.csv in {args.titles} (pass --titles)")
        return 0
    rng = random.Random(args.seed)
    titles = rng.sample(read_titles(args.titles), args.catalogue)
    targets = rng.sample(range(len(titles)), args.queries)
    queries = [" ".join(titles[i].split()[: args.query_words]) for i in targets]
    encoders = {"float": MiniLMEncoder(), "int8": MiniLMEncoder(int8=True)}
    for encoder in encoders.values():
        encoder.load()
    catalogue = encoders["float"].encode_many(titles, progress=True)
    rows, tops = [], {}
    for name, encoder in encoders.items():
        timings = timings_ms(encoder, args.repeats)
        tops[name] = top10(encoder.encode_many(queries), catalogue)
        hits = [target in row for target, row in zip(targets, tops[name], strict=True)]
        rows.append(
            {
                "encoder": name,
                **percentiles_ms(timings, 0.5, 0.95),
                "hit_at_1": round(float(np.mean(tops[name][:, 0] == np.array(targets))), 4),
                "hit_at_10": round(float(np.mean(hits)), 4),
            }
        )
    agreement = float(
        np.mean(
            [len(set(a) & set(b)) / 10 for a, b in zip(tops["float"], tops["int8"], strict=True)]
        )
    )
    print(
        f"\n{len(titles):,} titles in the catalogue (float vectors), {len(queries)} queries of "
        f"{args.query_words} words; one request at a time for the timings"
    )
    print(f"{'encoder':8} {'p50 ms':>8} {'p95 ms':>8} {'hit@1':>7} {'hit@10':>7}")
    for row in rows:
        print(
            f"{row['encoder']:8} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['hit_at_1']:>7} {row['hit_at_10']:>7}"
        )
    print(f"top-10 agreement, int8 with float: {agreement:.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "catalogue": len(titles),
        "queries": len(queries),
        "query_words": args.query_words,
        "rows": rows,
        "top10_agreement": round(agreement, 4),
    }
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
