"""The alembic migrations on both databases: up to head, down to nothing, up again."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bot.console import migrate
from tests.console.db import postgres_database, postgres_reason


def test_sqlite_file_is_created_migrated_and_reverted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'console.sqlite'}"
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == "0002"
    migrate.upgrade(url)  # a second run changes nothing
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == "0002"


def test_postgres_is_migrated_and_reverted() -> None:
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    with postgres_database(migrated=False) as url:
        migrate.upgrade(url)
        assert migrate.current(url) == "0002"
        with psycopg.connect(url) as conn:
            tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables "
                                                 "WHERE schemaname = 'public'")}  # fmt: skip
        assert {"agents", "handoffs", "analytics_events", "alembic_version"} <= tables
        migrate.downgrade(url, "base")
        assert migrate.current(url) is None


def test_urls() -> None:
    assert migrate.sqlalchemy_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    relative = migrate.sqlite_path("sqlite:///var/console.sqlite")
    assert relative is not None
    assert relative.is_absolute()
    assert relative.name == "console.sqlite"
    assert migrate.sqlite_path("postgresql://x") is None
