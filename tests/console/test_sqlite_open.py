"""The SQLite console store opens a file another connection holds locked for a moment.

The retention purge (bot/privacy/retention.py) opens the database at start, while another
process (a second worker, `python -m bot agents add`) may be writing: switching to WAL before
the busy timeout was set failed at once with "database is locked" and left the connection's
thread behind, which kept the process from exiting.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.console.sqlite_store import SQLiteConsoleStore


async def test_the_first_query_waits_for_a_lock_held_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "console.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    store = SQLiteConsoleStore(path)

    async def release() -> None:
        await asyncio.sleep(0.3)
        holder.execute("COMMIT")

    releasing = asyncio.create_task(release())
    try:
        assert await store.ping()
    finally:
        await releasing
        await store.aclose()
        holder.close()
