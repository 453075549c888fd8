"""tau-bench retail gold replay: do our shop operations reproduce the reference exactly?

Imports tau-bench's shop (read in place from ``../shared/datasets/tau-bench-retail``), replays
every task's gold actions on a fresh copy through our operations, and counts the tasks whose
per-action results and final data hash both equal the gold. Prints a table and writes JSON.

    python benchmarks/tau_replay.py
    python benchmarks/tau_replay.py --split dev --json benchmarks/results/tau_replay_dev.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.shop.tau_bench import import_tau_bench  # noqa: E402
from actions.shop.tau_replay import SPLITS, TaskReplay, load_gold_tasks, replay_all  # noqa: E402

TAU_DIR = ROOT.parent / "shared" / "datasets" / "tau-bench-retail"


def summarise(name: str, replays: Sequence[TaskReplay]) -> dict[str, Any]:
    """Counts and timings of one split's replays."""
    seconds = [r.seconds for r in replays]
    return {
        "split": name,
        "tasks": len(replays),
        "actions": sum(len(r.results) for r in replays),
        "hash_matches": sum(r.hash_matches for r in replays),
        "result_matches": sum(r.results_match for r in replays),
        "passed": sum(r.passed for r in replays),
        "pass_rate": sum(r.passed for r in replays) / len(replays) if replays else 0.0,
        "ms_per_task_mean": 1000 * statistics.fmean(seconds) if seconds else 0.0,
        "ms_per_task_max": 1000 * max(seconds) if seconds else 0.0,
        "failed": [
            {"index": r.index, "hash": r.hash_matches, "results": list(r.mismatched_results)}
            for r in replays
            if not r.passed
        ],
    }


def main(args: argparse.Namespace) -> int:
    if not (args.data / "orders.json").is_file():
        print(f"tau-bench retail data not found at {args.data}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    base = import_tau_bench(args.data)
    import_seconds = time.perf_counter() - started
    splits = SPLITS if args.split == "all" else (args.split,)
    rows = []
    all_replays: list[TaskReplay] = []
    for split in splits:
        replays = replay_all(base, load_gold_tasks(args.data, split))
        all_replays.extend(replays)
        rows.append(summarise(split, replays))
    if len(splits) > 1:
        rows.append(summarise("all", all_replays))
    base.close()

    header = f"{'split':<6} {'tasks':>6} {'hash ok':>8} {'results ok':>11} {'pass rate':>10}"
    print(header + f" {'ms/task':>8} {'max ms':>7}")
    for row in rows:
        print(
            f"{row['split']:<6} {row['tasks']:>6} {row['hash_matches']:>8} "
            f"{row['result_matches']:>11} {row['pass_rate']:>9.1%} "
            f"{row['ms_per_task_mean']:>8.2f} {row['ms_per_task_max']:>7.1f}"
        )
    print(f"import: {import_seconds * 1000:.0f} ms")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"data": str(args.data), "import_ms": 1000 * import_seconds, "splits": rows}
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if all(row["pass_rate"] == 1.0 for row in rows) else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--split", choices=[*SPLITS, "all"], default="all")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "tau_replay.json"
    )
    parser.add_argument("--data", type=Path, default=TAU_DIR, help="tau-bench retail folder")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(parse_args()))
