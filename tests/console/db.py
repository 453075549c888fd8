"""Databases for the console's tests: a SQLite file, or a PostgreSQL database made for the run.

PostgreSQL comes from CONCIERGE_TEST_POSTGRES (default: the trust-auth server on
127.0.0.1:5432, user postgres, maintenance database ``postgres``); each test session creates a
database of its own, migrates it with alembic, and drops it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bot.console import migrate

ADMIN_URL = os.environ.get(
    "CONCIERGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TABLES = ("agent_sessions", "agents", "notes", "csat", "analytics_events", "handoffs",
          "customer_conversations")  # fmt: skip


def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run, None when they can."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=2):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {ADMIN_URL}: {exc}"


def database_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def postgres_database(migrated: bool = True) -> Iterator[str]:
    """A fresh database (migrated to head unless told not to), dropped afterwards."""
    name = f"concierge_console_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def truncate(url: str) -> None:
    """Empties every table of a migrated PostgreSQL database."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
