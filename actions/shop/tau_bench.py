"""tau-bench retail data in and out of the SQLite shop, and the reference's data hash.

The importer keeps every record as it was read (key order, int/float kinds), the exporter writes
the three files back in the same shape, and :class:`DataHasher` computes the hash tau-bench scores
an episode with: SHA-256 of Python's ``str()`` of the data turned into tuples (objects become
key-sorted ``(key, value)`` pairs, arrays tuples). The hasher renders each record once and reuses
the text while the record's stored JSON is unchanged, so hashing a whole shop after a task that
touched two records costs milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from actions.shop.sqlite import SHOP_FILES, SQLiteShopBackend, Table

DATA_TABLES: tuple[Table, ...] = ("orders", "products", "users")
"""The data object's keys in sorted order, as the hash walks them."""

TAU_BENCH_INITIAL_HASH = "5a4b2cb59f4d12dea7e4adff24a7f8fada510ead49372ea4a729a82bbb5f49b5"
"""The hash of tau-bench retail's untouched data (from its semantics notes)."""


def import_tau_bench(directory: str | Path, database: str | Path = ":memory:") -> SQLiteShopBackend:
    """Loads tau-bench's ``users.json``, ``orders.json`` and ``products.json`` into SQLite.

    Args:
        directory: The folder holding the three files.
        database: A SQLite file (its shop tables are replaced) or ``":memory:"``.
    """
    return SQLiteShopBackend.from_directory(directory, database=database)


def export_data(shop: SQLiteShopBackend) -> dict[str, dict[str, Any]]:
    """The shop as tau-bench's data object: each table maps ids to records, in import order."""
    return {
        table: {record_id: json.loads(text) for record_id, text in shop.raw_records(table)}
        for table in DATA_TABLES
    }


def export_tau_bench(shop: SQLiteShopBackend, directory: str | Path) -> list[Path]:
    """Writes the shop as tau-bench's three JSON files into ``directory``.

    Records keep their key order and number kinds (an integer gift-card balance stays an
    integer until arithmetic touches it); floats are written in shortest round-trip form.

    Returns:
        The paths written.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    data = export_data(shop)
    written = []
    for name in SHOP_FILES:
        path = folder / name
        table = name.removesuffix(".json")
        path.write_text(json.dumps(data[table], indent=4) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _tuple(parts: list[str]) -> str:
    # Python writes a one-element tuple with a trailing comma.
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


def render(value: Any) -> str:
    """Python's ``str()`` of ``value`` after tau-bench's conversion of dicts and lists to tuples."""
    if isinstance(value, dict):
        return _tuple([f"({render(k)}, {render(v)})" for k, v in sorted(value.items())])
    if isinstance(value, list):
        return _tuple([render(v) for v in value])
    return repr(value)


def data_hash(data: Mapping[str, Any]) -> str:
    """tau-bench's hash of a data object ``{"orders": ..., "products": ..., "users": ...}``."""
    return hashlib.sha256(render(dict(data)).encode("utf-8")).hexdigest()


class DataHasher:
    """Hashes shops like :func:`data_hash`, rendering each distinct stored record only once."""

    def __init__(self, max_cached: int = 50_000) -> None:
        """Args: max_cached: How many rendered records to keep before starting afresh."""
        self._rendered: dict[str, str] = {}
        self._max_cached = max_cached

    def _record(self, text: str) -> str:
        rendered = self._rendered.get(text)
        if rendered is None:
            if len(self._rendered) >= self._max_cached:
                self._rendered.clear()
            rendered = render(json.loads(text))
            self._rendered[text] = rendered
        return rendered

    def _table(self, rows: Iterable[tuple[str, str]]) -> str:
        return _tuple(
            [f"({record_id!r}, {self._record(text)})" for record_id, text in sorted(rows)]
        )

    def hash(self, shop: SQLiteShopBackend) -> str:
        """The tau-bench hash of the shop's current data."""
        text = _tuple(
            [f"({table!r}, {self._table(shop.raw_records(table))})" for table in DATA_TABLES]
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
