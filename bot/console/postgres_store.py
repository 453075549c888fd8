"""The console store in PostgreSQL (``console.database: postgresql://user@host:5432/db``).

psycopg 3 in async mode with a small connection pool, opened on first use; statements run in
autocommit except batches of analytics events, which share one transaction. Queries are the
shared ones of :mod:`bot.console.sql_store`, their ``:name`` parameters turned into psycopg's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from bot.console.sql_store import Row, SqlConsoleStore
from bot.console.store import ConsoleStoreError

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def to_psycopg(sql: str) -> str:
    """``:name`` parameters as ``%(name)s`` (the shared SQL holds no literal ``%``)."""
    return _PARAM.sub(r"%(\1)s", sql)


class PostgresConsoleStore(SqlConsoleStore):
    """Args: url: a libpq URL; max_connections: the pool's size."""

    def __init__(self, url: str, *, max_connections: int = 10, timeout_s: float = 5.0) -> None:
        self._url = url
        self._max = max_connections
        self._timeout_s = timeout_s
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]] | None = None
        self._opening = asyncio.Lock()

    async def _connections(self) -> AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]]:
        async with self._opening:
            if self._pool is None:
                pool = AsyncConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=self._max,
                    open=False,
                    timeout=self._timeout_s,
                    kwargs={"autocommit": True, "row_factory": dict_row},
                    connection_class=psycopg.AsyncConnection[dict[str, Any]],
                )
                try:
                    await pool.open(wait=True, timeout=self._timeout_s)
                except Exception as exc:
                    await pool.close()
                    raise ConsoleStoreError(f"console database unreachable: {exc}") from exc
                self._pool = pool
            return self._pool

    async def _fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        pool = await self._connections()
        try:
            async with pool.connection() as conn:
                cursor = await conn.execute(to_psycopg(sql), dict(params or {}))
                return list(await cursor.fetchall())
        except psycopg.OperationalError as exc:
            raise ConsoleStoreError(f"console database: {exc}") from exc

    async def _execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        pool = await self._connections()
        try:
            async with pool.connection() as conn:
                cursor = await conn.execute(to_psycopg(sql), dict(params or {}))
                return cursor.rowcount
        except psycopg.OperationalError as exc:
            raise ConsoleStoreError(f"console database: {exc}") from exc

    async def _execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        pool = await self._connections()
        try:
            async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                await cursor.executemany(to_psycopg(sql), [dict(r) for r in rows])
        except psycopg.OperationalError as exc:
            raise ConsoleStoreError(f"console database: {exc}") from exc

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.errors.UniqueViolation)

    async def aclose(self) -> None:
        async with self._opening:
            if self._pool is not None:
                pool, self._pool = self._pool, None
                await pool.close()
