"""Alembic's environment: applies the revisions on the connection or URL it is given.

Called by :func:`bot.console.migrate.upgrade` (and ``downgrade``), never by ``alembic``'s own
command line, so there is no alembic.ini: the URL comes from ``console.database``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("bot.console.migrate sets sqlalchemy.url")
engine = create_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
