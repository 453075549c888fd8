"""Which similarity bars should a passage clear before the bot answers with it?

Two bars decide whether a question is answered from the knowledge base or declined: one when
the intent is known, a stricter one when it is not. Too low, and questions the shop's pages
do not cover get an unrelated passage; too high, and answerable questions are declined. This
sweeps both bars over answer-evaluation case files, each question asked of the whole bot
(``python -m bot eval-answers --passages-only``, through the real pipeline) once per setting.

The shop's own language (MiniLM; ``policy.answer_min_score`` / ``unsure_answer_min_score``):

    python benchmarks/answer_bars.py --cases data/eval/answers-dev.yml data/eval/answers-dev-2.yml

Questions in the other languages (the multilingual encoder, across languages;
``knowledge.multilingual_answer_min_score`` / ``multilingual_unsure_min_score``):

    python benchmarks/answer_bars.py --multilingual --cases data/eval/answers-multilingual-dev.yml

Choose on development cases, then score held-out cases once with ``eval-answers``. Prints a
table (the configured bars marked ``*``, the best row ``<``) and writes
``benchmarks/results/answer_bars[-multilingual].json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings, load_settings  # noqa: E402
from training.eval_answers import run  # noqa: E402

KNOWN = (0.20, 0.25, 0.30, 0.35)
UNSURE = (0.30, 0.35, 0.40, 0.45)
MULTILINGUAL_KNOWN = (0.25, 0.30, 0.35, 0.40, 0.45)
MULTILINGUAL_UNSURE = (0.35, 0.40, 0.45, 0.50, 0.55)


def with_bars(settings: Settings, known: float, unsure: float, multilingual: bool) -> Settings:
    if multilingual:
        knowledge = dataclasses.replace(
            settings.knowledge,
            multilingual_answer_min_score=known,
            multilingual_unsure_min_score=unsure,
        )
        return dataclasses.replace(settings, knowledge=knowledge)
    policy = dataclasses.replace(
        settings.policy, answer_min_score=known, unsure_answer_min_score=unsure
    )
    return dataclasses.replace(settings, policy=policy)


async def score(settings: Settings, cases: list[Path]) -> tuple[int, int]:
    """Correct answers and cases over the files, passages only, quietly."""
    right = total = 0
    for path in cases:
        args = argparse.Namespace(
            cases=path, adapter=None, passages_only=True, limit=0, json=Path("/dev/null")
        )
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            report = await run(args, settings)
        right += round(float(report["correctness"]) * int(report["n"]))
        total += int(report["n"])
    return right, total


async def sweep(args: argparse.Namespace) -> dict[str, Any]:
    base = load_settings(ROOT / "config.yml", env={})
    if args.multilingual:
        grid = [(k, u) for k in MULTILINGUAL_KNOWN for u in MULTILINGUAL_UNSURE if u >= k]
        configured = (
            base.knowledge.multilingual_answer_min_score,
            base.knowledge.multilingual_unsure_min_score,
        )
    else:
        grid = [(k, u) for k in KNOWN for u in UNSURE if u >= k]
        configured = (base.policy.answer_min_score, base.policy.unsure_answer_min_score)
    rows = []
    for known, unsure in grid:
        right, total = await score(with_bars(base, known, unsure, args.multilingual), args.cases)
        rows.append({"known": known, "unsure": unsure, "correct": right, "cases": total})
        mark = "*" if (known, unsure) == configured else " "
        print(f"{mark} known {known:.2f}  unsure {unsure:.2f}   {right}/{total}", flush=True)
    best = max(rows, key=lambda r: r["correct"])
    print(f"< best: known {best['known']:.2f}, unsure {best['unsure']:.2f} ({best['correct']})")
    return {"cases": [str(p) for p in args.cases], "configured": configured, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, nargs="+", required=True)
    parser.add_argument("--multilingual", action="store_true", help="the other languages' bars")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = asyncio.run(sweep(args))
    name = "answer_bars-multilingual.json" if args.multilingual else "answer_bars.json"
    out = args.json or ROOT / "benchmarks" / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
