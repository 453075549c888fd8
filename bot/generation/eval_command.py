"""``python -m bot eval-answers``: the held-out answer-quality evaluation.

Each question of ``data/eval/answers.yml`` goes through what a real turn does before it is
answered: request screening, the NLU, and the real policy's decision (:func:`route`). A
handoff, a business flow the policy starts (outcome kind ``action``, never correct) or a
"didn't get that" ends there; an answer goes to retrieval (the intent steers it, and the
policy's bar applies) and the grounded answerer with the configured model and guard. A case
with ``before`` messages (``data/eval/followups.yml``) is asked as a follow-up: those
messages set the conversation's topic as the pipeline keeps it (:func:`topic_after`), and the
model sees them as the earlier shopper turns (without the bot's replies to them). Modes::

    python -m bot eval-answers                      # the shipped adapter (generator.adapter)
    python -m bot eval-answers --adapter none       # the base model, for comparison
    python -m bot eval-answers --passages-only      # no model: the best passage (the old bot)

A table is printed and JSON written (``--json``; ``benchmarks/results/answers-<mode>.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bot.config import ROOT, Settings
from bot.domain import (
    ACTION_LISTEN,
    BotMessage,
    ConversationId,
    TrackerView,
    action_event,
    bot_event,
    user_event,
)
from bot.generation.evaluation import AnswerOutcome
from bot.knowledge import ScoredPassage, fill_placeholders
from bot.knowledge.followup import Topic

if TYPE_CHECKING:
    from bot.composition import Parts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=Path, default=ROOT / "data/eval/answers.yml")
    parser.add_argument("--adapter", default=None, help="adapter folder, or `none` for the base")
    parser.add_argument("--passages-only", action="store_true", help="no model: best passage")
    parser.add_argument("--limit", type=int, default=0, help="first N cases only (0 = all)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the report")


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    """What a real turn would do with a question before anything is retrieved.

    Attributes:
        kind: ``deflected`` (screening refused it), ``handoff`` (the policy hands it to a
            person), ``answer`` (the knowledge base is searched), ``action`` (the policy starts
            a business flow or a canned response instead) or ``fallback`` (not understood).
        intent: the NLU intent; it steers retrieval.
        unsure: the policy holds the answer to its stricter bar (the NLU was unsure).
        otherwise_acts: with nothing relevant found, the turn starts a business flow (a
            question about an action, ``policy.answer_questions_about_actions``).
    """

    kind: Literal["deflected", "handoff", "answer", "action", "fallback"]
    intent: str = ""
    unsure: bool = False
    otherwise_acts: bool = False


async def route(
    parts: Parts, settings: Settings, question: str, topic: Topic | None = None
) -> Route:
    """Screening, the NLU and the policy's decision, as the pipeline has them for a question.

    ``topic`` is what the conversation's previous knowledge answer was about (follow-ups).
    """
    from bot.generation.screening import screen_request
    from bot.pipeline import to_rasa
    from bot.policy.decisions import Answer, Fallback, Handoff, OfferHandoff, StopForm

    if screen_request(question) is not None:
        return Route("deflected")
    parse = to_rasa(await parts.parser.parse(question))
    intent = str((parse.get("intent") or {}).get("name") or "")
    policy = parts.dialogue.policy
    tracker = _conversation(question, parse, topic or Topic(), tuple(parts.dialogue.domain.slots))
    decisions = policy.decide(tracker, parse, policy.slot_events(tracker, parse))
    first = decisions[0] if decisions else Fallback()
    match first:
        case Answer():
            return Route(
                "answer", intent, first.min_score is not None, otherwise_acts=bool(first.otherwise)
            )
        case Handoff() | OfferHandoff():
            return Route("handoff", intent)
        case Fallback() | StopForm():
            return Route("fallback", intent)
        case _:
            return Route("action", intent)


def _conversation(
    question: str, parse: dict[str, Any], topic: Topic, slots: tuple[str, ...]
) -> TrackerView:
    """The question as the latest message of a conversation whose last answer had ``topic``."""
    events: list[dict[str, Any]] = []
    if topic.messages:
        answer = bot_event(BotMessage(text="…"))
        answer["metadata"] = {"topic": list(topic.messages)}
        events += [user_event(topic.messages[-1], {}, "eval"), answer, action_event(ACTION_LISTEN)]
    events.append(user_event(question, parse, "eval"))
    return TrackerView.replay(ConversationId("eval"), events, slots)


def answer_bar(settings: Settings, routed: Route) -> float:
    """The similarity the best passage needs for this question to be answered."""
    policy = settings.policy
    return policy.unsure_answer_min_score if routed.unsure else policy.answer_min_score


async def topic_after(parts: Parts, settings: Settings, messages: Sequence[str]) -> Topic:
    """The topic a conversation has after these shopper messages, kept as the pipeline keeps it.

    A message answered from the knowledge base extends the topic (when it reads as a
    follow-up) or starts a new one; a message that is not answered leaves no topic behind.
    """
    topic = Topic()
    for message in messages:
        routed = await route(parts, settings, message, topic)
        context = topic.context_for(message)
        answered = routed.kind == "answer" and bool(
            await parts.knowledge.search_relevant(
                message,
                1,
                min_similarity=answer_bar(settings, routed),
                intent=routed.intent,
                context=context,
            )
        )
        topic = topic.after(message, context) if answered else Topic()
    return topic


def declined_outcome(routed: Route) -> AnswerOutcome | None:
    """The outcome of a question that never reaches retrieval; None when it does."""
    if routed.kind == "deflected":
        return AnswerOutcome("(deflected)", "deflected", ())
    if routed.kind == "handoff":
        return AnswerOutcome("(handed off)", "handoff", (), offered_handoff=True)
    if routed.kind == "action":
        return _started(routed)
    if routed.kind == "fallback":
        return AnswerOutcome("", "fallback", ())
    return None


def unanswered_outcome(routed: Route) -> AnswerOutcome:
    """Nothing relevant was found: the business flow starts, or the bot says it did not get it."""
    return _started(routed) if routed.otherwise_acts else AnswerOutcome("", "fallback", ())


def _started(routed: Route) -> AnswerOutcome:
    """The policy started a business flow (or a canned response) instead of an answer."""
    return AnswerOutcome(f"(started {routed.intent or 'a flow'})", "action", ())


def passage_outcome(
    best: ScoredPassage | None, bar: float, placeholders: Mapping[str, str], routed: Route
) -> AnswerOutcome:
    """The bot without a model: the best passage when it clears the bar, else as unanswered."""
    if best is None or not best.clears(bar):
        return unanswered_outcome(routed)
    text = fill_placeholders(best.passage.text, placeholders)
    return AnswerOutcome(text, "passage", (text,), (best.passage.id,))


async def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from bot.composition import build_parts
    from bot.generation.answerer import GroundedAnswer
    from bot.generation.backend import ChatMessage
    from bot.generation.evaluation import AnswerCase, evaluate, load_cases

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
        topic = await topic_after(parts, settings, case.before)
        routed = await route(parts, settings, case.question, topic)
        declined = declined_outcome(routed)
        if declined is not None:
            return declined
        bar = answer_bar(settings, routed)
        context = topic.context_for(case.question)
        if answerer is None:
            hits = await parts.knowledge.search_relevant(
                case.question, 1, min_similarity=bar, intent=routed.intent, context=context
            )
            best = hits[0] if hits else None
            return passage_outcome(best, bar, settings.shop.placeholders(), routed)
        result: GroundedAnswer = await answerer.answer(
            case.question,
            intent=routed.intent,
            min_similarity=bar,
            context=context,
            history=[ChatMessage("user", m) for m in case.before],
        )
        if result.kind == "fallback":
            return unanswered_outcome(routed)
        return AnswerOutcome(
            result.text,
            result.kind,
            result.evidence,
            result.sources,
            offered_handoff=result.offer_handoff or routed.intent in offer_intents,
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
