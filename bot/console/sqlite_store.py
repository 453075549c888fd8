"""The console store in an embedded SQLite file (the default: ``sqlite:///var/console.sqlite``).

One connection per process, in autocommit mode, behind an asyncio lock: statements take well
under a millisecond, and a lock is simpler than interleaved implicit transactions. WAL and a
busy timeout let a second bot process on the same machine share the file; several hosts need
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.console.sql_store import Row, SqlConsoleStore
from bot.console.store import ConsoleStoreError

_WAL_TRIES_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)


async def _use_wal(db: aiosqlite.Connection) -> None:
    """Puts the file in WAL mode (kept in the file, so usually only its first opener does).

    Switching needs the file to itself, and SQLite answers "database is locked" at once,
    without waiting out the busy timeout, while another connection (a second worker starting,
    a purge at start) is using it; so the switch is retried for about 6 s.
    """
    for pause in (*_WAL_TRIES_S, None):
        async with db.execute("PRAGMA journal_mode") as cursor:
            row = await cursor.fetchone()
        if row is not None and str(row[0]).lower() == "wal":
            return
        try:
            await db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or pause is None:
                raise
            await asyncio.sleep(pause)


class SQLiteConsoleStore(SqlConsoleStore):
    """Args: path: the database file (its schema made by :mod:`bot.console.migrate`)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            try:
                db = await aiosqlite.connect(self._path, isolation_level=None)
            except sqlite3.Error as exc:
                raise ConsoleStoreError(f"console database {self._path}: {exc}") from exc
            try:
                db.row_factory = aiosqlite.Row
                for pragma in ("busy_timeout=5000", "foreign_keys=ON"):
                    await db.execute(f"PRAGMA {pragma}")
                await _use_wal(db)
            except BaseException as exc:
                # An unclosed aiosqlite connection keeps a thread alive, and the process with it.
                await db.close()
                if isinstance(exc, sqlite3.Error):
                    raise ConsoleStoreError(f"console database {self._path}: {exc}") from exc
                raise
            self._db = db
        return self._db

    async def _fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        async with self._lock:
            db = await self._connection()
            try:
                async with db.execute(sql, dict(params or {})) as cursor:
                    rows = await cursor.fetchall()
            except sqlite3.OperationalError as exc:
                raise ConsoleStoreError(f"console database: {exc}") from exc
        return [dict(zip(row.keys(), tuple(row), strict=True)) for row in rows]

    async def _execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        async with self._lock:
            db = await self._connection()
            try:
                async with db.execute(sql, dict(params or {})) as cursor:
                    return cursor.rowcount
            except sqlite3.OperationalError as exc:
                raise ConsoleStoreError(f"console database: {exc}") from exc

    async def _execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        async with self._lock:
            db = await self._connection()
            try:
                await db.execute("BEGIN")
                try:
                    await db.executemany(sql, [dict(r) for r in rows])
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                raise ConsoleStoreError(f"console database: {exc}") from exc

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    async def aclose(self) -> None:
        async with self._lock:
            if self._db is not None:
                db, self._db = self._db, None
                await db.close()
