"""The shop backend port: what the actions may ask of a shop, as typed values.

Actions only see these frozen dataclasses and the :class:`ShopBackend` ABC, never a storage
format, so a shop can plug in its own system (Shopify, a SQL database, an ERP) by writing one
adapter. The record shape the bundled adapter reads is tau-bench's retail shop, extended with a
few optional fields (``category``, ``description``, dates, carrier).

Write operations (cancel, modify, return, exchange, address change) follow tau-bench retail's
tools exactly (``actions/shop/operations.py``): they return a :class:`WriteResult` holding the
updated value, or a :class:`Refusal` with a machine-readable code the bot can turn into a
sentence, plus the exact text the reference tool would have answered.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar, get_args

OrderStatus = Literal[
    "pending",
    "pending (item modified)",
    "processed",
    "delivered",
    "cancelled",
    "return requested",
    "exchange requested",
]
"""Order statuses as tau-bench spells them; ``processed`` means shipped and in transit."""

ORDER_STATUSES: tuple[OrderStatus, ...] = get_args(OrderStatus)


class ShopDataError(Exception):
    """A shop record is missing a field or holds a value of the wrong kind."""

    def __init__(self, record_id: str, problem: str) -> None:
        super().__init__(f"shop record {record_id!r}: {problem}")
        self.record_id = record_id
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Address:
    address1: str
    address2: str
    city: str
    state: str
    zip: str
    country: str


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """A stored payment method; only the fields a shopper may be told about."""

    method_id: str
    source: str
    brand: str | None = None
    last_four: str | None = None
    balance: float | None = None

    @property
    def label(self) -> str:
        """A short human description, e.g. ``"Visa ending in 4242"`` or ``"PayPal"``."""
        if self.source == "credit_card":
            brand = (self.brand or "card").title()
            return f"{brand} ending in {self.last_four}" if self.last_four else brand
        if self.source == "gift_card":
            return "gift card"
        if self.source == "paypal":
            return "PayPal"
        return self.source.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Customer:
    user_id: str
    first_name: str
    last_name: str
    email: str
    address: Address
    payment_methods: tuple[PaymentMethod, ...]
    order_ids: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class OrderItem:
    name: str
    product_id: str
    item_id: str
    price: float
    options: Mapping[str, str]

    @property
    def options_text(self) -> str:
        """Option values in record order, e.g. ``"size 9, blue"``."""
        return options_text(self.options)


@dataclass(frozen=True, slots=True)
class Fulfillment:
    """One shipment: the items it carries and how to follow it."""

    tracking_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    carrier: str | None = None
    estimated_delivery: dt.date | None = None
    delivered_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    transaction_type: Literal["payment", "refund"]
    amount: float
    payment_method_id: str


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    user_id: str
    status: OrderStatus
    address: Address
    items: tuple[OrderItem, ...]
    fulfillments: tuple[Fulfillment, ...]
    payments: tuple[Payment, ...]
    placed_on: dt.date | None = None
    return_item_ids: tuple[str, ...] = ()
    exchange_item_ids: tuple[str, ...] = ()
    exchange_new_item_ids: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        """The sum of the item prices, rounded to cents."""
        return round(sum(item.price for item in self.items), 2)

    @property
    def refunded(self) -> float:
        """The sum of all refunds in the payment history, rounded to cents."""
        return round(sum(p.amount for p in self.payments if p.transaction_type == "refund"), 2)

    def items_with_ids(self, item_ids: tuple[str, ...]) -> tuple[OrderItem, ...]:
        """The order's items whose item id is in ``item_ids``, in order."""
        wanted = set(item_ids)
        return tuple(item for item in self.items if item.item_id in wanted)


@dataclass(frozen=True, slots=True)
class Variant:
    item_id: str
    options: Mapping[str, str]
    available: bool
    price: float

    @property
    def options_text(self) -> str:
        """Option values in record order, e.g. ``"size 9, blue"``."""
        return options_text(self.options)


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str
    variants: tuple[Variant, ...]
    category: str | None = None
    description: str | None = None

    @property
    def available_variants(self) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.available)


SELF_EXPLAINING_OPTIONS = frozenset({"color", "colour", "material", "style", "flavor", "capacity"})
"""Options whose value reads well alone ("blue", "1L"); others are named ("size 9", "waist 32")."""


def options_text(options: Mapping[str, str]) -> str:
    """Option values in record order, e.g. ``"size 9, blue"`` or ``"waist 32, khaki"``."""
    return ", ".join(
        value if key.lower() in SELF_EXPLAINING_OPTIONS else f"{key} {value}"
        for key, value in options.items()
    )


def normalize_order_id(order_id: str) -> str:
    """``"4821937"``, ``" #4821937 "`` and ``"#w4821937"`` become ``"#4821937"``/``"#W4821937"``."""
    bare = order_id.strip().lstrip("#").strip().upper()
    return f"#{bare}"


RefusalCode = Literal[
    "order_not_found",
    "user_not_found",
    "order_not_pending",
    "order_not_delivered",
    "invalid_cancel_reason",
    "item_not_found",
    "item_count_mismatch",
    "new_item_unavailable",
    "payment_method_not_found",
    "payment_method_not_allowed",
    "payment_not_single",
    "payment_method_unchanged",
    "insufficient_gift_card_balance",
    "shop_data_error",
    "idempotency_key_reused",
]
"""Why a write was refused; ``shop_data_error`` means the shop's own records are inconsistent."""

REFUSAL_CODES: tuple[RefusalCode, ...] = get_args(RefusalCode)

CancelReason = Literal["no longer needed", "ordered by mistake"]
CANCEL_REASONS: tuple[CancelReason, ...] = get_args(CancelReason)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A write the shop refused; nothing was changed.

    Attributes:
        code: The machine-readable reason.
        message: The reference tool's error text without its ``"Error: "`` prefix.
    """

    code: RefusalCode
    message: str

    @property
    def observation(self) -> str:
        """The text tau-bench's tool answers for this refusal, e.g. ``"Error: order not found"``."""
        return f"Error: {self.message}"


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WriteResult(Generic[T]):
    """The outcome of a write operation: the updated value or a refusal, never both.

    Attributes:
        observation: What tau-bench's tool would answer: the updated record as JSON, or the
            refusal's ``"Error: ..."`` text.
        value: The updated order or customer when the write succeeded.
        refusal: Why nothing was changed, when the write was refused.
        replayed: ``True`` when an idempotency key seen before returned the stored first result.
    """

    observation: str
    value: T | None = None
    refusal: Refusal | None = None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        """Whether the write succeeded (or succeeded the first time, when replayed)."""
        return self.refusal is None


class ShopBackend(ABC):
    """Read and write access to a shop's customers, orders and catalogue.

    Implementations must be safe to call from the action server's event loop: calls are
    synchronous and expected to return in well under a millisecond for a demo-sized shop.
    """

    @abstractmethod
    def find_customer_by_email(self, email: str) -> Customer | None:
        """The customer with this email, compared case-insensitively after trimming."""

    @abstractmethod
    def find_customer_by_name_zip(
        self, first_name: str, last_name: str, zip_code: str
    ) -> Customer | None:
        """The first customer whose names match case-insensitively and whose zip is ``zip_code``."""

    @abstractmethod
    def find_customers_by_zip(self, zip_code: str) -> list[Customer]:
        """The customers whose address has this zip code, in the shop's order."""

    @abstractmethod
    def get_customer(self, user_id: str) -> Customer | None:
        """The customer with this id, or ``None``."""

    @abstractmethod
    def list_orders(self, user_id: str) -> list[Order]:
        """The customer's orders, newest first (an unknown customer has none)."""

    @abstractmethod
    def get_order(self, order_id: str) -> Order | None:
        """The order with this id; accepts the id with or without its leading ``#``."""

    @abstractmethod
    def get_product(self, product_id: str) -> Product | None:
        """The product with this id, or ``None``."""

    @abstractmethod
    def search_products(self, text: str, limit: int = 5) -> list[Product]:
        """Products matching ``text`` by name, category or option value, best match first.

        The ranking is deterministic: an exact name match first, then products whose name
        holds the whole phrase, then by the number of matching words (name words weigh most),
        ties broken by name. No match gives an empty list.
        """

    @abstractmethod
    def list_products(self) -> list[Product]:
        """Every product of the catalogue, in catalogue order."""

    @abstractmethod
    def purchase_histories(self) -> dict[str, list[str]]:
        """Each customer's purchased product ids, oldest order first, in item order.

        Cancelled orders are left out: they were not bought. Customers without a purchase
        have no entry. Recommenders learn what is bought after what from this.
        """

    def close(self) -> None:  # noqa: B027 - adapters without resources need not override it
        """Release the adapter's resources; the default holds none."""

    # Write operations. Each is atomic; an ``idempotency_key`` seen before returns the first
    # result and changes nothing more, so a retried request never cancels or refunds twice.

    @abstractmethod
    def cancel_pending_order(
        self, order_id: str, reason: str, *, idempotency_key: str | None = None
    ) -> WriteResult[Order]:
        """Cancels a ``pending`` order and refunds every payment-history entry.

        Gift-card refunds go back onto the card at once; ``reason`` must be one of
        :data:`CANCEL_REASONS`.
        """

    @abstractmethod
    def modify_pending_order_address(
        self, order_id: str, address: Address, *, idempotency_key: str | None = None
    ) -> WriteResult[Order]:
        """Replaces the shipping address of a ``pending`` order."""

    @abstractmethod
    def modify_pending_order_payment(
        self, order_id: str, payment_method_id: str, *, idempotency_key: str | None = None
    ) -> WriteResult[Order]:
        """Moves a ``pending`` order's single payment onto another of the owner's methods."""

    @abstractmethod
    def modify_pending_order_items(
        self,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult[Order]:
        """Swaps items of a ``pending`` order for other variants of the same products, pairwise.

        The price difference is charged to (or refunded onto) ``payment_method_id`` and the
        order becomes ``pending (item modified)``, after which it cannot be changed again.
        """

    @abstractmethod
    def modify_user_address(
        self, user_id: str, address: Address, *, idempotency_key: str | None = None
    ) -> WriteResult[Customer]:
        """Replaces a customer's default address; no order is touched."""

    @abstractmethod
    def return_delivered_order_items(
        self,
        order_id: str,
        item_ids: Sequence[str],
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult[Order]:
        """Requests the return of items of a ``delivered`` order.

        The refund goes to the original payment method or one of the owner's gift cards.
        """

    @abstractmethod
    def exchange_delivered_order_items(
        self,
        order_id: str,
        item_ids: Sequence[str],
        new_item_ids: Sequence[str],
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> WriteResult[Order]:
        """Requests the exchange of items of a ``delivered`` order for other variants."""
