"""The figures of the analytics page (and of ``GET /console/api/analytics``), from the log.

Definitions, so the numbers can be checked:

- conversations per day: conversations whose first event fell on that day (UTC), with how
  many of them were handed to a person;
- containment: the share of conversations in the window that were never handed off;
- handoff rate by reason: handoffs of each reason per conversation in the window;
- CSAT: the mean score (1-5) and how many of each score;
- first response: per agent, the median seconds from the shopper entering the queue to that
  agent's first reply;
- top intents: what shoppers asked for most (messages the bot read);
- unanswered questions: the shopper messages the bot could not answer (not understood, or the
  shop's pages had nothing relevant), grouped by their text: what the knowledge base lacks;
- recommendation clicks: taps on a recommended product's button, and per product cards shown.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from typing import Any

from bot.console.store import AgentId, ConsoleStore
from bot.privacy.redact import redact


def _day(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).date().isoformat()


async def figures(db: ConsoleStore, *, days: int, now: float) -> dict[str, Any]:
    """Every figure for the ``days`` up to ``now``; see the module docstring."""
    since = now - days * 86400
    events = await db.events_since(since)
    csat = await db.csat_since(since)
    handoffs = await db.handoffs_since(since)
    agents = {a.id: a.name for a in await db.list_agents()}

    started = {e.conversation_id: e.at for e in events if e.kind == "conversation"}
    handed = {e.conversation_id for e in events if e.kind == "handoff"}
    per_day: dict[str, dict[str, int]] = {}
    for offset in range(days - 1, -1, -1):
        per_day[_day(now - offset * 86400)] = {"conversations": 0, "handed_off": 0}
    for cid, at in started.items():
        row = per_day.setdefault(_day(at), {"conversations": 0, "handed_off": 0})
        row["conversations"] += 1
        row["handed_off"] += cid in handed
    total = len(started)
    reasons = Counter(str(e.data.get("reason")) for e in events if e.kind == "handoff")

    waits: dict[str, list[float]] = defaultdict(list)
    for handoff in handoffs:
        if handoff.first_response_at is not None and handoff.agent_id:
            waits[handoff.agent_id].append(handoff.first_response_at - handoff.created)
    # Redacted when recorded; again here for entries written before redaction existed.
    unanswered = Counter(
        " ".join(redact(str(e.data.get("text") or "")).lower().split())
        for e in events
        if e.kind == "unanswered" and e.data.get("text")
    )
    shown = sum(1 for e in events if e.kind == "recommendation_shown")
    clicks = sum(1 for e in events if e.kind == "recommendation_click")
    scores = [c.score for c in csat]
    return {
        "window": {"days": days, "since": since, "until": now},
        "conversations": total,
        "conversations_per_day": [{"day": d, **row} for d, row in sorted(per_day.items())],
        "containment": None if not total else round(1 - len(handed & started.keys()) / total, 4),
        "handoffs": sum(reasons.values()),
        "handoff_rate_by_reason": {
            reason: {"count": count, "rate": round(count / total, 4) if total else None}
            for reason, count in reasons.most_common()
        },
        "csat": {
            "count": len(scores),
            "average": round(statistics.fmean(scores), 2) if scores else None,
            "distribution": {str(s): scores.count(s) for s in range(1, 6)},
        },
        "first_response": [
            {
                "agent_id": agent,
                "name": agents.get(AgentId(agent), agent),
                "median_s": round(statistics.median(times), 1),
                "conversations": len(times),
            }
            for agent, times in sorted(waits.items(), key=lambda kv: statistics.median(kv[1]))
        ],
        "top_intents": [
            {"intent": intent, "count": count}
            for intent, count in Counter(
                str(e.data.get("intent")) for e in events if e.kind == "user"
            ).most_common(10)
        ],
        "unanswered": [{"text": t, "count": c} for t, c in unanswered.most_common(20)],
        "recommendations": {
            "shown": shown,
            "clicks": clicks,
            "click_rate": round(clicks / shown, 4) if shown else None,
        },
    }
