"""Faults under load: bot workers behind one port, Redis, action servers, 200 shoppers.

    python benchmarks/chaos.py                                    # 2 workers, 200 shoppers, 5 min
    python benchmarks/chaos.py --minutes 1 --phase-seconds 30     # a shorter run
    python benchmarks/chaos.py --shoppers 10 --minutes 0.25 --faults worker-kill --phase-seconds 15

Everything runs on loopback in a temporary folder (benchmarks/chaos_cluster.py): a private
redis-server on a free port (append-only file, so a restart keeps every acknowledged write;
the shared Redis on 6379 is never touched), ``--action-servers`` rasa-sdk action servers,
``--workers`` processes of ``python -m bot run`` on that Redis, and a round-robin TCP proxy
that puts the workers behind one port. ``--shoppers`` simulated shoppers
(benchmarks/chaos_shoppers.py) hold order-status, knowledge and small-talk conversations
through the proxy with 3-8 s between messages (``--think-s``), each message with a
``message_id``, retried with the same id on 503/409/429/502 or a dropped connection until
answered (at most 60 s).

Phases, one after the other with the load running throughout:

- ``steady``: ``--minutes`` of load and nothing else;
- ``redis-restart``: Redis shut down (SIGTERM) and started again;
- ``redis-down-10s``: Redis unreachable for 10 s (SIGSTOP: connections hang, then SIGCONT);
- ``action-server-kill``: the first action server SIGKILLed and started again;
- ``worker-kill``: the first bot worker SIGKILLed while it has a turn in flight (then started
  again, as a supervisor would).

Each fault is injected ``--fault-after`` seconds into its phase, which lasts
``--phase-seconds``. At the end every shopper's sent messages are reconciled with the stored
conversation (``GET /conversations/{id}``, by the id each message carried in its metadata):

- lost: answered 200 but not stored; duplicated: stored more than once; out of order: stored
  before a message the shopper sent earlier;
- clear errors: non-200 answers with a JSON ``error`` (and ``Retry-After`` where a retry is
  invited); unclear: any other non-200 answer; dropped: no HTTP answer at all;
- 5xx out: 5xx answers to attempts that began while no dependency was down;
- p95: from a message's first send to its answer, retries included;
- apology: answers (200, counted as answered) that were the bot's apology for an action
  server it cannot reach (``utter_action_failed``);
- recovery: from the dependency being back (for a worker kill: the kill) to the end of the
  phase's last failed attempt or apology (0 when there was none after it).

A message belongs to the phase in which it was first sent. Prints the table and writes JSON
(default benchmarks/results/chaos.json). The whole run is bounded by ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.chaos_cluster import (  # noqa: E402
    API_TOKEN,
    Backend,
    RedisServer,
    RoundRobinProxy,
    Service,
    action_server,
    bot_worker,
    migrate_console,
    snapshot_code,
    wait_http,
)
from benchmarks.chaos_report import (  # noqa: E402
    Fault,
    phase_rows,
    reconcile,
    stored_message_ids,
    table,
    troubled,
)
from benchmarks.chaos_shoppers import Shoppers  # noqa: E402

FAULT_PHASES = ("redis-restart", "redis-down-10s", "action-server-kill", "worker-kill")
REDIS_DOWN_S = 10.0


@dataclass
class Cluster:
    workdir: Path
    redis: RedisServer
    actions: list[Service]
    workers: list[Service]
    proxy: RoundRobinProxy
    action_proxy: RoundRobinProxy | None
    background: list[asyncio.Task[None]] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}"


async def start_cluster(
    args: argparse.Namespace, workdir: Path, stack: contextlib.AsyncExitStack
) -> Cluster:
    """Starts everything; ``stack`` stops what was started, also when a start fails."""
    redis = RedisServer(workdir)
    stack.callback(redis.stop)
    await redis.start()
    prefix = f"chaos-{uuid.uuid4().hex[:6]}"
    code = snapshot_code(workdir)
    shop = workdir / "shop.sqlite"
    actions = [action_server(workdir, code, i, shop) for i in range(args.action_servers)]
    for service in actions:
        stack.callback(service.stop)
    actions[0].spawn()  # the first builds the shop's SQLite file; the others then open it
    await actions[0].wait_ready(120)
    for service in actions[1:]:
        service.spawn()
    await asyncio.gather(*(s.wait_ready(120) for s in actions[1:]))
    action_proxy = None
    if len(actions) == 1:
        actions_url = f"http://127.0.0.1:{actions[0].port}"
    else:
        action_proxy = RoundRobinProxy([Backend(s.port) for s in actions])
        stack.push_async_callback(action_proxy.aclose)
        await action_proxy.start()
        actions_url = f"http://127.0.0.1:{action_proxy.port}"
    workers = [
        bot_worker(workdir, code, i, redis.url, actions_url, prefix) for i in range(args.workers)
    ]
    for worker in workers:
        stack.callback(worker.stop)
    # The agent console's database is made first: workers migrating a new one at once collide.
    await migrate_console(workers[0])
    for worker in workers:
        worker.spawn()
    await asyncio.gather(*(_ready(worker) for worker in workers))
    proxy = RoundRobinProxy([Backend(w.port) for w in workers])
    stack.push_async_callback(proxy.aclose)
    await proxy.start()
    return Cluster(workdir, redis, actions, workers, proxy, action_proxy)


async def _ready(worker: Service) -> None:
    assert worker.process is not None
    await wait_http(worker.health_url.replace("/health", "/ready"), worker.process, 600, worker.log)


async def redis_restart(cluster: Cluster) -> Fault:
    down = time.monotonic()
    await cluster.redis.restart()
    return Fault("redis-restart", down, time.monotonic(), "SIGTERM, then started again")


async def redis_down(cluster: Cluster) -> Fault:
    cluster.redis.pause()
    down = time.monotonic()
    await asyncio.sleep(REDIS_DOWN_S)
    cluster.redis.resume()
    return Fault("redis-down-10s", down, time.monotonic(), "SIGSTOP for 10 s, then SIGCONT")


async def action_server_kill(cluster: Cluster) -> Fault:
    service = cluster.actions[0]
    service.kill()
    down = time.monotonic()
    service.spawn()
    await service.wait_ready(120)
    return Fault("action-server-kill", down, time.monotonic(), f"{service.name} SIGKILL, restarted")


async def worker_kill(cluster: Cluster) -> Fault:
    service, backend = cluster.workers[0], cluster.proxy.backends[0]
    with contextlib.suppress(TimeoutError):  # kill it mid-turn: while it holds a request
        await asyncio.wait_for(backend.busy.wait(), 10)
    in_flight = backend.active
    service.kill()
    killed = time.monotonic()

    async def supervise() -> None:  # started again, as systemd or Kubernetes would
        service.spawn()
        try:
            await service.wait_ready(600)
        except (RuntimeError, TimeoutError) as exc:
            # The figures of the run still stand; the failed restart is reported beside them.
            cluster.incidents.append(f"{service.name} did not start again: {exc}"[:2000])

    cluster.background.append(asyncio.create_task(supervise()))
    note = f"{service.name} SIGKILL with {in_flight} request(s) in flight, restarted"
    return Fault("worker-kill", killed, killed, note)


FAULTS: dict[str, Callable[[Cluster], Awaitable[Fault]]] = {
    "redis-restart": redis_restart,
    "redis-down-10s": redis_down,
    "action-server-kill": action_server_kill,
    "worker-kill": worker_kill,
}


async def run_phases(args: argparse.Namespace, cluster: Cluster) -> dict[str, Any]:
    phases = ["steady", *args.faults]
    current = ["steady"]
    shoppers = Shoppers(cluster.url + "/webhooks/rest/webhook", args.shoppers,
                        lambda: current[0], uuid.uuid4().hex[:6],
                        think_s=(args.think_s[0], args.think_s[1]))  # fmt: skip
    load = asyncio.create_task(shoppers.run())
    faults: list[Fault] = []
    started = time.monotonic()
    try:
        for phase in phases:
            current[0] = phase
            began = time.monotonic()
            print(f"[{began - started:7.1f} s] phase {phase}", flush=True)
            if phase == "steady":
                await asyncio.sleep(args.minutes * 60)
                continue
            await asyncio.sleep(args.fault_after)
            fault = await FAULTS[phase](cluster)
            faults.append(fault)
            print(f"    {fault.note}; down {fault.back_at - fault.down_at:.2f} s", flush=True)
            await asyncio.sleep(max(0.0, args.phase_seconds - (time.monotonic() - began)))
    finally:
        shoppers.stop()
        # A message in flight finishes or gives up within its own bound.
        await asyncio.wait_for(load, shoppers.give_up_s + shoppers.attempt_timeout_s + 10)
    load_s = time.monotonic() - started
    await asyncio.gather(*cluster.background)
    senders = sorted({m.sender for m in shoppers.messages})
    stored = await stored_message_ids(cluster.url, API_TOKEN, senders)
    reconciled = reconcile(shoppers.messages, stored)
    rows = phase_rows(phases, shoppers.messages, faults, reconciled)
    faults_at = {f.phase: [round(f.down_at, 3), round(f.back_at, 3)] for f in faults}
    return {
        "benchmark": "chaos",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "workers": args.workers,
            "action_servers": args.action_servers,
            "shoppers": args.shoppers,
            "steady_minutes": args.minutes,
            "phase_seconds": args.phase_seconds,
            "fault_after_s": args.fault_after,
            "think_s": list(shoppers.think_s),
            "give_up_s": shoppers.give_up_s,
        },
        "load_seconds": round(load_s, 1),
        "conversations": len(senders),
        "messages": len(shoppers.messages),
        "faults": [
            {"phase": f.phase, "note": f.note, "down_s": round(f.back_at - f.down_at, 2)}
            for f in faults
        ],
        "phases": rows,
        "goal": "0 lost, 0 duplicated, 0 out of order, no 5xx outside an outage (then 503 with "
        "Retry-After), recovery <= 5 s",
        "worker_log_errors": {w.name: _log_errors(w.log) for w in cluster.workers},
        "fault_windows": faults_at,
        "incidents": cluster.incidents,
        "troubled_messages": troubled(shoppers.messages, stored),
    }


def _log_errors(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text(errors="replace").splitlines() if " ERROR " in line)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="concierge-chaos-"))
    try:
        async with contextlib.AsyncExitStack() as stack:
            async with asyncio.timeout(args.max_seconds):
                cluster = await start_cluster(args, workdir, stack)
                stack.push_async_callback(_cancel_all, cluster.background)
                result = await run_phases(args, cluster)
        result["workdir"] = str(workdir) if args.keep else None
        return result
    finally:
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2, choices=range(1, 5))
    parser.add_argument("--action-servers", type=int, default=1, choices=(1, 2))
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=5.0, help="the steady phase")
    parser.add_argument(
        "--think-s",
        type=float,
        nargs=2,
        default=[3.0, 8.0],
        metavar=("MIN", "MAX"),
        help="a shopper's pause between messages, uniform in [MIN, MAX] seconds",
    )
    parser.add_argument("--faults", nargs="*", default=list(FAULT_PHASES), choices=FAULT_PHASES)
    parser.add_argument("--phase-seconds", type=float, default=40.0, help="each fault phase")
    parser.add_argument("--fault-after", type=float, default=5.0, help="seconds into a phase")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="bound on the whole run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/chaos.json")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    outcome = asyncio.run(main(arguments))
    print(table(outcome["phases"]))
    print(
        f"{outcome['settings']['shoppers']} shoppers, {outcome['settings']['workers']} workers, "
        f"{outcome['settings']['action_servers']} action server(s), "
        f"{outcome['machine']['cpus']} CPUs; {outcome['messages']} messages in "
        f"{outcome['conversations']} conversations over {outcome['load_seconds']} s"
    )
    for row in outcome["phases"]:
        if row["fault"]:
            print(f"{row['phase']}: {row['fault']}; errors {row['status_counts']}")
    for incident in outcome["incidents"]:
        print(f"incident: {incident}")
    print(f"goal: {outcome['goal']}")
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(outcome, indent=2))
    print(f"wrote {arguments.json}")
