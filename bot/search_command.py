"""``python -m bot search``: how the knowledge base ranks its sections for one question.

For the people who write the knowledge base. It routes the question as a real turn does
(the reading, screening included, then the real policy's first decision; the intent steers
retrieval and the decision picks the answer bar), then shows
the best sections with what each signal gave them: the cosine to the whole text, the heading,
the nearest sentence and the nearest example question, the BM25 and intent terms, and whether
the best one clears the bar. When the bot picks the wrong section, this shows why; the usual fix
is to add the missed question to the right section's ``<!-- questions: -->`` list.

    python -m bot search "how long do I have to send back a jacket?"
    python -m bot search -k 3 --json "can I pay cash on delivery?"
    python -m bot search --after "can I pay with paypal?" "what about klarna?"

``--after`` gives the shopper messages the bot has just answered, oldest first, as the
conversation's topic (:mod:`bot.knowledge.followup`): the question is then searched with them
beside it, as in a real conversation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.knowledge import Explanation

if TYPE_CHECKING:
    from bot.composition import Parts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="the shopper's question")
    parser.add_argument("-k", type=int, default=5, help="sections shown (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--after",
        action="append",
        default=[],
        metavar="MESSAGE",
        help="an earlier shopper message the bot answered (repeat for several, oldest first)",
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    """What the real policy decides first for the question: ``deflected``, ``handoff``,
    ``answer`` (the knowledge base is searched), ``action`` or ``fallback``."""

    kind: str
    intent: str = ""
    unsure: bool = False
    otherwise_acts: bool = False
    follow_up: bool = False


async def route(parts: Parts, question: str, topic: Sequence[str]) -> Route:
    """The reading and the real policy's first decision for ``question`` after ``topic``."""
    from bot.dialogue_state import DialogueState
    from bot.domain import ConversationId, TrackerView, user_event
    from bot.policy.decisions import Answer, Empathize, Fallback, Handoff, OfferHandoff, StopForm

    state = DialogueState(topic=tuple(topic), topic_kind="knowledge" if topic else None)
    reading = await parts.reader.read(question, state)
    if reading.screening is not None:
        return Route("deflected")
    slots = tuple(parts.dialogue.domain.slots)
    events = [user_event(question, reading.to_rasa(), "search")]
    tracker = TrackerView.replay(ConversationId("search"), events, slots)
    policy = parts.dialogue.policy
    decisions = policy.decide(reading, state, tracker, policy.slot_events(tracker, reading))
    first = next((d for d in decisions if not isinstance(d, OfferHandoff | Empathize)), Fallback())
    intent = reading.intent.name
    match first:
        case Answer():
            return Route("answer", intent, first.min_score is not None, bool(first.otherwise),
                         reading.follow_up)  # fmt: skip
        case Handoff():
            return Route("handoff", intent)
        case Fallback() | StopForm():
            return Route("fallback", intent)
        case _:
            return Route("action", intent)


async def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from bot.composition import build_parts
    from bot.knowledge.followup import Topic

    if args.k < 1:
        raise SystemExit("error: -k must be at least 1")
    settings = dataclasses.replace(
        settings, generator=dataclasses.replace(settings.generator, enabled=False)
    )
    parts = build_parts(settings)
    try:
        for _, warmup in parts.lifecycle.warmups:
            await warmup()
        topic = Topic.of(args.after)
        routed = await route(parts, args.text, topic.messages)
        context = topic.context(follow_up=routed.follow_up)
        policy = settings.policy
        bar = policy.unsure_answer_min_score if routed.unsure else policy.answer_min_score
        intent = None if routed.follow_up else (routed.intent or None)
        explained = await parts.knowledge.explain(
            args.text, args.k, intent=intent, context=context, min_similarity=bar
        )
    finally:
        for close in parts.lifecycle.closers:
            await close()
    report = {
        "question": args.text,
        "route": routed.kind,
        "intent": routed.intent,
        "unsure": routed.unsure,
        "otherwise_acts": routed.otherwise_acts,
        "bar": bar,
        "context": None if context is None else context.text,
        "follow_up": context is not None and context.elliptic,
        "answered": routed.kind == "answer" and bool(explained) and explained[0].hit.clears(bar),
        "hits": [_as_dict(e) for e in explained],
    }
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else table(report))
    return report


def _as_dict(explained: Explanation) -> dict[str, Any]:
    hit = explained.hit
    return {
        "id": hit.passage.id,
        "score": round(hit.score, 4),
        "similarity": round(hit.similarity, 4),
        "question_match": hit.question_match,
        "off_topic": hit.off_topic,
        "dense": round(explained.dense, 4),
        "views": {
            "text": round(explained.passage, 4),
            "heading": round(explained.heading, 4),
            "sentence": round(explained.sentence, 4),
            "question": None if explained.question is None else round(explained.question, 4),
        },
        "lexical": round(explained.lexical, 4),
        "intent": round(explained.intent, 4),
        "nearest_sentence": explained.nearest_sentence,
        "nearest_question": explained.nearest_question,
    }


def table(report: dict[str, Any]) -> str:
    """The report as a terminal table, best section first."""
    which = "NLU unsure" if report["unsure"] else "intent known"
    lines = [
        f"question: {report['question']}",
        f"route: {report['route']} · intent {report['intent'] or '-'} · "
        f"answer bar {report['bar']:.2f} ({which})",
    ]
    if report.get("context"):
        how = "reads as a follow-up of" if report["follow_up"] else "searched beside the topic"
        lines.append(f"{how}: {report['context']}")
    if report["route"] != "answer":
        lines.append(
            "(a real turn does not search: screening, a handoff or a business flow takes it)"
        )
    elif report.get("otherwise_acts"):
        lines.append("(a question about an action: with nothing relevant, its flow starts)")
    lines.append("")
    lines.append(
        f"{'#':>2} {'score':>6} {'sim':>6} {'text':>5} {'head':>5} {'sent':>5} {'ques':>5} "
        f"{'bm25':>6} {'intent':>6}  section"
    )
    for rank, hit in enumerate(report["hits"], 1):
        views = hit["views"]
        question = "    -" if views["question"] is None else f"{views['question']:5.2f}"
        mark = ""
        if rank == 1 and hit["off_topic"]:
            mark = "  <- not about it on its own: not used"
        elif rank == 1 and not report["answered"]:
            mark = "  <- below the bar: not used"
        elif rank == 1:
            matched = hit["question_match"] and hit["similarity"] < report["bar"]
            mark = "  <- answers" + (" (an example question matched)" if matched else "")
        lines.append(
            f"{rank:>2} {hit['score']:6.3f} {hit['similarity']:6.3f} {views['text']:5.2f} "
            f"{views['heading']:5.2f} {views['sentence']:5.2f} {question} "
            f"{hit['lexical']:+6.3f} {hit['intent']:+6.3f}  {hit['id']}{mark}"
        )
        if hit["nearest_question"]:
            lines.append(f"{'':>10}nearest example: {hit['nearest_question']}")
        sentence = textwrap.shorten(hit["nearest_sentence"], 90, placeholder=" …")
        lines.append(f"{'':>10}nearest sentence: {sentence}")
    return "\n".join(lines)
