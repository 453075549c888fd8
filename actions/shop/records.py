"""Conversion of shop JSON records (tau-bench retail shape) into the port's dataclasses.

The records are untrusted input in the sense that a shop may import them from elsewhere, so each
field is checked for its kind and a :class:`ShopDataError` names the record that is wrong.
tau-bench records lack our extra fields (``user_id`` inside a user, dates, carrier, category,
description); those are optional here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

from actions.shop.port import (
    ORDER_STATUSES,
    Address,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    Product,
    ShopDataError,
    Variant,
)

Record = Mapping[str, Any]


def _str(record_id: str, record: Record, key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise ShopDataError(record_id, f"field {key!r} must be a string, got {value!r}")
    return value


def _opt_str(record: Record, key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) else None


def _number(record_id: str, record: Record, key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShopDataError(record_id, f"field {key!r} must be a number, got {value!r}")
    return float(value)


def _date(record_id: str, record: Record, key: str) -> dt.date | None:
    value = record.get(key)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ShopDataError(record_id, f"field {key!r} is not an ISO date: {value!r}") from None


def _options(value: Any) -> Mapping[str, str]:
    options = value if isinstance(value, Mapping) else {}
    return MappingProxyType({str(k): str(v) for k, v in options.items()})


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def address_from_record(record_id: str, record: Record) -> Address:
    """An address from its six-string record."""
    return Address(
        address1=_str(record_id, record, "address1"),
        address2=str(record.get("address2") or ""),
        city=_str(record_id, record, "city"),
        state=_str(record_id, record, "state"),
        zip=_str(record_id, record, "zip"),
        country=_str(record_id, record, "country"),
    )


def customer_from_record(user_id: str, record: Record) -> Customer:
    """A customer from a ``users.json`` record stored under ``user_id``."""
    name = record.get("name")
    if not isinstance(name, Mapping):
        raise ShopDataError(user_id, "field 'name' must be an object")
    methods = record.get("payment_methods") or {}
    return Customer(
        user_id=user_id,
        first_name=_str(user_id, name, "first_name"),
        last_name=_str(user_id, name, "last_name"),
        email=_str(user_id, record, "email"),
        address=address_from_record(user_id, record.get("address") or {}),
        payment_methods=tuple(
            PaymentMethod(
                method_id=str(method_id),
                source=_str(user_id, method, "source"),
                brand=_opt_str(method, "brand"),
                last_four=_opt_str(method, "last_four"),
                balance=float(method["balance"]) if "balance" in method else None,
            )
            for method_id, method in methods.items()
        ),
        order_ids=_ids(record.get("orders")),
    )


def _status(order_id: str, record: Record) -> OrderStatus:
    status = record.get("status")
    if status not in ORDER_STATUSES:
        raise ShopDataError(order_id, f"unknown order status {status!r}")
    return cast(OrderStatus, status)


def order_from_record(record: Record) -> Order:
    """An order from an ``orders.json`` record."""
    order_id = str(record.get("order_id"))
    items = tuple(
        OrderItem(
            name=_str(order_id, item, "name"),
            product_id=_str(order_id, item, "product_id"),
            item_id=_str(order_id, item, "item_id"),
            price=_number(order_id, item, "price"),
            options=_options(item.get("options")),
        )
        for item in record.get("items") or []
    )
    fulfillments = tuple(
        Fulfillment(
            tracking_ids=_ids(f.get("tracking_id")),
            item_ids=_ids(f.get("item_ids")),
            carrier=_opt_str(f, "carrier"),
            estimated_delivery=_date(order_id, f, "estimated_delivery"),
            delivered_on=_date(order_id, f, "delivered_on"),
        )
        for f in record.get("fulfillments") or []
    )
    payments = tuple(
        Payment(
            transaction_type="refund" if p.get("transaction_type") == "refund" else "payment",
            amount=_number(order_id, p, "amount"),
            payment_method_id=_str(order_id, p, "payment_method_id"),
        )
        for p in record.get("payment_history") or []
    )
    return Order(
        order_id=order_id,
        user_id=_str(order_id, record, "user_id"),
        status=_status(order_id, record),
        address=address_from_record(order_id, record.get("address") or {}),
        items=items,
        fulfillments=fulfillments,
        payments=payments,
        placed_on=_date(order_id, record, "placed_on"),
        return_item_ids=_ids(record.get("return_items")),
        exchange_item_ids=_ids(record.get("exchange_items")),
        exchange_new_item_ids=_ids(record.get("exchange_new_items")),
    )


def product_from_record(record: Record) -> Product:
    """A product from a ``products.json`` record."""
    product_id = str(record.get("product_id"))
    variants = record.get("variants") or {}
    return Product(
        product_id=product_id,
        name=_str(product_id, record, "name"),
        variants=tuple(
            Variant(
                item_id=str(item_id),
                options=_options(variant.get("options")),
                available=bool(variant.get("available")),
                price=_number(product_id, variant, "price"),
            )
            for item_id, variant in variants.items()
        ),
        category=_opt_str(record, "category"),
        description=_opt_str(record, "description"),
    )
