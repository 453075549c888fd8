"""How long one recommendation takes for a 20,000-product catalogue, on this CPU.

A seeded synthetic shop: 20,000 products in 40 categories (1–3 variants each, 10% sold out),
50,000 customers with 1–20 purchases each. Product vectors are random unit vectors and the
SASRec signal has untrained weights of the served size (values do not change the cost; the real
shop embeds its texts once at start), while the shopper's request is embedded by the real
MiniLM on every call, as in the action: with int8 linear layers by default, as the action
does (``--request-encoder float`` for the float model).
Four kinds of request are timed: anonymous and generic, anonymous with words, identified with
a history, identified with words and a price limit.

    python benchmarks/recommend_latency.py [--products 20000] [--requests 400]
                                           [--request-encoder int8|float]

Prints a table and writes ``benchmarks/results/recommend_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.recommend.shop_model import SequenceScorer  # noqa: E402
from actions.recommend.shop_recommender import ShopRecommender, parse_constraints  # noqa: E402
from actions.recommend.training import build_model  # noqa: E402
from actions.shop.port import Product, Variant  # noqa: E402
from bot.nlu.encoder import MiniLMEncoder  # noqa: E402
from bot.stats import percentiles_ms  # noqa: E402

REQUESTS = {
    "anonymous, generic": ("", "recommend me something"),
    "anonymous, with words": ("", "a warm waterproof jacket for winter hikes"),
    "identified, history": ("history", "what would you recommend for me?"),
    "identified, words + price": ("history", "a gift for my sister who runs, under $80"),
}


def synthetic_shop(
    n_products: int, n_customers: int, seed: int
) -> tuple[list[Product], dict[str, list[str]]]:
    rng = np.random.default_rng(seed)
    products = []
    for index in range(n_products):
        variants = tuple(
            Variant(
                f"{index}-{v}",
                {"size": str(v)},
                bool(rng.random() > 0.1),
                float(round(rng.uniform(5, 400), 2)),
            )
            for v in range(int(rng.integers(1, 4)))
        )
        products.append(
            Product(f"p{index}", f"Product {index}", variants, f"Category {index % 40}")
        )
    # Purchases follow a skewed popularity, as real shops do.
    weights = 1.0 / np.arange(1, n_products + 1) ** 0.8
    weights /= weights.sum()
    histories = {
        f"c{c}": [f"p{i}" for i in rng.choice(n_products, size=int(rng.integers(1, 21)), p=weights)]
        for c in range(n_customers)
    }
    return products, histories


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=400, help="timed requests per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--request-encoder",
        choices=("int8", "float"),
        default="int8",
        help="MiniLM weights for the request words (the action's default is int8)",
    )
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "recommend_latency.json"
    )
    args = parser.parse_args()

    products, histories = synthetic_shop(args.products, args.customers, args.seed)
    encoder = MiniLMEncoder(int8=args.request_encoder == "int8")
    encoder.load()
    rng = np.random.default_rng(args.seed + 1)
    catalogue = rng.standard_normal((len(products), encoder.dimension)).astype(np.float32)
    catalogue /= np.linalg.norm(catalogue, axis=1, keepdims=True)

    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray(encoder.encode(texts), dtype=np.float32)

    # The shop's SASRec signal at this catalogue size (untrained weights cost the same).
    model = build_model(len(products), None, dim=64, layers=2, max_len=50)
    scorer = SequenceScorer(model, [p.product_id for p in products])
    started = time.perf_counter()
    recommender = ShopRecommender(
        products,
        histories,
        encode,  # type: ignore[arg-type]
        vectors=catalogue,
        sequence=scorer.probabilities,
    )
    build_s = time.perf_counter() - started
    customers = list(histories)
    rows = []
    for kind, (who, text) in REQUESTS.items():
        timings = []
        for n in range(args.requests + 20):
            history = histories[customers[n % len(customers)]] if who else []
            began = time.perf_counter()
            constraints = parse_constraints(text, recommender.categories)
            picks = recommender.recommend(history, text, constraints, k=3)
            elapsed = (time.perf_counter() - began) * 1000
            if n >= 20:  # the first calls warm caches
                timings.append(elapsed)
            assert len(picks) == 3
        timings.sort()
        rows.append(
            {
                "request": kind,
                **percentiles_ms(timings, 0.5, 0.95, 0.99),
                "requests": len(timings),
            }
        )
    print(
        f"\n{len(products):,} products, {len(histories):,} customers; "
        f"built in {build_s:.1f} s (catalogue vectors given); "
        f"{args.request_encoder} MiniLM for the request words"
    )
    print(f"{'request':28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for row in rows:
        print(f"{row['request']:28} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "products": len(products),
        "customers": len(histories),
        "build_seconds": round(build_s, 2),
        "request_encoder": args.request_encoder,
        "rows": rows,
    }
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
