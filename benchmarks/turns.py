"""Turn latency under concurrent shoppers: bot + action server + real Redis, vs a bare aiohttp.

    python benchmarks/turns.py                       # N = 1, 8, 32; Redis at 127.0.0.1:6379/14
    python benchmarks/turns.py --shoppers 1 8 32 --conversations 96 --json out.json
    python benchmarks/turns.py --conversation questions

Each simulated shopper runs order-status conversations over the REST channel, back to back
with no think time (a closed loop, so the figures are the worst case for that many shoppers):
"where is my order?" -> email -> order number, each answered from the demo shop. With
``--conversation questions`` they ask the knowledge base instead, with follow-ups searched
beside the conversation's topic: "how do I send a return back?" -> "does the label cost
anything?" -> "what about for exchanges?". The bot and
the action server run as separate processes, as in production; the ceiling is a bare aiohttp
handler answering a fixed reply, driven by the same client in the same way. The bot's encoder
cache is off by default (--cache-size) so that every message pays for its own encoding, and the
bot's /stats counters show how many texts shared each encoder pass. Prints a table and writes
JSON (default benchmarks/results/turns.json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.stats import percentiles_ms  # noqa: E402

BARE_SERVER = """
import sys
from aiohttp import web
REPLY = [{"recipient_id": "x", "text": "Your order is on its way."}]
async def webhook(request):
    body = await request.json()
    return web.json_response([{**REPLY[0], "recipient_id": body["sender"]}])
async def health(request):
    return web.json_response({"status": "ok"})
app = web.Application()
app.add_routes([web.post("/webhooks/rest/webhook", webhook), web.get("/health", health)])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(url: str, process: subprocess.Popen[bytes], limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url} exited with {process.returncode}")
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{url} not healthy after {limit_s}s")


QUESTIONS = (
    "how do I send a return back?",
    "does the label cost anything?",
    "what about for exchanges?",
)


def shop_conversations(kind: str) -> list[tuple[tuple[str, ...], str]]:
    """Each conversation's messages and a text its last reply must hold."""
    if kind == "questions":
        return [(QUESTIONS, "free")]
    users = json.loads((ROOT / "data/shop/users.json").read_text())
    pairs = [(u["email"], o) for u in users.values() for o in u["orders"]]
    if not pairs:
        raise SystemExit("the demo shop has no orders")
    return [(("where is my order?", email, order), order) for email, order in pairs]


async def run_load(
    url: str,
    shoppers: int,
    conversations: int,
    scripts: list[tuple[tuple[str, ...], str]],
    check: bool,
) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(conversations):
        queue.put_nowait(i)
    run_id = uuid.uuid4().hex[:6]
    connector = aiohttp.TCPConnector(limit=shoppers)

    async def shopper(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while not queue.empty():
            i = queue.get_nowait()
            messages, expected = scripts[i % len(scripts)]
            sender = f"bench-{run_id}-{i}"
            for text in messages:
                started = time.perf_counter()
                async with session.post(url, json={"sender": sender, "message": text}) as r:
                    body = await r.json()
                latencies.append((time.perf_counter() - started) * 1000)
                if r.status != 200 or not body:
                    failures += 1
            if check and expected not in json.dumps(body):
                failures += 1

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(shopper(session) for _ in range(shoppers)))
        elapsed = time.perf_counter() - started
    return {
        "shoppers": shoppers,
        "turns": len(latencies),
        "failures": failures,
        **percentiles_ms(latencies, 0.5, 0.95, 0.99),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "turns_per_s": round(len(latencies) / elapsed, 1),
    }


def start_processes(
    redis_url: str, prefix: str, cache_size: int
) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    """Action server, bot (on Redis) and the bare aiohttp server, each in its own process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    ports = [free_port(), free_port(), free_port()]
    action_port, bot_port, bare_port = ports
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    bot_env = {
        **env,
        "REDIS_URL": redis_url,
        "CONCIERGE__SESSIONS__KEY_PREFIX": prefix,
        "CONCIERGE__NLU__CACHE_SIZE": str(cache_size),
        "CONCIERGE_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
    }
    commands = [
        ([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port),
          "--quiet"], env),
        ([sys.executable, "-m", "bot", "run", "--no-actions", "--port", str(bot_port)], bot_env),
        ([sys.executable, "-c", BARE_SERVER, str(bare_port)], env),
    ]  # fmt: skip
    # Each in its own session, so stop_processes ends Sanic's worker processes too.
    processes = [
        subprocess.Popen(cmd, cwd=ROOT, env=e, start_new_session=True, **quiet)
        for cmd, e in commands
    ]
    return processes, ports


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def measure(
    args: argparse.Namespace, processes: list[subprocess.Popen[bytes]], ports: list[int]
) -> list[dict[str, Any]]:
    pairs = shop_conversations(args.conversation)
    action_port, bot_port, bare_port = ports
    await wait_healthy(f"http://127.0.0.1:{action_port}/health", processes[0])
    await wait_healthy(f"http://127.0.0.1:{bot_port}/ready", processes[1])
    await wait_healthy(f"http://127.0.0.1:{bare_port}/health", processes[2])
    bot_url = f"http://127.0.0.1:{bot_port}/webhooks/rest/webhook"
    bare_url = f"http://127.0.0.1:{bare_port}/webhooks/rest/webhook"
    await run_load(bot_url, 4, 8, pairs, check=False)  # warm-up
    stats_url = f"http://127.0.0.1:{bot_port}/stats"
    rows = []
    for n in args.shoppers:
        conversations = max(args.conversations, n * 3)
        before = await fetch_json(stats_url)
        bot = await run_load(bot_url, n, conversations, pairs, check=True)
        after = await fetch_json(stats_url)
        texts = after["encoder_texts"] - before["encoder_texts"]
        batches = after["encoder_batches"] - before["encoder_batches"]
        bot["encoder_passes"] = batches
        bot["texts_per_pass"] = round(texts / batches, 2) if batches else 0.0
        bare = await run_load(bare_url, n, conversations, pairs, check=False)
        rows.append({"bot": bot, "bare_aiohttp": bare})
    return rows


async def fetch_json(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        data: dict[str, Any] = await response.json()
        return data


def main(args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"concierge-bench-{uuid.uuid4().hex[:6]}"
    processes, ports = start_processes(args.redis, prefix, args.cache_size)
    try:
        rows = asyncio.run(measure(args, processes, ports))
    finally:
        stop_processes(processes)
        asyncio.run(_cleanup_redis(args.redis, prefix))
    return {
        "benchmark": "turns",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "redis": args.redis,
        "conversation": (
            list(QUESTIONS)
            if args.conversation == "questions"
            else ["where is my order?", "<email>", "<order id>"]
        ),
        "encoder_cache": args.cache_size,
        "rows": rows,
    }


async def _cleanup_redis(url: str, prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


def print_table(result: dict[str, Any]) -> None:
    cols = f"{'p50':>7} {'p95':>7} {'p99':>7} {'turns/s':>8}"
    head = f"{'shoppers':>8} | {'turns':>6} {'fail':>4} {cols}"
    print(f"{'':>8} | {'Concierge (bot + actions + Redis)':^44} | {'bare aiohttp ceiling':^30}")
    print(f"{head} | {cols}")
    for row in result["rows"]:
        b, c = row["bot"], row["bare_aiohttp"]
        print(
            f"{b['shoppers']:>8} | {b['turns']:>6} {b['failures']:>4} {b['p50_ms']:>7.1f} "
            f"{b['p95_ms']:>7.1f} {b['p99_ms']:>7.1f} {b['turns_per_s']:>8.1f} | "
            f"{c['p50_ms']:>7.1f} {c['p95_ms']:>7.1f} {c['p99_ms']:>7.1f} {c['turns_per_s']:>8.1f}"
        )
    print("latencies in ms; closed loop, no think time")
    for row in result["rows"]:
        b = row["bot"]
        print(
            f"{b['shoppers']:>3} shoppers: {b['encoder_passes']} encoder passes,"
            f" {b['texts_per_pass']} texts per pass (cache: {result['encoder_cache']})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--conversations", type=int, default=40, help="per load level (min 3*N)")
    parser.add_argument(
        "--conversation",
        choices=["orders", "questions"],
        default="orders",
        help="order status (actions) or knowledge questions with follow-ups",
    )
    default_redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    parser.add_argument("--redis", default=default_redis)
    parser.add_argument(
        "--cache-size",
        type=int,
        default=0,
        help="the bot's nlu.cache_size; 0 (default) makes every message pay for its encoding",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/turns.json")
    args = parser.parse_args()
    result = main(args)
    print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
