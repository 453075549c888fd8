"""``python -m bot eval-dialogues``: multi-turn conversations scored turn by turn.

Each case file of ``data/eval/dialogues*.yml`` (format: ``data/eval/DIALOGUES.md``) is played
against the whole bot (:mod:`training.harness`), every conversation on a fresh copy of its
shop; each checked turn is right when every check of its ``expect`` holds, and a conversation
with an ``end`` block is also checked against the shop's data when it is over. Prints a table
by file, language and kind, and writes JSON::

    python -m bot eval-dialogues                                    # the dev set
    python -m bot eval-dialogues --cases data/eval/dialogues.yml data/eval/dialogues-2.yml \\
        data/eval/dialogues-tau.yml                                 # held out: once per change
    python -m bot eval-dialogues --show-failures                    # dev only: what went wrong
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.appkeys import PIPELINE
from bot.config import ROOT
from bot.nlu.language import LanguageDetector
from training.dialogue_cases import CaseFile, Conversation, EndState, load_case_file
from training.dialogue_checks import Observed, check, observe
from training.harness import Harness, Session, shop_settings

DEFAULT_CASES = (ROOT / "data" / "eval" / "dialogues-dev.yml",)


@dataclass
class TurnResult:
    number: int
    said: str
    checked: bool
    problems: list[str] = field(default_factory=list)
    reply: str = ""
    reading: str = ""  # how the bot read the message, shown with the dev set's failures

    @property
    def right(self) -> bool:
        return self.checked and not self.problems


@dataclass
class ConversationResult:
    file: str
    id: str
    language: str
    kind: str
    turns: list[TurnResult]
    end_problems: list[str]
    error: str | None = None

    @property
    def checked(self) -> int:
        return sum(t.checked for t in self.turns) + (1 if self.has_end else 0)

    @property
    def right(self) -> int:
        return sum(t.right for t in self.turns) + (1 if self.has_end and self.end_ok else 0)

    has_end: bool = False
    end_ok: bool = True


async def play(
    session: Session,
    conversation: Conversation,
    harness: Harness,
    detector: LanguageDetector,
    headings: Mapping[str, str],
) -> ConversationResult:
    """Plays one conversation and checks each turn and the end state."""
    result = ConversationResult(
        "", conversation.id, conversation.language, conversation.kind, [], []
    )
    before_all = harness.shop_hash(session.shop)
    last_buttons: list[tuple[str, str]] = []
    for number, turn in enumerate(conversation.turns, 1):
        tracker, _ = await session.tracker()
        loop_before, events_before = tracker.active_loop, len(tracker.events)
        shop_before = harness.shop_hash(session.shop)
        if turn.click is not None:
            payload = _pressed(turn.click, last_buttons)
            said = f"[{turn.click}]"
            if payload is None:
                result.turns.append(
                    TurnResult(number, said, turn.expect is not None, ["no such button"])
                )
                continue
            message = payload
        else:
            message = said = str(turn.user)
        await session.say(message)
        tracker, mode = await session.tracker()
        seen: Observed = observe(
            tracker.events[events_before:],
            loop_before=loop_before,
            loop_after=tracker.active_loop,
            mode_after=mode,
            shop_changed=harness.shop_hash(session.shop) != shop_before,
            headings=headings,
        )
        last_buttons = seen.buttons
        problems = (
            check(turn.expect, seen, detector, neutral=harness.product_names)
            if turn.expect is not None
            else []
        )
        result.turns.append(
            TurnResult(
                number,
                said,
                turn.expect is not None,
                problems,
                seen.text,
                _reading_line(tracker.events[events_before:]),
            )
        )
    if conversation.end is not None:
        result.has_end = True
        result.end_problems = end_problems(conversation.end, session, harness, before_all)
        result.end_ok = not result.end_problems
    return result


def _reading_line(events: Sequence[Mapping[str, Any]]) -> str:
    """One line of how the bot read the turn's message: intent, act, follow-up, reference."""
    user = next((e for e in events if e.get("event") == "user"), None)
    parse = (user or {}).get("parse_data") or {}
    intent = parse.get("intent") or {}
    reading = parse.get("reading") or {}
    parts = [f"{intent.get('name')} {intent.get('confidence', 0):.2f}"]
    parts.append(f"act={reading.get('act')} {reading.get('act_confidence', 0):.2f}")
    for key in ("language", "feeling", "follow_up", "rule"):
        if reading.get(key) not in (None, False, "calm"):
            parts.append(f"{key}={reading.get(key)}")
    if reading.get("refers_to"):
        ref = reading["refers_to"]
        parts.append(f"refers={ref.get('kind')}:{ref.get('value')}")
    entities = [f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []]
    if entities:
        parts.append("ents=" + ",".join(entities))
    return " ".join(parts)


def _pressed(click: str | int, buttons: Sequence[tuple[str, str]]) -> str | None:
    if isinstance(click, int):
        return buttons[click - 1][1] if 0 < click <= len(buttons) else None
    wanted = click.casefold()
    return next((payload for title, payload in buttons if wanted in title.casefold()), None)


def end_problems(end: EndState, session: Session, harness: Harness, before: str) -> list[str]:
    """Why the shop's data after the conversation is not what the case says."""
    from actions.shop.tau_bench import export_data

    if end.unchanged:
        return [] if harness.shop_hash(session.shop) == before else ["the shop was changed"]
    if end.order is None:
        return []
    order = export_data(session.shop)["orders"].get(end.order)
    if order is None:
        return [f"no order {end.order}"]
    problems = []
    if end.status and str(order.get("status")) != end.status:
        problems.append(f"{end.order} is {order.get('status')!r}, not {end.status!r}")
    if end.payment_method:
        history = order.get("payment_history") or [{}]
        used = (
            order.get("return_payment_method_id")
            or order.get("exchange_payment_method_id")
            or history[-1].get("payment_method_id")
        )
        if used != end.payment_method:
            problems.append(f"{end.order} used {used!r}, not {end.payment_method!r}")
    if end.address_contains:
        address = " ".join(str(v) for v in (order.get("address") or {}).values())
        if end.address_contains.casefold() not in address.casefold():
            problems.append(f"{end.order} ships to {address!r}")
    return problems


async def run_file(
    case_file: CaseFile, detector: LanguageDetector, *, progress: bool = True
) -> list[ConversationResult]:
    from tqdm import tqdm

    harness = Harness(shop_settings(case_file.shop))
    results = []
    async with harness.running():
        headings = {p.id: p.heading for p in harness.app[PIPELINE].knowledge.passages}
        for conversation in tqdm(
            case_file.conversations, desc=case_file.path.name, unit="conv", disable=not progress
        ):
            async with harness.session(f"eval-{conversation.id}") as session:
                try:
                    result = await play(session, conversation, harness, detector, headings)
                except Exception as exc:  # a crash fails the case, the run goes on
                    logging.exception("conversation %s crashed", conversation.id)
                    result = ConversationResult(
                        "", conversation.id, conversation.language, conversation.kind, [], []
                    )
                    result.error = f"{type(exc).__name__}: {exc}"
                    result.turns = [
                        TurnResult(i, "", t.expect is not None, ["crashed"])
                        for i, t in enumerate(conversation.turns, 1)
                    ]
            result.file = case_file.path.name
            results.append(result)
    return results


def summarise(results: Sequence[ConversationResult]) -> dict[str, Any]:
    """Checked and right turns overall and by file, language and kind."""
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for result in results:
        for key, value in (
            ("all", "all"),
            ("file", result.file),
            ("language", result.language),
            ("kind", result.kind),
        ):
            cell = groups[key][value]
            cell[0] += result.right
            cell[1] += result.checked
    table = {
        key: {
            value: {"right": r, "checked": c, "rate": r / c if c else 0.0}
            for value, (r, c) in rows.items()
        }
        for key, rows in groups.items()
    }
    whole = sum(1 for r in results if r.checked and r.right == r.checked)
    return {
        "turns": table,
        "conversations": len(results),
        "conversations_all_right": whole,
        "crashed": [r.id for r in results if r.error],
    }


def print_table(summary: Mapping[str, Any]) -> None:
    turns = summary["turns"]
    overall = turns["all"]["all"]
    print(
        f"\n{overall['right']}/{overall['checked']} checked turns right "
        f"({100 * overall['rate']:.1f}%); {summary['conversations_all_right']}/"
        f"{summary['conversations']} conversations wholly right"
    )
    for key in ("file", "language", "kind"):
        print(f"\n{'by ' + key:28} {'right':>6} {'checked':>8} {'rate':>7}")
        for value, row in sorted(turns[key].items()):
            print(f"{value:28} {row['right']:>6} {row['checked']:>8} {100 * row['rate']:>6.1f}%")
    if summary["crashed"]:
        print("\ncrashed: " + ", ".join(summary["crashed"]))


def print_failures(results: Sequence[ConversationResult]) -> None:
    for result in results:
        bad = [t for t in result.turns if t.checked and not t.right]
        if not bad and result.end_ok and not result.error:
            continue
        print(f"\n== {result.id} ({result.language}, {result.kind})")
        for turn in result.turns:
            mark = " " if not turn.checked else ("✓" if turn.right else "✗")
            print(f" {mark} {turn.number}. {turn.said}")
            print("      bot: " + turn.reply.replace("\n", " | ")[:400])
            if turn.reading:
                print(f"      read: {turn.reading}")
            for problem in turn.problems:
                print(f"      !! {problem}")
        for problem in result.end_problems:
            print(f"   end !! {problem}")
        if result.error:
            print(f"   crashed: {result.error}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=Path, nargs="+", default=list(DEFAULT_CASES))
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument(
        "--show-failures", action="store_true", help="print each failed turn (dev sets only)"
    )
    parser.add_argument("--only", default=None, help="only conversations whose id contains this")


async def run(args: argparse.Namespace) -> int:
    # Per-request access lines and per-case start-up lines would bury the table.
    for name in ("rasa_sdk", "aiohttp.access", "bot.app"):
        logging.getLogger(name).setLevel(logging.ERROR)
    detector = LanguageDetector()
    results: list[ConversationResult] = []
    started = time.perf_counter()
    for path in args.cases:
        case_file = load_case_file(path)
        if args.only:
            kept = tuple(c for c in case_file.conversations if args.only in c.id)
            case_file = CaseFile(case_file.path, case_file.shop, kept)
        results.extend(await run_file(case_file, detector))
    summary = summarise(results)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    summary["cases"] = [str(p) for p in args.cases]
    print_table(summary)
    if args.show_failures:
        print_failures(results)
    out = args.json or ROOT / "benchmarks" / "results" / "eval_dialogues.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    detail = [
        {
            "file": r.file,
            "id": r.id,
            "right": r.right,
            "checked": r.checked,
            "failed_turns": [t.number for t in r.turns if t.checked and not t.right],
            "end_ok": r.end_ok,
        }
        for r in results
    ]
    out.write_text(json.dumps({**summary, "results": detail}, indent=2), encoding="utf-8")
    print(f"wrote {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
