"""``python -m bot eval-answers``: the held-out answer-quality evaluation.

Each question of ``data/eval/answers.yml`` goes through what a real turn does before it is
answered: request screening, the NLU (its intent steers retrieval and, for out-of-scope
messages, raises the relevance bar as the policy does), then the grounded answerer with the
configured model and guard. Modes::

    python -m bot eval-answers                      # the shipped adapter (generator.adapter)
    python -m bot eval-answers --adapter none       # the base model, for comparison
    python -m bot eval-answers --passages-only      # no model: the best passage (the old bot)

A table is printed and JSON written (``--json``; ``benchmarks/results/answers-<mode>.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from bot.config import ROOT, Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=Path, default=ROOT / "data/eval/answers.yml")
    parser.add_argument("--adapter", default=None, help="adapter folder, or `none` for the base")
    parser.add_argument("--passages-only", action="store_true", help="no model: best passage")
    parser.add_argument("--limit", type=int, default=0, help="first N cases only (0 = all)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the report")


async def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from bot.composition import build_parts
    from bot.generation.answerer import GroundedAnswer
    from bot.generation.evaluation import AnswerCase, AnswerOutcome, evaluate, load_cases
    from bot.generation.screening import screen_request
    from bot.policy.policy import OUT_OF_SCOPE_MIN_SCORE

    cases = load_cases(args.cases)
    if args.limit:
        cases = cases[: args.limit]
    if args.passages_only:
        mode = "passages"
        settings = dataclasses.replace(
            settings, generator=dataclasses.replace(settings.generator, enabled=False)
        )
    else:
        adapter = settings.generator.adapter if args.adapter is None else args.adapter
        adapter = "" if adapter == "none" else adapter
        mode = "tuned" if adapter else "base"
        settings = dataclasses.replace(
            settings,
            generator=dataclasses.replace(settings.generator, enabled=True, adapter=adapter),
        )
    parts = build_parts(settings)
    for _, warmup in parts.lifecycle.warmups:
        await warmup()
    answerer = parts.answerer
    offer_intents = set(settings.handoff.offer_on_intents) | set(settings.handoff.intents)

    async def answer(case: AnswerCase) -> AnswerOutcome:
        if screen_request(case.question) is not None:
            return AnswerOutcome("(deflected)", "deflected", ())
        parse = await parts.parser.parse(case.question)
        intent = parse.intent.name
        if intent in settings.handoff.intents:
            return AnswerOutcome("(handed off)", "handoff", (), offered_handoff=True)
        bar = OUT_OF_SCOPE_MIN_SCORE if intent == "out_of_scope" else None
        if answerer is None:
            floor = bar or settings.policy.answer_min_score
            hits = await parts.knowledge.search_relevant(
                case.question, 3, min_similarity=floor, intent=intent
            )
            if not hits:
                return AnswerOutcome("", "fallback", ())
            from bot.knowledge import fill_placeholders

            text = fill_placeholders(hits[0].passage.text, settings.shop.placeholders())
            return AnswerOutcome(text, "passage", (text,), (hits[0].passage.id,))
        result: GroundedAnswer = await answerer.answer(
            case.question, intent=intent, min_similarity=bar
        )
        if result.kind == "fallback":
            return AnswerOutcome("", "fallback", ())
        return AnswerOutcome(
            result.text,
            result.kind,
            result.evidence,
            result.sources,
            offered_handoff=result.offer_handoff or intent in offer_intents,
        )

    try:
        report = await evaluate(cases, answer)
    finally:
        for close in parts.lifecycle.closers:
            await close()
    print(report.table())
    data = report.to_json() | {"mode": mode, "model": settings.generator.model}
    out = args.json or ROOT / f"benchmarks/results/answers-{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {out}")
    return data
