"""benchmarks/chaos.py: its reconciliation, and a bounded run of the real harness.

The smoke run is small on purpose (10 shoppers, 2 workers, one fault: a worker SIGKILLed
mid-turn, the fault the REST message_id and the lock lease were fixed for) and bounded by the
harness's own ``--max-seconds`` (90) and this test's timeout: about 45 s on the 2-CPU
development machine. The full run is ``python benchmarks/chaos.py`` (README, "Faults under
load").
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import chaos
from benchmarks.chaos import main, parse_args
from benchmarks.chaos_cluster import RedisServer, Service, bot_worker
from benchmarks.chaos_report import Fault, phase_rows, reconcile
from benchmarks.chaos_shoppers import Attempt, Message

SMOKE_LIMIT_S = 90


def _message(sender: str, index: int, *statuses: int, phase: str = "steady") -> Message:
    message = Message(sender, index, f"{sender}:{index}", "hi", phase)
    for at, status in enumerate(statuses):
        message.attempts.append(Attempt(float(at), at + 0.5, status, True, 1, ""))
    return message


def test_reconciliation_finds_lost_duplicated_and_out_of_order_messages() -> None:
    sent = [
        _message("a", 0, 200),
        _message("a", 1, 200),
        _message("a", 2, 200),  # answered, never stored: lost
        _message("b", 0, 200),
        _message("b", 1, 503, 200),  # stored twice: one duplicate
        _message("c", 0, 200),
        _message("c", 1, 200),  # stored before c:0, which was sent first: out of order
        _message("d", 0, 503),  # never answered and not stored: failed, not lost
    ]
    stored = {
        "a": ["a:0", "a:1"],
        "b": ["b:0", "b:1", "b:1"],
        "c": ["c:1", "c:0"],
        "d": [],
    }
    found = reconcile(sent, stored)
    assert found.lost == {"a:2"}
    assert found.duplicated == {"b:1": 1}
    assert found.out_of_order == {"c:1"}
    assert found.unanswered_stored == set()


def test_a_5xx_counts_outside_an_outage_only_when_the_attempt_never_met_it() -> None:
    during = _message("a", 0, 503, 200, phase="redis-down-10s")  # attempts at 0-0.5, 1-1.5
    after = _message("b", 0, 200, 200, 500, 200, phase="redis-down-10s")  # the 500 at 2-2.5
    fault = Fault("redis-down-10s", down_at=0.2, back_at=1.0, note="")
    [row] = phase_rows(["redis-down-10s"], [during, after], [fault], reconcile([], {}))
    assert row["server_errors_outside_outage"] == 1
    assert row["error_answers_clear"] == 2
    assert row["recovery_s"] == 1.5  # the 500 ended at 2.5, the store was back at 1.0


@pytest.mark.slow
@pytest.mark.timeout(SMOKE_LIMIT_S + 30)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
async def test_a_worker_killed_mid_turn_loses_and_duplicates_nothing() -> None:
    args = parse_args(
        ["--workers", "2", "--shoppers", "10", "--minutes", "0.05", "--faults", "worker-kill",
         "--phase-seconds", "10", "--fault-after", "2", "--think-s", "0.2", "1.0",
         "--max-seconds", str(SMOKE_LIMIT_S)]
    )  # fmt: skip
    result = await main(args)
    steady, killed = result["phases"]
    assert steady["attempted"] > 10
    assert killed["attempted"] > 10
    assert "SIGKILL" in result["faults"][0]["note"]
    for row in (steady, killed):
        assert row["answered"] == row["attempted"], row["error_samples"]
        assert row["lost"] == row["duplicated"] == row["out_of_order"] == 0, row
        assert row["server_errors_outside_outage"] == 0, row["error_samples"]
    assert killed["recovery_s"] <= 5.0
    assert result["incidents"] == []


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
async def test_a_failed_start_stops_what_it_had_started(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[RedisServer | Service] = []
    make_actions = chaos.action_server

    def redis_server(workdir: Path) -> RedisServer:
        started.append(server := RedisServer(workdir))
        return server

    def actions(workdir: Path, code: Path, index: int, shop_db: Path) -> Service:
        started.append(service := make_actions(workdir, code, index, shop_db))
        return service

    def broken_worker(*args: Any) -> Service:
        worker = bot_worker(*args)
        worker.command = [sys.executable, "-c", "raise SystemExit(3)"]
        return worker

    monkeypatch.setattr(chaos, "RedisServer", redis_server)
    monkeypatch.setattr(chaos, "action_server", actions)
    monkeypatch.setattr(chaos, "bot_worker", broken_worker)
    with pytest.raises(RuntimeError, match="exited with 3"):
        await chaos.main(parse_args(["--shoppers", "1", "--minutes", "0.01"]))
    assert [type(s).__name__ for s in started] == ["RedisServer", "Service"]
    assert all(s.process is not None and s.process.poll() is not None for s in started)
