"""``python -m actions.recommend evaluate --dataset …/Beauty.txt``: train, then score it.

The protocol of S3-Rec and the papers after it: per user, the last item is the test target and
the second-to-last the validation target; every item is a candidate, the user's earlier items
excluded; HR and NDCG at 5, 10 and 20. Training stops on validation NDCG@10, never on test.
Prints a table and writes JSON (and, with ``--top20``, each test user's top 20 items).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from actions.recommend.item_attributes import (
    AttributeFileError,
    attributes_beside,
    read_item_attributes,
)
from actions.recommend.item_text import beauty_titles, text_vectors
from actions.recommend.sequences import SequenceFileError, Sequences, eval_cases, training_prefixes
from actions.recommend.training import (
    TrainConfig,
    build_model,
    evaluate,
    set_seed,
    top_items,
    train_sasrec,
)

ROOT = Path(__file__).resolve().parents[2]
TITLES_DIR = ROOT.parent / "shared" / "datasets" / "amazon-beauty-titles"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m actions.recommend", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="train on a sequence file and report full-ranking scores")
    ev.add_argument("--dataset", type=Path, required=True, help="S3-Rec format sequence file")
    ev.add_argument(
        "--titles",
        type=Path,
        default=None,
        help="amazon-beauty-titles folder for content fusion (default: beside the data set, "
        "for Beauty only); --no-content turns it off",
    )
    ev.add_argument("--no-content", action="store_true", help="no title vectors")
    ev.add_argument(
        "--attributes",
        type=Path,
        default=None,
        help="item2attributes JSON for attribute fusion (default: <dataset>_item2attributes.json "
        "beside the data set, if present)",
    )
    ev.add_argument("--no-attributes", action="store_true", help="no attribute fusion")
    ev.add_argument("--dim", type=int, default=64)
    ev.add_argument("--layers", type=int, default=2)
    ev.add_argument("--heads", type=int, default=1)
    ev.add_argument("--max-len", type=int, default=50)
    ev.add_argument("--dropout", type=float, default=0.5)
    ev.add_argument("--ffn-mult", type=int, default=1, help="feed-forward width / dim")
    ev.add_argument("--lr", type=float, default=1e-3)
    ev.add_argument("--batch-size", type=int, default=256)
    ev.add_argument("--epochs", type=int, default=200)
    ev.add_argument("--patience", type=int, default=5, help="evaluations without gain")
    ev.add_argument("--eval-every", type=int, default=2)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument(
        "--contrastive",
        type=float,
        nargs="+",
        default=[0.1],
        help="weight of the same-next-item contrastive loss (0 = off; default 0.1, which "
        "validation preferred to 0 on Beauty and on Sports); several values are each trained "
        "and the best on validation NDCG@10 is kept",
    )
    ev.add_argument("--temperature", type=float, default=1.0, help="of the contrastive loss")
    ev.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ev.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    ev.add_argument(
        "--search",
        action="store_true",
        help="choose dim (64, 128) and dropout (0.2, 0.5) by validation NDCG@10 (with each "
        "--contrastive weight)",
    )
    ev.add_argument("--json", type=Path, default=None, help="where to write the results")
    ev.add_argument("--top20", type=Path, default=None, help="write each test user's top 20")
    shop = sub.add_parser(
        "train-shop", help="train the sequence model on the shop's own purchase histories"
    )
    shop.add_argument(
        "--shop-dir", type=Path, default=None, help="shop JSON folder (default: the demo shop)"
    )
    shop.add_argument("--out", type=Path, default=ROOT / "models" / "recommender")
    shop.add_argument("--epochs", type=int, default=60)
    shop.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def content_for(args: argparse.Namespace, sequences: Sequences) -> torch.Tensor | None:
    if args.no_content:
        return None
    folder = args.titles
    if folder is None and args.dataset.stem == "Beauty" and TITLES_DIR.is_dir():
        folder = TITLES_DIR
    if folder is None:
        return None
    titles = beauty_titles(folder)
    return text_vectors(titles, sequences.n_items)


def attributes_for(args: argparse.Namespace, sequences: Sequences) -> torch.Tensor | None:
    if args.no_attributes:
        return None
    path = args.attributes or attributes_beside(args.dataset)
    return None if path is None else read_item_attributes(path, sequences.n_items)


def evaluate_command(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        sequences = Sequences.read(args.dataset)
        content = content_for(args, sequences)
        attributes = attributes_for(args, sequences)
    except (FileNotFoundError, SequenceFileError, AttributeFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if any(weight < 0 for weight in args.contrastive):
        print("error: --contrastive weights must be 0 or more", file=sys.stderr)
        return 2
    valid = eval_cases(sequences, "valid")
    test = eval_cases(sequences, "test")
    prefixes = training_prefixes(sequences, 2)
    shapes = (
        [(args.dim, args.dropout)]
        if not args.search
        else [(dim, dropout) for dim in (64, 128) for dropout in (0.2, 0.5)]
    )
    candidates = [
        {"dim": dim, "dropout": dropout, "contrastive": weight}
        for dim, dropout in shapes
        for weight in dict.fromkeys(args.contrastive)
    ]
    searched = []
    model, report, config = None, None, None
    for candidate in candidates:
        trial_config = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            eval_every=args.eval_every,
            patience=args.patience,
            seed=args.seed,
            contrastive=float(candidate["contrastive"]),
            temperature=args.temperature,
        )
        set_seed(args.seed)
        trial = build_model(
            sequences.n_items,
            content,
            attributes=attributes,
            dim=int(candidate["dim"]),
            layers=args.layers,
            heads=args.heads,
            max_len=args.max_len,
            dropout=float(candidate["dropout"]),
            ffn_mult=args.ffn_mult,
        )
        trial_report = train_sasrec(trial, prefixes, valid, trial_config, device=args.device)
        searched.append(
            {
                **candidate,
                "valid_ndcg10": trial_report.best_valid_ndcg10,
                "best_epoch": trial_report.best_epoch,
                "train_seconds": round(trial_report.seconds, 1),
            }
        )
        # Chosen on validation only; the test split is scored once, for the chosen model.
        if report is None or trial_report.best_valid_ndcg10 > report.best_valid_ndcg10:
            model, report, config = trial, trial_report, trial_config
    if model is None or report is None or config is None:  # candidates is never empty
        raise RuntimeError("no model was trained")
    started = time.perf_counter()
    test_scores = evaluate(model, test, device=args.device)
    valid_scores = evaluate(model, valid, device=args.device)
    result: dict[str, Any] = {
        "dataset": str(args.dataset),
        "users": len(sequences),
        "items": sequences.n_items,
        "interactions": sequences.interactions,
        "model": model.config.to_dict(),
        "content": content is not None,
        "attributes": attributes is not None,
        "train": config.to_dict(),
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "epochs_run": report.epochs_run,
        "best_epoch": report.best_epoch,
        "train_seconds": round(report.seconds, 1),
        "eval_seconds": round(time.perf_counter() - started, 1),
        "valid": valid_scores.as_dict(),
        "test": test_scores.as_dict(),
        "curve": report.curve,
        "search": searched,
    }
    print_table(result)
    out = args.json or ROOT / "benchmarks" / "results" / f"recommend_{args.dataset.stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {out}")
    if args.top20:
        write_top20(args.top20, model, test, sequences, args.device)
        print(f"wrote {args.top20}")
    return 0


def write_top20(
    path: Path, model: Any, cases: list[Any], sequences: Sequences, device: str
) -> None:
    tops = top_items(model, cases, 20, device=device)
    with path.open("w", encoding="utf-8") as handle:
        for case, items in zip(cases, tops, strict=True):
            row = {"user": sequences.users[case.user], "target": case.target, "top20": items}
            handle.write(json.dumps(row) + "\n")


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\n{Path(result['dataset']).stem}: {result['users']} users, {result['items']} items; "
        f"SASRec dim {result['model']['dim']}, "
        f"titles {'on' if result['content'] else 'off'}, "
        f"attributes {'on' if result['attributes'] else 'off'}; "
        f"best epoch {result['best_epoch']} of {result['epochs_run']}, "
        f"{result['train_seconds']:.0f} s on {result['device']} ({result['torch_threads']} threads)"
    )
    keys = ["HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20"]
    print(f"{'split':8}" + "".join(f"{k:>9}" for k in keys))
    for split in ("valid", "test"):
        print(f"{split:8}" + "".join(f"{result[split][k]:>9.4f}" for k in keys))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    np.set_printoptions(precision=4)
    if args.command == "evaluate":
        return evaluate_command(args)
    if args.command == "train-shop":
        return train_shop_command(args)
    return 2


def train_shop_command(args: argparse.Namespace) -> int:
    from actions.recommend.shop_model import train_shop_model
    from actions.recommend.shop_recommender import product_text
    from actions.recommend_action import minilm_texts
    from actions.shop.sqlite import SQLiteShopBackend, default_shop_dir

    shop = SQLiteShopBackend.from_directory(args.shop_dir or default_shop_dir())
    try:
        products = shop.list_products()
        histories = shop.purchase_histories()
    finally:
        shop.close()
    set_seed(args.seed)
    vectors = minilm_texts([product_text(p) for p in products])
    meta = train_shop_model(
        products,
        histories,
        vectors,
        args.out,
        config=TrainConfig(
            epochs=args.epochs, batch_size=64, lr=2e-3, eval_every=2, patience=8, seed=args.seed
        ),
    )
    print(
        f"trained on {meta['customers']} customers, {meta['purchases']} purchases; "
        f"best epoch {meta['best_epoch']}; held-out last purchase: {meta['holdout']}"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
