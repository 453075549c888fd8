"""The shop backend: the port the actions use, its SQLite adapter and the demo shop generator."""

from actions.shop.port import (
    Address,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    Product,
    ShopBackend,
    ShopDataError,
    Variant,
    normalize_order_id,
)
from actions.shop.sqlite import SQLiteShopBackend, default_shop_dir

__all__ = [
    "Address",
    "Customer",
    "Fulfillment",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Payment",
    "PaymentMethod",
    "Product",
    "SQLiteShopBackend",
    "ShopBackend",
    "ShopDataError",
    "Variant",
    "default_shop_dir",
    "normalize_order_id",
]
