"""SQLite adapter of the shop backend port, loaded from the three shop JSON files.

Each table keeps the full JSON record (so numbers keep their int/float kind and fields we do not
model survive a round trip, which a later tau-bench import and write operations rely on) plus
the indexed columns the look-ups need. The connection is shared across threads behind a lock:
rasa-sdk runs actions on one event loop, and every query here is a primary-key or index hit.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from actions.shop.operations import JsonRecord
from actions.shop.port import (
    Customer,
    Order,
    Product,
    ShopBackend,
    ShopDataError,
    normalize_order_id,
)
from actions.shop.records import customer_from_record, order_from_record, product_from_record
from actions.shop.search import ProductIndexEntry, rank
from actions.shop.sqlite_operations import SQLiteWriteOperations
from actions.shop.sqlite_rows import key_text, order_columns, product_columns, user_columns

SHOP_DIR_ENV = "CONCIERGE_SHOP_DIR"
SHOP_FILES = ("products.json", "users.json", "orders.json")

Table = Literal["users", "orders", "products"]
_ID_COLUMNS: dict[Table, str] = {"users": "user_id", "orders": "order_id", "products": "product_id"}

_SCHEMA = """
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS idempotency_keys;
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    email_key TEXT NOT NULL,
    first_key TEXT NOT NULL,
    last_key TEXT NOT NULL,
    zip TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX users_email ON users (email_key);
CREATE INDEX users_name_zip ON users (first_key, last_key, zip);
CREATE INDEX users_zip ON users (zip);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    placed_on TEXT,
    status TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX orders_user ON orders (user_id, placed_on);
CREATE TABLE products (
    product_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    category TEXT,
    record TEXT NOT NULL
);
"""


def default_shop_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The shop data folder: ``$CONCIERGE_SHOP_DIR``, else the repository's ``data/shop``.

    The default is found from this file's location, not the working directory, so the action
    server finds the demo shop wherever it is started from a checkout.
    """
    env = os.environ if environ is None else environ
    configured = env.get(SHOP_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[2] / "data" / "shop"


def _read_json(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ShopDataError(path.name, "the file must hold one JSON object keyed by id")
    return data


class SQLiteShopBackend(SQLiteWriteOperations, ShopBackend):
    """A :class:`ShopBackend` over a SQLite database built by :meth:`from_records`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Wraps an open connection to a database that already holds the shop tables.

        Use :meth:`from_directory`, :meth:`from_records` or :meth:`open` to get one.
        """
        self._db = connection
        self._lock = threading.Lock()
        self._index: list[ProductIndexEntry] | None = None

    @classmethod
    def from_directory(
        cls, directory: str | Path | None = None, database: str | Path = ":memory:"
    ) -> SQLiteShopBackend:
        """Loads ``products.json``, ``users.json`` and ``orders.json`` from ``directory``.

        Args:
            directory: The shop data folder; ``None`` means :func:`default_shop_dir`.
            database: A SQLite file (its shop tables are replaced) or ``":memory:"``.

        Raises:
            FileNotFoundError: A shop file is missing.
            ShopDataError: A file or record has the wrong shape.
        """
        folder = default_shop_dir() if directory is None else Path(directory)
        products, users, orders = (_read_json(folder / name) for name in SHOP_FILES)
        return cls.from_records(products=products, users=users, orders=orders, database=database)

    @classmethod
    def from_records(
        cls,
        *,
        products: Mapping[str, Mapping[str, Any]],
        users: Mapping[str, Mapping[str, Any]],
        orders: Mapping[str, Mapping[str, Any]],
        database: str | Path = ":memory:",
    ) -> SQLiteShopBackend:
        """Builds the database from records in the tau-bench retail shape.

        Every record is parsed once here, so a malformed shop fails at start, not mid-chat.
        """
        user_rows = []
        for position, (key, record) in enumerate(users.items()):
            user_id = str(record.get("user_id", key))
            user_rows.append((user_id, position, *user_columns(user_id, record)))
        order_rows = [
            (str(record.get("order_id")), position, *order_columns(record))
            for position, record in enumerate(orders.values())
        ]
        product_rows = []
        for position, record in enumerate(products.values()):
            product_id, name, category, text = product_columns(record)
            product_rows.append((product_id, position, name, category, text))

        connection = sqlite3.connect(str(database), check_same_thread=False)
        with connection:
            connection.executescript(_SCHEMA)
            connection.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)", user_rows)
            connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", order_rows)
            connection.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?)", product_rows)
        return cls(connection)

    @classmethod
    def open(cls, database: str | Path) -> SQLiteShopBackend:
        """Opens a database file that :meth:`from_records` built earlier, without reloading."""
        path = Path(database)
        if not path.is_file():
            raise FileNotFoundError(path)
        return cls(sqlite3.connect(str(path), check_same_thread=False))

    def copy(self) -> SQLiteShopBackend:
        """An independent in-memory copy of this database, made with SQLite's backup API.

        Cheap enough (milliseconds for tau-bench's shop) to give every replayed task fresh data.
        """
        target = sqlite3.connect(":memory:", check_same_thread=False)
        with self._lock:
            self._db.backup(target)
        return type(self)(target)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def raw_records(self, table: Table) -> list[tuple[str, str]]:
        """``(id, record JSON)`` of every record of ``table``, in import order.

        The JSON text is the record exactly as stored (key order and number kinds kept); the
        tau-bench exporter and data hash read it.
        """
        column = _ID_COLUMNS[table]
        return [
            (str(row[0]), str(row[1]))
            for row in self._all(f"SELECT {column}, record FROM {table} ORDER BY position", ())
        ]

    def raw_record(self, table: Table, record_id: str) -> JsonRecord | None:
        """The stored record of ``table`` whose id is exactly ``record_id``, or ``None``."""
        column = _ID_COLUMNS[table]
        row = self._one(f"SELECT record FROM {table} WHERE {column} = ?", (record_id,))
        if row is None:
            return None
        record: JsonRecord = json.loads(row[0])
        return record

    def _one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    @staticmethod
    def _customer(row: tuple[Any, ...] | None) -> Customer | None:
        if row is None:
            return None
        return customer_from_record(str(row[0]), json.loads(row[1]))

    def find_customer_by_email(self, email: str) -> Customer | None:
        return self._customer(
            self._one(
                "SELECT user_id, record FROM users WHERE email_key = ? ORDER BY position LIMIT 1",
                (key_text(email),),
            )
        )

    def find_customer_by_name_zip(
        self, first_name: str, last_name: str, zip_code: str
    ) -> Customer | None:
        return self._customer(
            self._one(
                "SELECT user_id, record FROM users WHERE first_key = ? AND last_key = ? AND zip = ?"
                " ORDER BY position LIMIT 1",
                (key_text(first_name), key_text(last_name), zip_code.strip()),
            )
        )

    def find_customers_by_zip(self, zip_code: str) -> list[Customer]:
        rows = self._all(
            "SELECT user_id, record FROM users WHERE zip = ? ORDER BY position",
            (zip_code.strip(),),
        )
        return [c for c in map(self._customer, rows) if c is not None]

    def get_customer(self, user_id: str) -> Customer | None:
        return self._customer(
            self._one("SELECT user_id, record FROM users WHERE user_id = ?", (user_id.strip(),))
        )

    def list_orders(self, user_id: str) -> list[Order]:
        # Orders without a date (tau-bench data) keep their file order, newest assumed last.
        rows = self._all(
            "SELECT record FROM orders WHERE user_id = ?"
            " ORDER BY placed_on IS NULL, placed_on DESC, position DESC",
            (user_id.strip(),),
        )
        return [order_from_record(json.loads(row[0])) for row in rows]

    def get_order(self, order_id: str) -> Order | None:
        row = self._one(
            "SELECT record FROM orders WHERE order_id = ?", (normalize_order_id(order_id),)
        )
        return None if row is None else order_from_record(json.loads(row[0]))

    def get_product(self, product_id: str) -> Product | None:
        row = self._one("SELECT record FROM products WHERE product_id = ?", (product_id.strip(),))
        return None if row is None else product_from_record(json.loads(row[0]))

    def list_products(self) -> list[Product]:
        rows = self._all("SELECT record FROM products ORDER BY position", ())
        return [product_from_record(json.loads(row[0])) for row in rows]

    def purchase_histories(self) -> dict[str, list[str]]:
        # Oldest first; undated orders (tau-bench data) sort first, in file order.
        rows = self._all("SELECT user_id, record FROM orders ORDER BY placed_on, position", ())
        histories: dict[str, list[str]] = {}
        for user_id, text in rows:
            record = json.loads(text)
            if record.get("status") == "cancelled":
                continue
            products = [str(item["product_id"]) for item in record.get("items") or ()]
            if products:
                histories.setdefault(str(user_id), []).extend(products)
        return histories

    def _product_index(self) -> list[ProductIndexEntry]:
        # Products never change while the server runs, so the word index is built once.
        if self._index is None:
            rows = self._all("SELECT record FROM products ORDER BY position", ())
            self._index = [
                ProductIndexEntry.of(product_from_record(json.loads(r[0]))) for r in rows
            ]
        return self._index

    def search_products(self, text: str, limit: int = 5) -> list[Product]:
        found = (self.get_product(pid) for pid in rank(self._product_index(), text, limit))
        return [product for product in found if product is not None]
