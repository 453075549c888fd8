"""The console store for a configured ``console.database`` URL (no I/O until first use)."""

from __future__ import annotations

from bot.console.migrate import sqlite_path
from bot.console.postgres_store import PostgresConsoleStore
from bot.console.sqlite_store import SQLiteConsoleStore
from bot.console.store import ConsoleStore


def create_console_store(database: str) -> ConsoleStore:
    """SQLite for ``sqlite:///…``, PostgreSQL for ``postgresql://…``."""
    path = sqlite_path(database)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteConsoleStore(path)
    if database.startswith(("postgresql://", "postgres://")):
        return PostgresConsoleStore(database)
    raise ValueError(f"unsupported console database URL {database!r}")
