"""Concierge's rasa-sdk actions: ``python -m rasa_sdk --actions actions --port 5055``.

Importing the package imports every action module, so rasa-sdk registers their actions; the
shop data is loaded lazily, on the first action that needs it (see :mod:`actions.base`).
"""

from actions.list_orders import ActionListOrders, ValidateListOrdersForm
from actions.order_status import ActionAskOrderId, ActionOrderStatus, ValidateOrderStatusForm
from actions.product_info import ActionProductInfo, ValidateProductInfoForm

__all__ = [
    "ActionAskOrderId",
    "ActionListOrders",
    "ActionOrderStatus",
    "ActionProductInfo",
    "ValidateListOrdersForm",
    "ValidateOrderStatusForm",
    "ValidateProductInfoForm",
]
