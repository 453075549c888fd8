"""Where the action server keeps its shop: a SQLite file, so order changes survive restarts.

``$CONCIERGE_SHOP_DB`` names the file (default ``var/shop.sqlite`` in the checkout, which git
ignores). A missing file is built once from the shop folder (``$CONCIERGE_SHOP_DIR``); an
existing one is opened as it is, with every cancellation, return and exchange made so far.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from actions.shop.sqlite import SQLiteShopBackend

SHOP_DB_ENV = "CONCIERGE_SHOP_DB"


def default_shop_database(environ: Mapping[str, str] | None = None) -> Path:
    """The shop database file: ``$CONCIERGE_SHOP_DB``, else ``var/shop.sqlite`` in the checkout."""
    env = os.environ if environ is None else environ
    configured = env.get(SHOP_DB_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[1] / "var" / "shop.sqlite"


def open_shop_database(database: Path, shop_dir: Path) -> SQLiteShopBackend:
    """Opens ``database``, first building it from ``shop_dir`` when it does not exist.

    The new file is built beside its final name and renamed into place, so two action
    servers starting together never open a half-built database.
    """
    if not database.is_file():
        database.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(prefix=database.name, dir=database.parent)
        os.close(handle)
        os.chmod(partial, 0o644)  # mkstemp makes it private; the database is ordinary data
        try:
            SQLiteShopBackend.from_directory(shop_dir, database=partial).close()
            if not database.is_file():
                os.replace(partial, database)
        finally:
            Path(partial).unlink(missing_ok=True)
    return SQLiteShopBackend.open(database)
