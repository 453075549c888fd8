"""Replays tau-bench retail tasks' gold actions through our shop and compares with the gold.

For each task a fresh copy of the imported shop (SQLite backup API, milliseconds) runs the
task's gold actions through :class:`TauRetailTools`; the task passes when every observation
equals the gold result and the final data hash equals the gold hash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from actions.shop.sqlite import SQLiteShopBackend
from actions.shop.tau_bench import DataHasher
from actions.shop.tau_tools import TauRetailTools

Split = Literal["train", "dev"]
SPLITS: tuple[Split, ...] = ("train", "dev")


@dataclass(frozen=True, slots=True)
class GoldTask:
    """A task's gold actions and what replaying them on fresh data gave the reference."""

    split: Split
    index: int
    actions: tuple[tuple[str, dict[str, Any]], ...]
    results: tuple[str, ...]
    data_hash: str


@dataclass(frozen=True, slots=True)
class TaskReplay:
    """How one task's replay compared with its gold.

    Attributes:
        mismatched_results: Indices of actions whose observation differed from the gold.
    """

    split: Split
    index: int
    results: tuple[str, ...]
    mismatched_results: tuple[int, ...]
    data_hash: str
    hash_matches: bool
    seconds: float

    @property
    def results_match(self) -> bool:
        return not self.mismatched_results

    @property
    def passed(self) -> bool:
        return self.hash_matches and self.results_match


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record: dict[str, Any] = json.loads(line)
                yield record


def load_gold_tasks(directory: str | Path, split: Split) -> list[GoldTask]:
    """The tasks of ``tasks_<split>.jsonl`` joined with ``gold_<split>.jsonl`` by index.

    Raises:
        ValueError: A task has no gold entry.
    """
    folder = Path(directory)
    gold = {entry["index"]: entry for entry in _lines(folder / f"gold_{split}.jsonl")}
    tasks = []
    for task in _lines(folder / f"tasks_{split}.jsonl"):
        entry = gold.get(task["index"])
        if entry is None:
            raise ValueError(f"{split} task {task['index']} has no gold entry")
        tasks.append(
            GoldTask(
                split=split,
                index=task["index"],
                actions=tuple((a["name"], a["kwargs"]) for a in task["actions"]),
                results=tuple(entry["results"]),
                data_hash=entry["data_hash"],
            )
        )
    return tasks


def replay_task(base: SQLiteShopBackend, task: GoldTask, hasher: DataHasher) -> TaskReplay:
    """Runs ``task``'s gold actions on a fresh copy of ``base`` and compares with its gold.

    ``base`` itself is never changed.
    """
    started = time.perf_counter()
    shop = base.copy()
    try:
        tools = TauRetailTools(shop)
        results = tuple(tools.invoke(name, kwargs) for name, kwargs in task.actions)
        final_hash = hasher.hash(shop)
    finally:
        shop.close()
    mismatched = tuple(
        i
        for i in range(max(len(results), len(task.results)))
        if i >= len(results) or i >= len(task.results) or results[i] != task.results[i]
    )
    return TaskReplay(
        split=task.split,
        index=task.index,
        results=results,
        mismatched_results=mismatched,
        data_hash=final_hash,
        hash_matches=final_hash == task.data_hash,
        seconds=time.perf_counter() - started,
    )


def replay_all(base: SQLiteShopBackend, tasks: Sequence[GoldTask]) -> list[TaskReplay]:
    """Replays every task, each on its own fresh copy of ``base``."""
    hasher = DataHasher()
    return [replay_task(base, task, hasher) for task in tasks]
