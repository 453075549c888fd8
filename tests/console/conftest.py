"""Fixtures of the console's tests: both console stores on real databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.console import migrate
from bot.console.factory import create_console_store
from bot.console.store import ConsoleStore
from tests.console.db import postgres_database, postgres_reason, truncate


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for the whole test session."""
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def console_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated console database of either kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.sqlite'}"
        migrate.upgrade(url)
        return url
    url: str = request.getfixturevalue("postgres_url")
    truncate(url)
    return url


@pytest.fixture
async def console_store(console_database: str) -> AsyncIterator[ConsoleStore]:
    store = create_console_store(console_database)
    try:
        yield store
    finally:
        await store.aclose()
