"""Which similarity bars should a passage clear before the bot answers with it?

Two bars decide whether a question is answered from the knowledge base or declined
(``policy.answer_min_score`` when the NLU knows the intent, ``policy.unsure_answer_min_score``
when it is unsure, ``out_of_scope``). Too low, and questions the shop's knowledge does not
cover get an unrelated passage; too high, and answerable questions are declined. This sweeps
both bars over an answer-evaluation case file, each question routed as a real turn is
(screening, NLU, retrieval with the intent hint) and answered with the best passage, and scores
every setting with the same rules as ``python -m bot eval-answers --passages-only``.

Choose the bars on the development cases, then score the held-out cases once:

    python benchmarks/answer_bars.py --cases data/eval/answers-dev.yml
    python benchmarks/answer_bars.py --cases data/eval/answers.yml

Prints a table (the configured bars marked ``*``, the best row of this file ``<``) and writes
``benchmarks/results/answer_bars-<cases file>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.composition import build_parts  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.generation.eval_command import (  # noqa: E402
    Route,
    declined_outcome,
    passage_outcome,
    route,
)
from bot.generation.evaluation import AnswerCase, AnswerOutcome, load_cases, score  # noqa: E402
from bot.knowledge import ScoredPassage  # noqa: E402

KNOWN_BARS = (0.20, 0.25, 0.30, 0.35, 0.40, 0.45)
UNSURE_BARS = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55)


@dataclasses.dataclass(frozen=True)
class Asked:
    case: AnswerCase
    routed: Route
    best: ScoredPassage | None


async def ask_all(settings: Settings, cases: list[AnswerCase]) -> list[Asked]:
    """Routes every case once and keeps its best passage; the bars are applied afterwards."""
    settings = dataclasses.replace(
        settings, generator=dataclasses.replace(settings.generator, enabled=False)
    )
    parts = build_parts(settings)
    for _, warmup in parts.lifecycle.warmups:
        await warmup()
    asked: list[Asked] = []
    try:
        for case in cases:
            routed = await route(parts, settings, case.question)
            best = None
            if routed.kind == "answer":
                hits = await parts.knowledge.search(case.question, 1, intent=routed.intent)
                best = hits[0] if hits else None
            asked.append(Asked(case, routed, best))
    finally:
        for close in parts.lifecycle.closers:
            await close()
    return asked


def outcome(
    asked: Asked, known_bar: float, unsure_bar: float, values: dict[str, str]
) -> AnswerOutcome:
    declined = declined_outcome(asked.routed)
    if declined is not None:
        return declined
    bar = unsure_bar if asked.routed.unsure else known_bar
    return passage_outcome(asked.best, bar, values, asked.routed)


def sweep(asked: list[Asked], values: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for known in KNOWN_BARS:
        for unsure in UNSURE_BARS:
            results = [score(a.case, outcome(a, known, unsure, values)) for a in asked]
            answerable = [r for r in results if r.case.expect == "answer"]
            declinable = [r for r in results if r.case.expect != "answer"]
            rows.append(
                {
                    "answer_min_score": known,
                    "unsure_answer_min_score": unsure,
                    "correct": sum(r.correct for r in results),
                    "n": len(results),
                    "correctness": sum(r.correct for r in results) / len(results),
                    "answerable_correct": sum(r.correct for r in answerable),
                    "answerable_declined": sum(r.outcome.kind == "fallback" for r in answerable),
                    "answerable": len(answerable),
                    "declinable_correct": sum(r.correct for r in declinable),
                    "declinable": len(declinable),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=ROOT / "data/eval/answers-dev.yml")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    cases = load_cases(args.cases)
    if any(case.before for case in cases):
        # A follow-up is searched with its topic and, below the bar, alone: one search per
        # case cannot be re-scored at another bar. Sweep them with eval-answers instead.
        parser.error(f"{args.cases} has follow-up cases (`before:`); this sweeps single questions")
    asked = asyncio.run(ask_all(settings, cases))
    rows = sweep(asked, settings.shop.placeholders())
    current = (settings.policy.answer_min_score, settings.policy.unsure_answer_min_score)
    # Ties go to more refusals, then to higher bars: an unrelated passage is the worse mistake.
    best = max(
        rows,
        key=lambda r: (
            r["correct"],
            r["declinable_correct"],
            r["answer_min_score"],
            r["unsure_answer_min_score"],
        ),
    )
    print(f"answer bars on {args.cases.name}: {len(cases)} cases")
    header = ("known", 6), ("unsure", 7), ("correct", 9), ("answerable", 11), ("declined", 9)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'refusals':>9}")
    for r in rows:
        mark = "*" if (r["answer_min_score"], r["unsure_answer_min_score"]) == current else " "
        mark += "<" if r is best else " "
        print(
            f"{r['answer_min_score']:>6.2f} {r['unsure_answer_min_score']:>7.2f} "
            f"{r['correctness']:>8.1%} {r['answerable_correct']:>5}/{r['answerable']:<5} "
            f"{r['answerable_declined']:>9} "
            f"{r['declinable_correct']:>5}/{r['declinable']:<3} {mark}"
        )
    out = args.out or ROOT / f"benchmarks/results/answer_bars-{args.cases.stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"cases": str(args.cases), "current": list(current), "best": best, "rows": rows}
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
