"""tau-bench retail tasks played as scripted shopper conversations against the whole bot.

The bot is configured on tau-bench's shop instead of the demo shop, the way a shop owner would
point it at their own: the shop store seeded from tau-bench's ``users/orders/products.json``,
the NLU catalog from its ``products.json``, the knowledge base from its policy ``wiki.md``.
Each task gets a fresh copy of the shop; a scripted shopper (``benchmarks/tau_shopper.py``)
asks for the task's gold changes in plain words over the REST channel and answers the bot's
questions; at the end the shop's data hash is compared with the gold one (tau-bench's own
success criterion). The real NLU model and MiniLM encoder run; the rasa-sdk actions run in
this process (``bot.action_inprocess``) so that each task can have its own shop.

    python benchmarks/tau_conversations.py                      # the 20 dev tasks
    python benchmarks/tau_conversations.py --split train --limit 100
    python benchmarks/tau_conversations.py --transcripts benchmarks/results/tau_transcripts
    python benchmarks/tau_conversations.py --style all        # every wording style, per style
    python benchmarks/tau_conversations.py --style terse --style chatty

``--style`` words the same tasks as one of the styles of ``benchmarks/tau_wordings.yml``
(written by a helper who never saw the bot's parser); ``own`` is the project's own shopper.

Prints a table and writes JSON (default ``benchmarks/results/tau_conversations_<split>.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from tau_shopper import WRITE_ACTIONS, ScriptedShopper, Style, build_shopper, load_styles  # noqa: E402
from tqdm import tqdm  # noqa: E402

from actions.base import install_shop_backend  # noqa: E402
from actions.shop.tau_bench import DataHasher, import_tau_bench  # noqa: E402
from bot.action_inprocess import InProcessActionExecutor  # noqa: E402
from bot.composition import build_app  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.domain import ConversationId, TrackerView  # noqa: E402
from bot.nlu.encoder import CachedEncoder, MiniLMEncoder  # noqa: E402
from bot.nlu.multilingual import UseEncoder  # noqa: E402
from bot.sessions.memory import MemorySessionStore  # noqa: E402

logging.getLogger("rasa_sdk").setLevel(logging.ERROR)  # "Skipping validation for ..." per turn
TAU_DIR = ROOT.parent / "shared" / "datasets" / "tau-bench-retail"
MAX_TURNS_PER_REQUEST = 12


def tau_settings(tau_dir: Path) -> Settings:
    """The repository's settings pointed at tau-bench's shop, catalog and policy."""
    base = load_settings(ROOT / "config.yml", env={})
    return replace(
        base,
        shop=replace(base.shop, name="tau-bench retail"),
        shop_store=replace(base.shop_store, data_dir=str(tau_dir)),
        nlu=replace(base.nlu, catalog=str(tau_dir / "products.json")),
        knowledge=replace(base.knowledge, directory=str(tau_dir / "wiki.md")),
    )


async def play(
    client: TestClient[Any, Any], store: MemorySessionStore, sender: str, shopper: ScriptedShopper
) -> tuple[list[dict[str, str]], str]:
    """Plays the whole conversation; returns the transcript and how it ended."""
    transcript: list[dict[str, str]] = []
    message = shopper.opener()
    turns_this_request = 0
    last_question: tuple[str, str] | None = None
    while message is not None:
        transcript.append({"shopper": message})
        response = await client.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": message}
        )
        if response.status != 200:
            return transcript, f"HTTP {response.status}"
        replies = await response.json()
        transcript.append({"bot": "\n".join(r.get("text") or "" for r in replies)})
        turns_this_request += 1
        if turns_this_request > MAX_TURNS_PER_REQUEST:
            return transcript, "too many turns"
        events, _ = await store.snapshot(ConversationId(sender))
        view = TrackerView.replay(ConversationId(sender), events)
        slots, loop = view.slots, view.active_loop
        requested = slots.get("requested_slot")
        if loop and requested:
            question = (loop, str(requested))
            if question == last_question and requested != "new_item_ids":
                return transcript, f"asked for {requested} again"
            last_question = question
            message = shopper.answer(str(requested), slots)
            if message is None:
                return transcript, f"no answer for {requested}"
            continue
        # The flow ended (done, refused or stopped): on to the next request, if any.
        shopper.finished_request()
        last_question, turns_this_request = None, 0
        message = shopper.opener()
    return transcript, "finished"


def load_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tau_dir: Path = args.data
    tasks = load_lines(tau_dir / f"tasks_{args.split}.jsonl")
    gold = {entry["index"]: entry for entry in load_lines(tau_dir / f"gold_{args.split}.jsonl")}
    if args.limit:
        tasks = tasks[: args.limit]
    users = json.loads((tau_dir / "users.json").read_text(encoding="utf-8"))
    orders = json.loads((tau_dir / "orders.json").read_text(encoding="utf-8"))
    products = json.loads((tau_dir / "products.json").read_text(encoding="utf-8"))
    base_shop = import_tau_bench(tau_dir)
    hasher = DataHasher()
    encoder = MiniLMEncoder()
    encoder.load()
    # One multilingual encoder for every task's app (an app per task keeps each shop apart).
    reading_encoder = UseEncoder()
    reading_encoder.load()
    settings = tau_settings(tau_dir)
    styles: dict[str, Style | None] = {"own": None, **load_styles()}
    chosen = list(styles) if "all" in args.style else (args.style or ["own"])
    unknown = [name for name in chosen if name not in styles]
    if unknown:
        raise SystemExit(f"unknown style(s) {unknown}; known: {', '.join(styles)}")
    results = []
    if args.transcripts:
        args.transcripts.mkdir(parents=True, exist_ok=True)
    runs = [(name, task) for name in chosen for task in tasks]
    for name, task in tqdm(runs, desc=f"tau-bench {args.split}", unit="task"):
        shop = base_shop.copy()
        install_shop_backend(shop)
        store = MemorySessionStore()
        app = build_app(
            settings,
            encoder=CachedEncoder(encoder),
            reading_encoder=reading_encoder,
            store=store,
            actions=InProcessActionExecutor("actions"),
        )
        started = time.perf_counter()
        try:
            async with TestClient(TestServer(app)) as client:
                shopper = build_shopper(task, users, orders, products, styles[name])
                sender = f"tau-{args.split}-{name}-{task['index']}"
                transcript, ending = await play(client, store, sender, shopper)
            final_hash = hasher.hash(shop)
        finally:
            install_shop_backend(None)
            shop.close()
        expected = gold[task["index"]]["data_hash"]
        results.append(
            {
                "style": name,
                "index": task["index"],
                "writes": [a["name"] for a in task["actions"] if a["name"] in WRITE_ACTIONS],
                "passed": final_hash == expected,
                "ending": ending,
                "shopper_turns": sum(1 for t in transcript if "shopper" in t),
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
        if args.transcripts:
            path = args.transcripts / f"{args.split}-{name}-{task['index']:03d}.json"
            path.write_text(json.dumps({**results[-1], "transcript": transcript}, indent=1))
    base_shop.close()
    return summarise(args.split, results)


def summarise(split: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    by_action: dict[str, list[bool]] = {}
    for result in results:
        for name in set(result["writes"]) or {"(no write)"}:
            by_action.setdefault(name, []).append(result["passed"])
    seconds = [r["seconds"] for r in results]
    by_style: dict[str, list[bool]] = {}
    for result in results:
        by_style.setdefault(result["style"], []).append(result["passed"])
    return {
        "split": split,
        "by_style": {k: {"tasks": len(v), "passed": sum(v)} for k, v in by_style.items()},
        "tasks": len(results),
        "passed": sum(r["passed"] for r in results),
        "pass_rate": sum(r["passed"] for r in results) / len(results) if results else 0.0,
        "by_action": {k: {"tasks": len(v), "passed": sum(v)} for k, v in sorted(by_action.items())},
        "shopper_turns_mean": statistics.fmean(r["shopper_turns"] for r in results),
        "seconds_per_task_mean": statistics.fmean(seconds) if seconds else 0.0,
        "results": results,
    }


def print_table(summary: dict[str, Any]) -> None:
    print(
        f"\ntau-bench retail {summary['split']}: {summary['passed']}/{summary['tasks']} tasks "
        f"end with the gold database ({100 * summary['pass_rate']:.1f}%), "
        f"{summary['shopper_turns_mean']:.1f} shopper messages and "
        f"{summary['seconds_per_task_mean']:.2f} s per task"
    )
    print(f"{'wording style':34} {'tasks':>6} {'passed':>7} {'rate':>7}")
    for name, row in summary["by_style"].items():
        rate = 100 * row["passed"] / row["tasks"] if row["tasks"] else 0.0
        print(f"{name:34} {row['tasks']:>6} {row['passed']:>7} {rate:>6.1f}%")
    print(f"\n{'write action in task':34} {'tasks':>6} {'passed':>7}")
    for name, row in summary["by_action"].items():
        print(f"{name:34} {row['tasks']:>6} {row['passed']:>7}")
    failed = [r for r in summary["results"] if not r["passed"]]
    if failed:
        print("failed: " + ", ".join(f"{r['style']}:{r['index']} ({r['ending']})" for r in failed))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=TAU_DIR, help="tau-bench retail folder")
    parser.add_argument("--split", choices=("dev", "train"), default="dev")
    parser.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument("--transcripts", type=Path, default=None, help="folder for transcripts")
    parser.add_argument(
        "--style",
        action="append",
        default=[],
        help="wording style (own, a name in benchmarks/tau_wordings.yml, or all); repeatable",
    )
    args = parser.parse_args()
    if not (args.data / "orders.json").is_file():
        print(f"tau-bench retail data not found at {args.data}", file=sys.stderr)
        return 2
    summary = asyncio.run(run(args))
    print_table(summary)
    out = args.json or ROOT / "benchmarks" / "results" / f"tau_conversations_{args.split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
