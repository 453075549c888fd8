"""How close are the evaluation questions to the knowledge base's example questions?

The knowledge sections list example shopper questions (``<!-- questions: -->``), and retrieval
matches against them. They were written from the knowledge text without sight of the
evaluation sets, but a question asking for the same fact is bound to be worded alike now and
then. This measures how alike: for every case of each answer set, the cosine similarity (MiniLM)
of its nearest example question, as a distribution and the closest pairs, so that a reader can
judge how much of the measured correctness rests on near-copies.

    python benchmarks/question_overlap.py
    python benchmarks/question_overlap.py --results a.json b.json   # eval-answers reports

With ``--results``, each ``python -m bot eval-answers --json`` report's correctness is also
split by how near each case is to an example question, to show whether a gain holds on the
cases that no example question resembles.

Prints a table and the closest pairs; writes ``benchmarks/results/question_overlap.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.knowledge.passages import load_passages  # noqa: E402
from bot.nlu.encoder import MiniLMEncoder  # noqa: E402
from training.answer_evaluation import load_cases  # noqa: E402

CASE_FILES = (
    "data/eval/answers-dev.yml",
    "data/eval/answers-dev-2.yml",
    "data/eval/answers.yml",
    "data/eval/answers-2.yml",
)
THRESHOLDS = (0.7, 0.8, 0.9)
BANDS = {"<0.7": (-1.0, 0.7), "0.7-0.8": (0.7, 0.8), ">=0.8": (0.8, 1.01)}


def measure(encoder: MiniLMEncoder, knowledge: Path, case_file: Path, shown: int) -> dict[str, Any]:
    """The nearest-example similarity of every case of ``case_file``."""
    examples = [(q, p.id) for p in load_passages(knowledge) for q in p.questions]
    if not examples:
        raise SystemExit(f"{knowledge}: no section lists example questions")
    cases = load_cases(case_file)
    similarity = (
        encoder.encode([c.question for c in cases]) @ encoder.encode([q for q, _ in examples]).T
    )
    nearest = similarity.argmax(axis=1)
    best = similarity.max(axis=1)
    closest = np.argsort(-best)[:shown]
    return {
        "nearest": {c.id: round(float(b), 4) for c, b in zip(cases, best, strict=True)},
        "cases": len(cases),
        "examples": len(examples),
        "p50": float(np.median(best)),
        "p90": float(np.percentile(best, 90)),
        "max": float(best.max()),
        "at_least": {str(t): int((best >= t).sum()) for t in THRESHOLDS},
        "closest": [
            {
                "similarity": round(float(best[i]), 3),
                "case": cases[i].question,
                "example": examples[nearest[i]][0],
                "section": examples[nearest[i]][1],
            }
            for i in closest
        ],
    }


def by_band(report: dict[str, Any], nearest: dict[str, float]) -> dict[str, dict[str, float]]:
    """Correctness of an eval-answers report's cases, split by nearest-example similarity."""
    out: dict[str, dict[str, float]] = {}
    for name, (low, high) in BANDS.items():
        correct = [
            c["correct"] for c in report["cases"] if low <= nearest.get(c["id"], -2.0) < high
        ]
        out[name] = {"n": len(correct), "correctness": sum(correct) / max(1, len(correct))}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--knowledge", type=Path, default=ROOT / "data/knowledge")
    parser.add_argument("--results", type=Path, nargs="*", default=[], help="eval-answers JSON")
    parser.add_argument("--shown", type=int, default=5, help="closest pairs printed per set")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/question_overlap.json"
    )
    args = parser.parse_args(argv)

    encoder = MiniLMEncoder()
    encoder.load()
    results = {
        Path(name).name: measure(encoder, args.knowledge, ROOT / name, args.shown)
        for name in CASE_FILES
    }
    header = f"{'case set':<18}{'cases':>6}{'p50':>7}{'p90':>7}{'max':>7}"
    header += "".join(f"{'>=' + str(t):>7}" for t in THRESHOLDS)
    print(header)
    for name, row in results.items():
        line = f"{name:<18}{row['cases']:>6}{row['p50']:>7.3f}{row['p90']:>7.3f}{row['max']:>7.3f}"
        line += "".join(f"{row['at_least'][str(t)]:>7}" for t in THRESHOLDS)
        print(line)
    for name, row in results.items():
        print(f"\nclosest in {name}:")
        for pair in row["closest"]:
            print(f"  {pair['similarity']:.3f}  {pair['case']}\n         ~ {pair['example']}")
    nearest = {k: v for row in results.values() for k, v in row["nearest"].items()}
    if args.results:
        print(f"\n{'correctness by nearest example':<44}" + "".join(f"{b:>14}" for b in BANDS))
    banded: dict[str, Any] = {}
    for path in args.results:
        bands = banded[str(path)] = by_band(json.loads(path.read_text()), nearest)
        print(
            f"{str(path)[-44:]:<44}"
            + "".join(f"{row['correctness']:>8.1%} n={row['n']:<3}" for row in bands.values())
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results | {"by_band": banded}, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
