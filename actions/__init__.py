"""Concierge's rasa-sdk actions: ``python -m rasa_sdk --actions actions --port 5055``.

Importing the package imports every action module, so rasa-sdk registers their actions; the
shop data is opened lazily, on the first action that needs it (see :mod:`actions.base`).
"""

from actions.list_orders import ActionListOrders, ValidateListOrdersForm
from actions.order_status import ActionAskOrderId, ActionOrderStatus, ValidateOrderStatusForm
from actions.product_info import ActionProductInfo, ValidateProductInfoForm
from actions.recommend_action import ActionRecommendProducts
from actions.write_actions import (
    ActionAskCancelReason,
    ActionAskConfirmed,
    ActionAskItemIds,
    ActionAskNewAddress,
    ActionAskNewItemIds,
    ActionAskPaymentMethodId,
    ActionCancelOrder,
    ActionChangeAccountAddress,
    ActionChangeOrderAddress,
    ActionChangePayment,
    ActionExchangeItems,
    ActionModifyItems,
    ActionReturnItems,
)
from actions.write_forms import (
    ValidateAccountAddressForm,
    ValidateCancelOrderForm,
    ValidateChangeAddressForm,
    ValidateChangePaymentForm,
    ValidateExchangeForm,
    ValidateModifyItemsForm,
    ValidateReturnForm,
)

__all__ = [
    "ActionAskCancelReason",
    "ActionAskConfirmed",
    "ActionAskItemIds",
    "ActionAskNewAddress",
    "ActionAskNewItemIds",
    "ActionAskOrderId",
    "ActionAskPaymentMethodId",
    "ActionCancelOrder",
    "ActionChangeAccountAddress",
    "ActionChangeOrderAddress",
    "ActionChangePayment",
    "ActionExchangeItems",
    "ActionListOrders",
    "ActionModifyItems",
    "ActionOrderStatus",
    "ActionProductInfo",
    "ActionRecommendProducts",
    "ActionReturnItems",
    "ValidateAccountAddressForm",
    "ValidateCancelOrderForm",
    "ValidateChangeAddressForm",
    "ValidateChangePaymentForm",
    "ValidateExchangeForm",
    "ValidateListOrdersForm",
    "ValidateModifyItemsForm",
    "ValidateOrderStatusForm",
    "ValidateProductInfoForm",
    "ValidateReturnForm",
]
