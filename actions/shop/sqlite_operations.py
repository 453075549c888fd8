"""The SQLite adapter's write operations, as a mixin of :class:`SQLiteShopBackend`.

The exact tau-bench semantics live in :mod:`actions.shop.operations`, the transaction and the
idempotency keys in :mod:`actions.shop.sqlite_writes`; each method here only names the operation,
its arguments (stored with an idempotency key) and how its record becomes the port's value.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from actions.shop import operations
from actions.shop.operations import JsonRecord, Records
from actions.shop.port import Address, Customer, Order, WriteResult
from actions.shop.records import customer_from_record, order_from_record
from actions.shop.sqlite_writes import run_write

T = TypeVar("T")


class SQLiteWriteOperations:
    """The write half of the SQLite shop backend; needs the backend's connection and lock."""

    _db: sqlite3.Connection
    _lock: threading.Lock

    def _write(
        self,
        operation: str,
        request: Mapping[str, Any],
        idempotency_key: str | None,
        apply: Callable[[Records], JsonRecord],
        parse: Callable[[JsonRecord], T],
    ) -> WriteResult[T]:
        return run_write(
            self._db,
            self._lock,
            operation=operation,
            request=request,
            idempotency_key=idempotency_key,
            apply=apply,
            parse=parse,
        )

    def cancel_pending_order(
        self, order_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> WriteResult[Order]:
        return self._write(
            "cancel_pending_order",
            {"order_id": order_id, "reason": reason},
            idempotency_key,
            lambda records: operations.cancel_pending_order(records, order_id, reason),
            order_from_record,
        )

    def modify_pending_order_address(
        self, order_id: str, address: Address, *, idempotency_key: str | None = None
    ) -> WriteResult[Order]:
        return self._write(
            "modify_pending_order_address",
            {"order_id": order_id, "address": operations.address_record(address)},
            idempotency_key,
            lambda records: operations.modify_pending_order_address(records, order_id, address),
            order_from_record,
        )

    def modify_pending_order_payment(
        self, order_id: str, payment_method_id: str, *, idempotency_key: str | None = None
    ) -> WriteResult[Order]:
        return self._write(
            "modify_pending_order_payment",
            {"order_id": order_id, "payment_method_id": payment_method_id},
            idempotency_key,
            lambda records: operations.modify_pending_order_payment(
                records, order_id, payment_method_id
            ),
            order_from_record,
        )

    def modify_pending_order_items(
        self,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult[Order]:
        old, new = list(item_ids), list(new_item_ids)
        return self._write(
            "modify_pending_order_items",
            {
                "order_id": order_id,
                "item_ids": old,
                "new_item_ids": new,
                "payment_method_id": payment_method_id,
            },
            idempotency_key,
            lambda records: operations.modify_pending_order_items(
                records, order_id, old, new, payment_method_id
            ),
            order_from_record,
        )

    def modify_user_address(
        self, user_id: str, address: Address, *, idempotency_key: str | None = None
    ) -> WriteResult[Customer]:
        return self._write(
            "modify_user_address",
            {"user_id": user_id, "address": operations.address_record(address)},
            idempotency_key,
            lambda records: operations.modify_user_address(records, user_id, address),
            lambda record: customer_from_record(user_id, record),
        )

    def return_delivered_order_items(
        self,
        order_id: str,
        item_ids: Sequence[str],
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult[Order]:
        items = list(item_ids)
        return self._write(
            "return_delivered_order_items",
            {"order_id": order_id, "item_ids": items, "payment_method_id": payment_method_id},
            idempotency_key,
            lambda records: operations.return_delivered_order_items(
                records, order_id, items, payment_method_id
            ),
            order_from_record,
        )

    def exchange_delivered_order_items(
        self,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult[Order]:
        old, new = list(item_ids), list(new_item_ids)
        return self._write(
            "exchange_delivered_order_items",
            {
                "order_id": order_id,
                "item_ids": old,
                "new_item_ids": new,
                "payment_method_id": payment_method_id,
            },
            idempotency_key,
            lambda records: operations.exchange_delivered_order_items(
                records, order_id, old, new, payment_method_id
            ),
            order_from_record,
        )
