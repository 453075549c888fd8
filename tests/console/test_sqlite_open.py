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


async def test_stores_opening_a_fresh_file_at_once_all_switch_it_to_wal(tmp_path: Path) -> None:
    # Two connections switching a file to WAL at the same moment: SQLite refuses one at once
    # with "database is locked" without waiting out the busy timeout (both hold a shared lock
    # and want it exclusively). Seen in CI: a test's agent added while the app's purge at
    # start opened the same fresh file. The switch is retried.
    for attempt in range(20):
        path = tmp_path / f"console-{attempt}.sqlite"
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
        stores = [SQLiteConsoleStore(path) for _ in range(4)]
        try:
            assert all(await asyncio.gather(*(store.ping() for store in stores)))
        finally:
            for store in stores:
                await store.aclose()
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
