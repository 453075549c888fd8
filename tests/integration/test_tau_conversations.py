"""The conversation benchmark's first tau-bench dev tasks, as a regression test of the whole bot.

The bot runs on tau-bench's shop (another shop's files, through the configuration) and a
scripted shopper asks for each task's gold changes in words; the final database must equal
the gold one. Skipped where ``../shared`` (the data set) is absent.
"""

from __future__ import annotations

import argparse

import pytest

from benchmarks.tau_conversations import TAU_DIR, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (TAU_DIR / "tasks_dev.jsonl").is_file(), reason=f"tau-bench data not at {TAU_DIR}"
    ),
]


async def test_first_dev_tasks_end_with_the_gold_database() -> None:
    args = argparse.Namespace(data=TAU_DIR, split="dev", limit=6, transcripts=None, style=[])
    summary = await run(args)
    failed = [(r["index"], r["ending"]) for r in summary["results"] if not r["passed"]]
    assert failed == []
    assert summary["tasks"] == 6
    # cancel, return and exchange flows are all among these tasks
    assert {"cancel_pending_order", "return_delivered_order_items"} <= set(summary["by_action"])
