"""Fixtures of the privacy tests: both session stores crossed with both console databases.

The session store is the memory one or the real Redis (a key prefix of the test's own, deleted
afterwards); the console database is a migrated SQLite file or the test session's PostgreSQL
database (``tests/console/conftest.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from bot.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from tests.console.conftest import (  # noqa: F401 - fixtures, used by name
    console_database,
    console_store,
    postgres_url,
)
from tests.sessions.conftest import delete_prefix


@pytest.fixture(params=["memory", "redis"])
async def sessions(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield MemorySessionStore()
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"concierge-privacy-{uuid.uuid4().hex}"
    store = RedisSessionStore(url, key_prefix=prefix)
    try:
        yield store
    finally:
        await store.aclose()
        await delete_prefix(url, prefix)
