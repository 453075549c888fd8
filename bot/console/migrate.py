"""Schema migrations of the console's database, with alembic (``python -m bot console migrate``).

The revisions live in ``bot/console/migrations/versions``; alembic runs them on a synchronous
SQLAlchemy connection (the stdlib's sqlite3, or psycopg 3 for PostgreSQL), once at start when
``console.migrate_on_start`` is set, else from the command line before a deploy.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool

from bot.config import ROOT

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def sqlite_path(database: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (relative paths from the repository root)."""
    if not database.startswith("sqlite://"):
        return None
    raw = database.removeprefix("sqlite://").removeprefix("/")
    path = Path(raw).expanduser()
    return path if path.is_absolute() else ROOT / path


def sqlalchemy_url(database: str) -> str:
    """The URL SQLAlchemy (for alembic) needs for the configured database URL."""
    path = sqlite_path(database)
    if path is not None:
        return f"sqlite:///{path}"
    for prefix in ("postgresql://", "postgres://"):
        if database.startswith(prefix):
            return "postgresql+psycopg://" + database.removeprefix(prefix)
    raise ValueError(f"unsupported console database URL {database!r}")


def _config(database: str) -> Config:
    path = sqlite_path(database)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database).replace("%", "%%"))
    return config


def upgrade(database: str, revision: str = "head") -> None:
    """Applies every revision up to ``revision`` (blocking: call it in a thread when serving)."""
    command.upgrade(_config(database), revision)


def downgrade(database: str, revision: str) -> None:
    """Reverts to ``revision`` ("base" removes every table)."""
    command.downgrade(_config(database), revision)


def current(database: str) -> str | None:
    """The revision the database is at, None for an empty (or missing SQLite) one."""
    path = sqlite_path(database)
    if path is not None and not path.exists():
        return None
    engine = create_engine(sqlalchemy_url(database), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision
    finally:
        engine.dispose()
