"""Runs a write operation on the SQLite shop: one transaction, idempotent under retry.

The operation (from :mod:`actions.shop.operations`) works on records loaded inside a
``BEGIN IMMEDIATE`` transaction, so two processes sharing the database file cannot interleave a
read-modify-write. Only when it succeeds are the changed records written back, together with the
idempotency key's stored result; a refusal or an error changes no record. A key seen before
returns the stored first result without running the operation again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from actions.shop.operations import JsonRecord, Records, Refused
from actions.shop.port import REFUSAL_CODES, Refusal, ShopDataError, WriteResult
from actions.shop.sqlite_rows import order_columns, user_columns

T = TypeVar("T")

IDEMPOTENCY_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    request TEXT NOT NULL,
    observation TEXT NOT NULL,
    refusal_code TEXT
)
"""

# Errors a tool raises when the shop's records are inconsistent (a dangling user or product id,
# an empty payment history); the reference answers "Error: " + the message, and so do we.
_DATA_ERRORS = (KeyError, IndexError, TypeError, ValueError, ShopDataError)


class RecordTransaction(Records):
    """The :class:`Records` of one transaction: each record loaded once, changes kept in memory."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._orders: dict[str, tuple[str, JsonRecord] | None] = {}
        self._users: dict[str, tuple[str, JsonRecord] | None] = {}
        self._products: dict[str, JsonRecord | None] = {}

    def _load(self, sql: str, record_id: str) -> tuple[str, JsonRecord] | None:
        row = self._db.execute(sql, (record_id,)).fetchone()
        if row is None:
            return None
        text = str(row[0])
        return text, json.loads(text)

    def order(self, order_id: str) -> JsonRecord | None:
        if order_id not in self._orders:
            self._orders[order_id] = self._load(
                "SELECT record FROM orders WHERE order_id = ?", order_id
            )
        loaded = self._orders[order_id]
        return None if loaded is None else loaded[1]

    def user(self, user_id: str) -> JsonRecord | None:
        if user_id not in self._users:
            self._users[user_id] = self._load("SELECT record FROM users WHERE user_id = ?", user_id)
        loaded = self._users[user_id]
        return None if loaded is None else loaded[1]

    def product(self, product_id: str) -> JsonRecord | None:
        if product_id not in self._products:
            loaded = self._load("SELECT record FROM products WHERE product_id = ?", product_id)
            self._products[product_id] = None if loaded is None else loaded[1]
        return self._products[product_id]

    def save(self) -> None:
        """Writes back every loaded order and user record whose JSON changed."""
        for order_id, loaded in self._orders.items():
            if loaded is not None and json.dumps(loaded[1]) != loaded[0]:
                self._db.execute(
                    "UPDATE orders SET user_id = ?, placed_on = ?, status = ?, record = ?"
                    " WHERE order_id = ?",
                    (*order_columns(loaded[1]), order_id),
                )
        for user_id, loaded in self._users.items():
            if loaded is not None and json.dumps(loaded[1]) != loaded[0]:
                self._db.execute(
                    "UPDATE users SET email_key = ?, first_key = ?, last_key = ?, zip = ?,"
                    " record = ? WHERE user_id = ?",
                    (*user_columns(user_id, loaded[1]), user_id),
                )


def _stored(
    db: sqlite3.Connection,
    key: str,
    operation: str,
    request: str,
    parse: Callable[[JsonRecord], T],
) -> WriteResult[T] | None:
    row = db.execute(
        "SELECT operation, request, observation, refusal_code FROM idempotency_keys WHERE key = ?",
        (key,),
    ).fetchone()
    if row is None:
        return None
    if (row[0], row[1]) != (operation, request):
        refusal = Refusal(
            "idempotency_key_reused", "idempotency key was already used for another request"
        )
        return WriteResult(observation=refusal.observation, refusal=refusal)
    observation, code = str(row[2]), row[3]
    if code is not None:
        found = next(c for c in REFUSAL_CODES if c == code)
        refusal = Refusal(found, observation.removeprefix("Error: "))
        return WriteResult(observation=observation, refusal=refusal, replayed=True)
    return WriteResult(observation=observation, value=parse(json.loads(observation)), replayed=True)


def run_write(
    db: sqlite3.Connection,
    lock: threading.Lock,
    *,
    operation: str,
    request: Mapping[str, Any],
    idempotency_key: str | None,
    apply: Callable[[Records], JsonRecord],
    parse: Callable[[JsonRecord], T],
) -> WriteResult[T]:
    """Runs ``apply`` in one transaction and stores its result under ``idempotency_key``.

    Args:
        db: The shop database connection.
        lock: The lock that serialises this process's use of ``db``.
        operation: The operation's name, stored with the key.
        request: The operation's arguments; a key reused with other arguments is refused.
        idempotency_key: ``None`` runs the operation unconditionally.
        apply: Checks and changes records, returning the record to answer with.
        parse: Turns the returned record into the port's value.

    Returns:
        The new result, or the stored one when the key was seen before.
    """
    request_text = json.dumps(request, sort_keys=True)
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(IDEMPOTENCY_SCHEMA)
            if idempotency_key is not None:
                stored = _stored(db, idempotency_key, operation, request_text, parse)
                if stored is not None:
                    db.rollback()
                    return stored
            result = _apply(db, apply, parse)
            if idempotency_key is not None:
                db.execute(
                    "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?)",
                    (
                        idempotency_key,
                        operation,
                        request_text,
                        result.observation,
                        None if result.refusal is None else result.refusal.code,
                    ),
                )
            db.commit()
        except BaseException:
            db.rollback()
            raise
    return result


def _apply(
    db: sqlite3.Connection,
    apply: Callable[[Records], JsonRecord],
    parse: Callable[[JsonRecord], T],
) -> WriteResult[T]:
    records = RecordTransaction(db)
    try:
        record = apply(records)
        value = parse(record)
    except Refused as refused:
        refusal = Refusal(refused.code, refused.message)
        return WriteResult(observation=refusal.observation, refusal=refusal)
    except _DATA_ERRORS as error:
        # Unlike the reference, which keeps what a tool changed before it raised, nothing is
        # written: a write is all or nothing. No record reachable from the tau-bench data (by
        # valid calls) makes a tool raise after changing something, so replays still agree.
        refusal = Refusal("shop_data_error", str(error))
        return WriteResult(observation=refusal.observation, refusal=refusal)
    records.save()
    return WriteResult(observation=json.dumps(record), value=value)
