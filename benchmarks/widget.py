"""The website widget under 200 shoppers: sockets held, memory per socket, turn latency vs REST.

    python benchmarks/widget.py                      # 200 shoppers; Redis at 127.0.0.1:6379/14
    python benchmarks/widget.py --shoppers 200 --rounds 2 --json out.json

The bot (on Redis) and the action server run as their own processes, as in production, on
loopback. The run:

1. opens ``--shoppers`` idle widget sockets (each says hello and gets its welcome and history,
   so each holds a conversation and a subscription to the store's feed), and reads the bot
   process's resident memory (RSS, /proc) before and after: memory per open socket;
2. keeps them open while, for each round, the same number of concurrent shoppers play the
   order-status conversation of ``benchmarks/turns.py`` ("where is my order?" -> email ->
   order number, none of it generated) first over REST, then over the widget's socket (a
   socket per conversation). Widget latency is from sending a message to the first frame of
   the bot's reply (its first ``message``); the time to the ``ack`` is reported beside it;
3. counts how many of the idle sockets are still open at the end ("connections held").

The widget's per-socket and per-IP limits are raised for the run (every shopper is on
127.0.0.1, and each talks without pause); everything else is the shipped config. Closed loop,
no think time: the latencies are queueing under full load, on this machine. Prints a table and
writes JSON (default benchmarks/results/widget.json). Every phase is bounded by --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
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

from benchmarks.turns import (  # noqa: E402
    _cleanup_redis,
    fetch_json,
    free_port,
    run_load,
    shop_conversations,
    stop_processes,
    wait_healthy,
)
from bot.stats import percentiles_ms  # noqa: E402

SOCKET = "/webhooks/webchat/ws"
LIMITS = {  # raised for the run: all shoppers share one address and never pause
    "CONCIERGE__WIDGET__MAX_CONNECTIONS_PER_IP": "100000",
    "CONCIERGE__WIDGET__IP_RATE_PER_MIN": "10000000",
    "CONCIERGE__WIDGET__IP_BURST": "100000",
    "CONCIERGE__WIDGET__CONNECTION_RATE_PER_MIN": "100000",
    "CONCIERGE__WIDGET__CONNECTION_BURST": "1000",
}


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_processes(redis_url: str, prefix: str) -> tuple[list[subprocess.Popen[bytes]], int]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    action_port, bot_port = free_port(), free_port()
    bot_env = {
        **env,
        **LIMITS,
        "REDIS_URL": redis_url,
        "CONCIERGE__SESSIONS__KEY_PREFIX": prefix,
        "CONCIERGE__NLU__CACHE_SIZE": "0",  # every message pays for its encoding, as turns.py
        "CONCIERGE_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}",
    }
    commands = [
        ([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port),
          "--quiet"], env),
        ([sys.executable, "-m", "bot", "run", "--no-actions", "--port", str(bot_port)], bot_env),
    ]  # fmt: skip
    processes = [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=e,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for cmd, e in commands
    ]
    return processes, bot_port


class Socket:
    """One widget connection, speaking the protocol (docs/widget-protocol.md)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, url: str) -> Socket:
        socket = cls(await session.ws_connect(url, heartbeat=None))
        await socket.ws.send_str(json.dumps({"type": "hello", "locale": "en"}))
        await socket.until("history")
        return socket

    async def frame(self) -> dict[str, Any]:
        message = await self.ws.receive()
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {message.type}")
        frame: dict[str, Any] = json.loads(message.data)
        return frame

    async def drain(self) -> None:
        """Reads (and so answers pings) until the socket closes."""
        async for _ in self.ws:
            pass

    async def until(self, kind: str) -> dict[str, Any]:
        while True:
            frame = await self.frame()
            if frame["type"] == kind:
                return frame

    async def turn(self, text: str) -> tuple[float, float, str]:
        """Milliseconds to the ack and to the first reply message, and the reply texts."""
        started = time.perf_counter()
        cmid = uuid.uuid4().hex
        await self.ws.send_str(
            json.dumps({"type": "message", "client_message_id": cmid, "text": text})
        )
        ack_ms = reply_ms = 0.0
        texts = []
        while True:
            frame = await self.frame()
            now = (time.perf_counter() - started) * 1000
            if frame["type"] == "ack":
                ack_ms = now
            elif frame["type"] == "message":
                reply_ms = reply_ms or now
                texts.append(frame.get("text") or "")
            elif frame["type"] == "error":
                raise RuntimeError(f"error frame: {frame}")
            elif frame["type"] == "typing" and not frame["on"]:
                return ack_ms, reply_ms, "\n".join(texts)


async def widget_load(
    url: str, shoppers: int, scripts: list[tuple[tuple[str, ...], str]]
) -> dict[str, Any]:
    """``shoppers`` concurrent widget conversations, one socket each, as ``run_load`` does REST."""
    replies: list[float] = []
    acks: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=0)

    async def shopper(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal failures
        messages, expected = scripts[i % len(scripts)]
        try:
            socket = await Socket.open(session, url)
            try:
                last = ""
                for text in messages:
                    ack_ms, reply_ms, last = await socket.turn(text)
                    acks.append(ack_ms)
                    replies.append(reply_ms)
                if expected not in last:
                    failures += 1
            finally:
                await socket.ws.close()
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            failures += 1

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(shopper(session, i) for i in range(shoppers)))
        elapsed = time.perf_counter() - started
    return {
        "shoppers": shoppers,
        "turns": len(replies),
        "failures": failures,
        **percentiles_ms(replies, 0.5, 0.95, 0.99),
        "mean_ms": round(statistics.fmean(replies), 2),
        "ack_p95_ms": percentiles_ms(acks, 0.95)["p95_ms"],
        "turns_per_s": round(len(replies) / elapsed, 1),
    }


async def redis_clients(redis_url: str) -> int:
    import redis.asyncio as redis

    client = redis.Redis.from_url(redis_url)
    try:
        info = await client.info("clients")
        return int(info["connected_clients"])
    finally:
        await client.aclose()


async def measure(
    args: argparse.Namespace, processes: list[subprocess.Popen[bytes]], bot_port: int
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{bot_port}"
    await wait_healthy(f"{base}/ready", processes[1], limit_s=300)
    rest_url, ws_url = f"{base}/webhooks/rest/webhook", f"{base}{SOCKET}"
    scripts = shop_conversations("orders")
    async with asyncio.timeout(args.max_seconds):  # warm-up: models, caches, connections
        await run_load(rest_url, 4, 8, scripts, check=False)
        await widget_load(ws_url, 4, scripts)
    bot_pid = processes[1].pid

    # 1. Idle sockets: what each one costs the bot process.
    await asyncio.sleep(1.0)
    rss_before, clients_before = rss_mb(bot_pid), await redis_clients(args.redis)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    try:
        async with asyncio.timeout(args.max_seconds):
            idle = await asyncio.gather(
                *(Socket.open(session, ws_url) for _ in range(args.shoppers))
            )
        # A browser answers the server's pings by itself; here a reader per socket does.
        readers = [asyncio.create_task(socket.drain()) for socket in idle]
        await asyncio.sleep(2.0)
        rss_after, clients_after = rss_mb(bot_pid), await redis_clients(args.redis)
        stats = await fetch_json(f"{base}/stats")

        # 2. Turn latency, REST then widget, with the idle sockets held all along.
        rounds = []
        for _ in range(args.rounds):
            used = cpu_s(bot_pid)
            async with asyncio.timeout(args.max_seconds):
                rest = await run_load(rest_url, args.shoppers, args.shoppers, scripts, check=True)
            rest["bot_cpu_ms_per_turn"] = round((cpu_s(bot_pid) - used) * 1000 / rest["turns"], 2)
            used = cpu_s(bot_pid)
            async with asyncio.timeout(args.max_seconds):
                widget = await widget_load(ws_url, args.shoppers, scripts)
            widget["bot_cpu_ms_per_turn"] = round(
                (cpu_s(bot_pid) - used) * 1000 / max(widget["turns"], 1), 2
            )
            rounds.append({"rest": rest, "widget": widget})

        # 3. Did the idle sockets stay open through all of it?
        held = sum(1 for socket in idle if not socket.ws.closed)
        await asyncio.gather(*(socket.ws.close() for socket in idle))
        await asyncio.gather(*readers, return_exceptions=True)
    finally:
        await session.close()
    rest_p95 = statistics.median(r["rest"]["p95_ms"] for r in rounds)
    widget_p95 = statistics.median(r["widget"]["p95_ms"] for r in rounds)
    return {
        "benchmark": "widget",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "redis": args.redis,
        "conversation": ["where is my order?", "<email>", "<order id>"],
        "shoppers": args.shoppers,
        "idle_sockets": {
            "opened": len(idle),
            "held_to_the_end": held,
            "bot_rss_before_mb": round(rss_before, 1),
            "bot_rss_after_mb": round(rss_after, 1),
            "extra_mb": round(rss_after - rss_before, 1),
            "kb_per_socket": round((rss_after - rss_before) * 1024 / len(idle), 1),
            "redis_clients_added": clients_after - clients_before,
            "bot_stats": stats,
        },
        "rounds": rounds,
        "rest_p95_ms": rest_p95,
        "widget_p95_ms": widget_p95,
        "widget_over_rest": round(widget_p95 / rest_p95, 3),
        "widget_limits_for_the_run": LIMITS,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"concierge-bench-widget-{uuid.uuid4().hex[:6]}"
    processes, bot_port = start_processes(args.redis, prefix)
    try:
        return asyncio.run(measure(args, processes, bot_port))
    finally:
        stop_processes(processes)
        asyncio.run(_cleanup_redis(args.redis, prefix))


def print_table(result: dict[str, Any]) -> None:
    cols = f"{'p50':>8} {'p95':>8} {'p99':>8} {'turns/s':>8}"
    print(f"{'channel':<8} {'round':>5} | {'turns':>6} {'fail':>4} {cols} | ack p95 cpu/turn")
    for number, row in enumerate(result["rounds"], 1):
        for name in ("rest", "widget"):
            r = row[name]
            ack = f"{r['ack_p95_ms']:>7.1f}" if "ack_p95_ms" in r else f"{'':>7}"
            print(
                f"{name:<8} {number:>5} | {r['turns']:>6} {r['failures']:>4} {r['p50_ms']:>8.1f} "
                f"{r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['turns_per_s']:>8.1f} | {ack} "
                f"{r['bot_cpu_ms_per_turn']:>8.2f}"
            )
    idle = result["idle_sockets"]
    ratio = result["widget_over_rest"]
    print(
        f"{result['shoppers']} concurrent shoppers per channel; ms from send to the first reply "
        "frame (REST: the whole response); closed loop, no think time; cpu/turn: the bot "
        "process's CPU ms per turn"
    )
    print(
        f"p95 (median of rounds): REST {result['rest_p95_ms']:.1f} ms, widget "
        f"{result['widget_p95_ms']:.1f} ms: x{ratio:.3f} (goal: at most x1.10)"
    )
    print(
        f"idle sockets: {idle['opened']} opened, {idle['held_to_the_end']} held to the end; "
        f"bot RSS {idle['bot_rss_before_mb']} -> {idle['bot_rss_after_mb']} MB "
        f"(+{idle['extra_mb']} MB, {idle['kb_per_socket']} KB per socket; goal: at most "
        f"+200 MB); Redis clients +{idle['redis_clients_added']}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="REST then widget, this many times")
    parser.add_argument("--max-seconds", type=float, default=300, help="limit of each phase")
    default_redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    parser.add_argument("--redis", default=default_redis)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/widget.json")
    args = parser.parse_args()
    result = main(args)
    print_table(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
