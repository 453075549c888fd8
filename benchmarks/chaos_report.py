"""benchmarks/chaos.py's figures: every sent message reconciled with the stored conversation,
and per phase the turns, errors, losses, duplicates, order, p95 latency and recovery time.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import aiohttp

from benchmarks.chaos_shoppers import Attempt, Message
from bot.stats import percentiles_ms


@dataclass(frozen=True)
class Fault:
    """When a phase's dependency was down: [down_at, back_at] in monotonic seconds."""

    phase: str
    down_at: float
    back_at: float
    note: str


async def stored_message_ids(
    base_url: str, token: str, senders: list[str], concurrency: int = 16
) -> dict[str, list[str]]:
    """Per conversation, the ``chaos_message_id`` of each stored user event, in stored order."""
    found: dict[str, list[str]] = {}
    gate = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}"}

    async def read(session: aiohttp.ClientSession, sender: str) -> None:
        async with gate:
            for _ in range(20):  # the export itself may meet a restarting worker
                try:
                    async with session.get(
                        f"{base_url}/conversations/{sender}", headers=headers
                    ) as answer:
                        if answer.status == 404:
                            found[sender] = []
                            return
                        if answer.status == 200:
                            events = (await answer.json())["events"]
                            found[sender] = [
                                str((e.get("metadata") or {}).get("chaos_message_id"))
                                for e in events
                                if e.get("event") == "user"
                            ]
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.5)
            raise RuntimeError(f"could not read back conversation {sender}")

    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(read(session, sender) for sender in senders))
    return found


@dataclass(frozen=True)
class Reconciled:
    lost: set[str]  # answered 200, yet not stored
    duplicated: dict[str, int]  # stored more than once: extra copies
    out_of_order: set[str]  # stored before a message the shopper sent earlier
    unanswered_stored: set[str]  # never answered 200, yet stored (allowed: not lost)


def reconcile(messages: list[Message], stored: dict[str, list[str]]) -> Reconciled:
    by_sender: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_sender[message.sender].append(message)
    lost: set[str] = set()
    duplicated: dict[str, int] = {}
    out_of_order: set[str] = set()
    unanswered_stored: set[str] = set()
    for sender, sent in by_sender.items():
        ids = stored.get(sender, [])
        position: dict[str, int] = {}
        for at, message_id in enumerate(ids):
            position.setdefault(message_id, at)
        latest = -1
        for message in sorted(sent, key=lambda m: m.index):
            copies = ids.count(message.message_id)
            if copies > 1:
                duplicated[message.message_id] = copies - 1
            if copies == 0:
                if message.answered:
                    lost.add(message.message_id)
                continue
            if not message.answered:
                unanswered_stored.add(message.message_id)
            if position[message.message_id] < latest:
                out_of_order.add(message.message_id)
            latest = max(latest, position[message.message_id])
    return Reconciled(lost, duplicated, out_of_order, unanswered_stored)


def phase_rows(
    phases: list[str], messages: list[Message], faults: list[Fault], reconciled: Reconciled
) -> list[dict[str, Any]]:
    fault_of = {fault.phase: fault for fault in faults}
    rows = []
    for phase in phases:
        mine = [m for m in messages if m.phase == phase]
        attempts = [a for m in mine for a in m.attempts]
        errors = [a for a in attempts if a.status != 200]
        fault = fault_of.get(phase)

        def during_outage(attempt: Attempt, fault: Fault | None = fault) -> bool:
            # An attempt in flight when the dependency went down meets the outage too.
            return (
                fault is not None
                and attempt.started <= fault.back_at
                and (attempt.ended >= fault.down_at)
            )

        latencies = [m.latency_s * 1000 for m in mine if m.latency_s is not None]
        ids = {m.message_id for m in mine}
        # Not recovered yet: an error answer, or the apology for an unreachable action server.
        unwell = [a for a in attempts if a.status != 200 or a.apology]
        failed_after = [a.ended for a in unwell if fault is not None and a.ended > fault.back_at]
        recovery = (
            max(failed_after) - fault.back_at if failed_after else 0.0
        ) if fault is not None else None  # fmt: skip
        rows.append(
            {
                "phase": phase,
                "fault": fault.note if fault else "",
                "outage_s": round(fault.back_at - fault.down_at, 2) if fault else 0.0,
                "attempted": len(mine),
                "answered": sum(1 for m in mine if m.answered),
                "gave_up": sum(1 for m in mine if not m.answered),
                "attempts": len(attempts),
                "error_answers_clear": sum(1 for a in errors if a.status and a.clear),
                "error_answers_unclear": sum(1 for a in errors if a.status and not a.clear),
                "dropped_connections": sum(1 for a in errors if a.status == 0),
                "status_counts": _counts(a.status for a in errors),
                "server_errors_outside_outage": sum(
                    1 for a in errors if a.status >= 500 and not during_outage(a)
                ),
                "apologies": sum(1 for a in attempts if a.apology),
                "empty_answers": sum(1 for m in mine if m.answered and not m.attempts[-1].replies),
                "lost": len(ids & reconciled.lost),
                "duplicated": sum(n for i, n in reconciled.duplicated.items() if i in ids),
                "out_of_order": len(ids & reconciled.out_of_order),
                "stored_but_unanswered": len(ids & reconciled.unanswered_stored),
                **percentiles_ms(latencies or [0.0], 0.5, 0.95),
                "recovery_s": None if recovery is None else round(recovery, 2),
                "error_samples": sorted({a.detail for a in errors})[:8],
            }
        )
    return rows


def troubled(
    messages: list[Message], stored: dict[str, list[str]], limit: int = 200
) -> list[dict[str, Any]]:
    """Messages with a failed attempt or an empty answer, attempt by attempt (for diagnosis)."""
    rows = []
    for message in messages:
        failed = any(a.status != 200 for a in message.attempts)
        empty = message.answered and not message.attempts[-1].replies
        if not (failed or empty):
            continue
        copies = stored.get(message.sender, []).count(message.message_id)
        rows.append(
            {
                "message_id": message.message_id,
                "phase": message.phase,
                "text": message.text,
                "stored_copies": copies,
                "attempts": [
                    [round(a.started, 3), round(a.ended - a.started, 3), a.status, a.replies,
                     a.detail[:120]]
                    for a in message.attempts
                ],
            }
        )  # fmt: skip
    return rows[:limit]


def _counts(statuses: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for status in statuses:
        counts[str(status) if status else "no answer"] += 1
    return dict(sorted(counts.items()))


COLUMNS = (
    ("phase", "phase", 18), ("attempted", "sent", 6), ("answered", "answered", 8),
    ("gave_up", "gave up", 7), ("error_answers_clear", "clear err", 9),
    ("error_answers_unclear", "unclear", 7), ("dropped_connections", "dropped", 7),
    ("server_errors_outside_outage", "5xx out", 7), ("lost", "lost", 4),
    ("duplicated", "dup", 3), ("out_of_order", "order", 5), ("apologies", "apology", 7),
    ("p95_ms", "p95 ms", 8),
    ("recovery_s", "recov s", 7),
)  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    lines = [" ".join(f"{title:>{width}}" for _, title, width in COLUMNS)]
    for row in rows:
        cells = []
        for key, _, width in COLUMNS:
            value = row[key]
            text = "-" if value is None else f"{value:.1f}" if isinstance(value, float) else value
            cells.append(f"{text:>{width}}")
        lines.append(" ".join(cells))
    return "\n".join(lines)
