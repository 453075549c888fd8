"""Paging through the conversation index: a sorted set of ids scored by last-activity time.

Pages run from the most recent conversation down. A position is (score, id); entries with the
same score are ordered by the id's bytes, descending, which is how Redis orders them under REV.
Scores only ever grow (``ZADD GT``), so an entry behind the cursor can move ahead of it but
never back behind it: a walk may miss a conversation that just became active, never repeat one.
"""

from __future__ import annotations

from typing import Any

from bot.sessions.redis_client import RedisClient
from bot.sessions.redis_keys import id_bytes

IndexEntry = tuple[bytes, float]
"""(conversation id as stored, last-activity score)."""


async def entries_after(
    redis: RedisClient, index: bytes, position: tuple[float, str] | None, count: int
) -> list[IndexEntry]:
    """Up to ``count`` entries strictly after ``position`` (from the top when None).

    Args:
        redis: The client.
        index: The sorted set's key.
        position: (score, conversation id) of the last entry already listed.
        count: Most entries to return.
    """
    if position is None:
        return _scored(
            await redis.zrange(
                index, "+inf", "-inf", desc=True, byscore=True, withscores=True, offset=0, num=count
            )
        )
    score, member = position
    after = id_bytes(member)
    # Entries sharing the cursor's exact score: rare (times have microseconds), so fetch them
    # all and keep those ordered after the cursor's id.
    ties = _scored(
        await redis.zrange(
            index, repr(score), repr(score), desc=True, byscore=True, withscores=True
        )
    )
    rows = [row for row in ties if row[0] < after][:count]
    if len(rows) < count:
        lower = await redis.zrange(
            index,
            f"({score!r}",
            "-inf",
            desc=True,
            byscore=True,
            withscores=True,
            offset=0,
            num=count - len(rows),
        )
        rows += _scored(lower)
    return rows


def _scored(reply: Any) -> list[IndexEntry]:
    # The store's client never decodes replies, so members are bytes and scores floats.
    return [(bytes(member), float(score)) for member, score in reply]
