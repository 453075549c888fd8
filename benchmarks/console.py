"""The agent console under load: 20 agents and 200 shoppers at once, live, across workers.

    python benchmarks/console.py                     # 200 shoppers, 20 agents, 2 workers
    python benchmarks/console.py --shoppers 200 --agents 20 --rounds 5 --json out.json
    python benchmarks/console.py --think-s 5         # shoppers paced like people typing

Two bot worker processes (tests/console/worker.py: the real widget channel, pipeline, session
store on Redis, console and its Redis bus; the NLU is scripted, which does not matter here:
while a person has the conversation the bot reads nothing) share one Redis and one console
database (SQLite in a temporary folder, or ``--database postgresql://…``). On loopback:

1. ``--shoppers`` widget sockets, spread over the workers, each ask for a person (handoff);
2. ``--agents`` agents sign in on the *other* worker, open the console socket, claim an equal
   share of the queue and follow their conversations;
3. every shopper then sends ``--rounds`` messages, each after the agent's reply to the last
   (a closed loop per conversation, all conversations at once). By default a shopper sends
   the moment the reply arrives, so all 200 messages of a round land in the same instant (the
   worst case); ``--think-s 5`` paces each shopper like a person reading and typing (an
   exponential pause with that mean, about 40 messages a second from 200 shoppers).
   Measured in this process on one clock: from a shopper's ``message`` frame to the agent's
   socket showing it (shopper -> agent), and from the agent's reply POST to the shopper's
   ``agent_message`` frame (agent -> shopper).

Everything is bounded by ``--max-seconds``; lost messages are counted, not waited for. The load
generator runs on the same 2 cores as the bot, so the figures include its own queueing.
Prints a table and writes JSON (default benchmarks/results/console.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.console import migrate  # noqa: E402
from bot.stats import percentiles_ms  # noqa: E402
from tests.console.helpers import PASSWORD, add_agent  # noqa: E402
from tests.console.processes import (  # noqa: E402
    clean_redis,
    start_worker,
    stop_workers,
    wait_healthy,
)


class Run:
    """Timestamps and results of one run."""

    def __init__(self, rounds: int, think_s: float) -> None:
        self.rounds = rounds
        self.think_s = think_s
        self.sent: dict[str, float] = {}
        self.to_agent: list[float] = []
        self.to_shopper: list[float] = []
        self.duplicates = 0
        self.done: dict[int, asyncio.Event] = {}


async def shopper(
    index: int, url: str, run: Run, ready: asyncio.Queue[tuple[int, str]], go: asyncio.Event
) -> None:
    """One widget: hands off, then sends a message after each agent reply."""
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{url}/webhooks/webchat/ws", headers={"Origin": url})
        await ws.send_json({"type": "hello", "locale": "en"})
        welcome = json.loads((await ws.receive()).data)
        await ws.send_json({"type": "message", "client_message_id": f"handoff-{index:05d}",
                            "text": "I want to talk to a person"})  # fmt: skip
        seen: set[int] = set()
        while True:  # until the handoff turn ends
            frame = json.loads((await ws.receive()).data)
            if frame["type"] == "typing" and not frame["on"]:
                break
        await ready.put((index, welcome["conversation_id"]))
        await go.wait()
        next_round = 0
        rng = random.Random(index)

        async def think() -> None:
            # Paced mode: a person reads the reply and types (exponential, mean --think-s).
            if run.think_s > 0:
                await asyncio.sleep(rng.expovariate(1 / run.think_s))

        async def send(r: int) -> None:
            run.sent[f"m-{index}-{r}"] = time.perf_counter()
            await ws.send_json({"type": "message", "client_message_id": f"s{index:05d}r{r:03d}",
                                "text": f"m-{index}-{r}"})  # fmt: skip

        await think()
        await send(next_round)
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            if frame.get("event") is not None:
                if frame["event"] in seen:
                    run.duplicates += 1
                seen.add(frame["event"])
            if frame["type"] == "agent_message" and frame.get("text", "").startswith("r-"):
                started = run.sent.pop(frame["text"], None)
                if started is not None:
                    run.to_shopper.append(time.perf_counter() - started)
                next_round += 1
                if next_round >= run.rounds:
                    break
                await think()
                await send(next_round)
        run.done[index].set()
        await ws.close()


async def agent(
    number: int, url: str, cids: list[tuple[int, str]], run: Run, claimed: asyncio.Queue[int]
) -> None:
    """One agent: signs in, claims its share, follows it, answers each message at once."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=url, cookie_jar=jar) as session:
        async with session.post("/console/api/login", json={
            "email": f"agent{number}@bench.example", "password": PASSWORD}) as answer:  # fmt: skip
            csrf = (await answer.json())["csrf"]
        headers = {"X-CSRF-Token": csrf}
        ws = await session.ws_connect("/console/ws")
        async with session.get("/console/api/queue") as answer:
            queue = {h["conversation_id"]: h["id"] for h in (await answer.json())["handoffs"]}
        handoff_of: dict[str, int] = {}
        for _, cid in cids:
            async with session.post(f"/console/api/handoffs/{queue[cid]}/claim",
                                    headers=headers) as answer:  # fmt: skip
                assert answer.status == 200, await answer.text()
            handoff_of[cid] = queue[cid]
            await ws.send_json({"type": "watch", "conversation_id": cid, "after": -1})
        await claimed.put(number)
        seen: set[tuple[str, int]] = set()
        pending: set[asyncio.Task[None]] = set()

        async def reply(cid: str, text: str) -> None:
            run.sent[text] = time.perf_counter()
            async with session.post(f"/console/api/handoffs/{handoff_of[cid]}/reply",
                                    json={"text": text}, headers=headers) as answer:  # fmt: skip
                await answer.read()

        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            if frame["type"] != "events":
                continue
            for item in frame["items"]:
                key = (frame["conversation_id"], item["event"])
                if key in seen:
                    run.duplicates += 1
                seen.add(key)
                text = item.get("text") or ""
                if item["kind"] == "user" and text.startswith("m-"):
                    started = run.sent.pop(text, None)
                    if started is not None:
                        run.to_agent.append(time.perf_counter() - started)
                    task = asyncio.create_task(reply(frame["conversation_id"], "r" + text[1:]))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
            if all(run.done[i].is_set() for i, _ in cids):
                break
        await asyncio.gather(*pending, return_exceptions=True)
        await ws.close()


async def within(step: Any, args: argparse.Namespace, what: str) -> Any:
    """One set-up step, bounded: a shopper or agent that fails stops the run with its error
    instead of leaving it waiting."""
    try:
        return await asyncio.wait_for(step, args.max_seconds)
    except TimeoutError:
        raise SystemExit(f"set-up ({what}) took over {args.max_seconds} s") from None


async def measure(args: argparse.Namespace, urls: list[str]) -> dict[str, Any]:
    run = Run(args.rounds, args.think_s)
    ready: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    go = asyncio.Event()
    run.done = {i: asyncio.Event() for i in range(args.shoppers)}
    started = time.perf_counter()
    shoppers = [asyncio.create_task(shopper(i, urls[i % len(urls)], run, ready, go))
                for i in range(args.shoppers)]  # fmt: skip
    conversations = [await within(ready.get(), args, "handoffs") for _ in range(args.shoppers)]
    handoff_s = time.perf_counter() - started
    conversations.sort()
    claimed: asyncio.Queue[int] = asyncio.Queue()
    agents = []
    for number in range(args.agents):
        share = conversations[number :: args.agents]
        # The agent signs in on another worker than their shoppers' (the cross-worker path).
        url = urls[(share[0][0] + 1) % len(urls)] if share else urls[0]
        agents.append(asyncio.create_task(agent(number, url, share, run, claimed)))
    for _ in range(args.agents):
        await within(claimed.get(), args, "claims")
    setup_s = time.perf_counter() - started
    go.set()
    loop_started = time.perf_counter()
    # The shoppers finish when the agents' last replies reach them; an agent whose shoppers
    # are done may still be waiting for a frame, so agents are stopped, not waited for.
    _, unfinished = await asyncio.wait(shoppers, timeout=args.max_seconds)
    loop_s = time.perf_counter() - loop_started
    for task in [*unfinished, *agents]:
        task.cancel()
    await asyncio.gather(*unfinished, *agents, return_exceptions=True)
    expected = args.shoppers * args.rounds
    return {
        "shoppers": args.shoppers,
        "agents": args.agents,
        "rounds": args.rounds,
        "think_s": args.think_s,
        "workers": len(urls),
        "handoffs_s": round(handoff_s, 2),
        "setup_s": round(setup_s, 2),
        "loop_s": round(loop_s, 2),
        "messages_expected_each_way": expected,
        "shopper_to_agent": {"count": len(run.to_agent),
                             **percentiles_ms([x * 1000 for x in run.to_agent], 0.5, 0.95, 0.99)},
        "agent_to_shopper": {"count": len(run.to_shopper),
                             **percentiles_ms([x * 1000 for x in run.to_shopper], 0.5, 0.95, 0.99)},
        "lost": expected * 2 - len(run.to_agent) - len(run.to_shopper),
        "duplicates": run.duplicates,
        "timed_out": bool(unfinished),
    }  # fmt: skip


async def main(args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"concierge-console-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="console-bench-") as folder:
        database = args.database or f"sqlite:///{Path(folder) / 'console.sqlite'}"
        migrate.upgrade(database)
        for number in range(args.agents):
            await add_agent(database, f"agent{number}@bench.example", f"Agent {number}")
        started = [start_worker(args.redis, prefix, database, Path(folder) / "workers.log")
                   for _ in range(args.workers)]  # fmt: skip
        try:
            for process, url in started:
                await wait_healthy(url, process)
            result = await measure(args, [url for _, url in started])
        finally:
            stop_workers([process for process, _ in started])
            await clean_redis(args.redis, prefix)
    result["machine"] = {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}
    result["database"] = "postgresql" if database.startswith("postgres") else "sqlite"
    return result


def print_table(result: dict[str, Any]) -> None:
    r = result
    pace = f"think {r['think_s']} s" if r["think_s"] else "all at once"
    print(f"{r['shoppers']} shoppers, {r['agents']} agents, {r['rounds']} rounds ({pace}), "
          f"{r['workers']} workers ({r['database']}); loop {r['loop_s']} s")  # fmt: skip
    print(f"{'path':<18} | {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} | goal p95")
    for name, key in (
        ("shopper -> agent", "shopper_to_agent"),
        ("agent -> shopper", "agent_to_shopper"),
    ):
        row = result[key]
        verdict = "met" if row["p95_ms"] <= 100 else "MISSED"
        print(f"{name:<18} | {row['count']:>6} {row['p50_ms']:>8} {row['p95_ms']:>8} "
              f"{row['p99_ms']:>8} | <=100 {verdict}")  # fmt: skip
    print(f"lost {result['lost']}, duplicates {result['duplicates']}, "
          f"timed out {result['timed_out']}")  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think-s",
        type=float,
        default=0.0,
        help="mean pause before each shopper message (0: every shopper sends the moment the "
        "agent's reply arrives, all conversations in the same instant)",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--database", default=None, help="console database (default: SQLite)")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/console.json")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    outcome = asyncio.run(main(arguments))
    print_table(outcome)
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(outcome, indent=2) + "\n")
