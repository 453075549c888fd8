"""``python -m bot eval-answers``: the held-out answer-quality evaluation, through the real bot.

Each question of ``data/eval/answers.yml`` is asked in a new conversation of the whole bot
(:mod:`training.harness`: channels, the reading, the policy, retrieval, the generator and its
guard, the actions in process); a case with ``before`` messages (``data/eval/followups.yml``)
asks those first, as a shopper would, so the question is read as a follow-up exactly as in
production. What the turn did is read from its stored events: refused by the screen, handed
off, a business flow started (never correct), "didn't get that", or an answer (a passage or a
generated text, with the passages it came from). Modes::

    python -m bot eval-answers                      # the shipped adapter (generator.adapter)
    python -m bot eval-answers --adapter none       # the base model, for comparison
    python -m bot eval-answers --passages-only      # no model: the best passage

A table is printed and JSON written (``--json``; ``benchmarks/results/answers-<mode>.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.appkeys import PIPELINE
from bot.config import ROOT, Settings, load_settings
from bot.knowledge import fill_placeholders
from training.answer_evaluation import AnswerCase, AnswerOutcome, evaluate, load_cases
from training.harness import Harness, Session

FLOW_ACTIONS = ("action_listen", "action_answer_from_knowledge", "action_answer_generated")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=Path, default=ROOT / "data/eval/answers.yml")
    parser.add_argument("--adapter", default=None, help="adapter folder, or `none` for the base")
    parser.add_argument("--passages-only", action="store_true", help="no model: best passage")
    parser.add_argument("--limit", type=int, default=0, help="first N cases only (0 = all)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the report")


def settings_for(settings: Settings, args: argparse.Namespace) -> tuple[Settings, str]:
    """The settings of the mode asked for, and the mode's name."""
    if args.passages_only:
        generator = dataclasses.replace(settings.generator, enabled=False)
        return dataclasses.replace(settings, generator=generator), "passages"
    adapter = settings.generator.adapter if args.adapter is None else args.adapter
    adapter = "" if adapter == "none" else adapter
    generator = dataclasses.replace(settings.generator, enabled=True, adapter=adapter)
    return dataclasses.replace(settings, generator=generator), "tuned" if adapter else "base"


def outcome_of(
    events: Sequence[Mapping[str, Any]],
    passages: Mapping[str, str],
    placeholders: Mapping[str, str],
) -> AnswerOutcome:
    """What a turn did with the question, read from the events it stored."""
    actions = [str(e.get("name")) for e in events if e.get("event") == "action"]
    bots = [e for e in events if e.get("event") == "bot"]
    metadata = [e.get("metadata") or {} for e in bots]
    offered = any(m.get("handoff_offer") for m in metadata) or any(
        str(b.get("payload", "")).startswith("/contact_human_agent")
        for e in bots
        for b in (e.get("data") or {}).get("buttons") or ()
    )
    if any(m.get("deflected") for m in metadata):
        return AnswerOutcome("(deflected)", "deflected", ())
    if "action_handoff" in actions:
        return AnswerOutcome("(handed off)", "handoff", (), offered_handoff=True)
    for event, meta in zip(bots, metadata, strict=True):
        if meta.get("sources"):
            sources = tuple(str(s.get("id")) for s in meta["sources"] if isinstance(s, Mapping))
            evidence = tuple(
                fill_placeholders(passages[s], placeholders) for s in sources if s in passages
            )
            return AnswerOutcome(
                str(event.get("text") or ""),
                "generated" if meta.get("generated") else "passage",
                evidence,
                sources,
                offered_handoff=offered,
            )
    started = [
        a
        for a in actions
        if a not in FLOW_ACTIONS and not a.startswith("utter_") and a != "action_handoff"
    ]
    if started:
        return AnswerOutcome(f"(started {started[0]})", "action", ())
    if any(m.get("fallback") for m in metadata):
        return AnswerOutcome("", "fallback", (), offered_handoff=offered)
    said = " ".join(str(e.get("text") or "") for e in bots)
    if any(a.startswith("utter_") and a not in ("utter_offer_handoff",) for a in actions):
        # A canned response instead of an answer (a greeting, "anything else?").
        return AnswerOutcome(said, "action", ())
    return AnswerOutcome(said, "fallback", (), offered_handoff=offered)


async def ask(session: Session, case: AnswerCase, harness: Harness) -> AnswerOutcome:
    """Plays the case's earlier messages, then the question; the question's outcome."""
    for message in case.before:
        await session.say(message)
    tracker, _ = await session.tracker()
    start = len(tracker.events)
    await session.say(case.question)
    tracker, _ = await session.tracker()
    knowledge = harness.app[PIPELINE].knowledge
    passages = {p.id: p.text for p in knowledge.passages}
    return outcome_of(tracker.events[start:], passages, harness.settings.shop.placeholders())


async def run(args: argparse.Namespace, settings: Settings | None = None) -> dict[str, Any]:
    for name in ("rasa_sdk", "aiohttp.access", "bot.app", "bot.pipeline"):
        logging.getLogger(name).setLevel(logging.ERROR)
    settings, mode = settings_for(settings or load_settings(ROOT / "config.yml", env={}), args)
    cases = load_cases(args.cases)
    if args.limit:
        cases = cases[: args.limit]
    harness = Harness(settings)
    async with harness.running():

        async def answer(case: AnswerCase) -> AnswerOutcome:
            async with harness.session(f"answers-{case.id}") as session:
                return await ask(session, case, harness)

        report = await evaluate(cases, answer)
    print(report.table())
    data: dict[str, Any] = report.to_json() | {"mode": mode, "model": settings.generator.model}
    out = args.json or ROOT / f"benchmarks/results/answers-{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {out}")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
