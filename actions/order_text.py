"""What the bot says about one order, worded per status.

Everything in these sentences comes from the order record: the status, the carrier, the
tracking numbers, the dates, the items. Nothing is promised that the record does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping

from actions.formatting import day, item_text, items_text, join_words, money
from actions.shop.port import Fulfillment, Order


def _tracking(shipment: Fulfillment) -> str:
    numbers = join_words(list(shipment.tracking_ids))
    label = "tracking number" if len(shipment.tracking_ids) == 1 else "tracking numbers"
    carrier = f"{shipment.carrier}, " if shipment.carrier else ""
    return f"{carrier}{label} {numbers}" if numbers else (shipment.carrier or "no tracking yet")


def _shipment_contents(order: Order, shipment: Fulfillment) -> str:
    items = order.items_with_ids(shipment.item_ids)
    return items_text(items, limit=3) if items else "your items"


def _in_transit(order: Order) -> str:
    if len(order.fulfillments) == 1:
        shipment = order.fulfillments[0]
        eta = shipment.estimated_delivery
        arrival = f" It should arrive by {day(eta)}." if eta else ""
        return f"Order {order.order_id} has shipped ({_tracking(shipment)}).{arrival}"
    parcels = []
    for shipment in order.fulfillments:
        eta = shipment.estimated_delivery
        arrival = f", arriving by {day(eta)}" if eta else ""
        parcels.append(f"{_shipment_contents(order, shipment)} ({_tracking(shipment)}{arrival})")
    count = len(order.fulfillments)
    return f"Order {order.order_id} has shipped in {count} parcels: " + "; ".join(parcels) + "."


def _delivered(order: Order) -> str:
    shipments = order.fulfillments
    if len(shipments) == 1:
        shipment = shipments[0]
        arrived = f" on {day(shipment.delivered_on)}" if shipment.delivered_on else ""
        return f"Order {order.order_id} was delivered{arrived} ({_tracking(shipment)})."
    parcels = [
        f"{_shipment_contents(order, s)} on {day(s.delivered_on)} ({_tracking(s)})"
        for s in shipments
    ]
    return (
        f"Order {order.order_id} was delivered in {len(shipments)} parcels: "
        + "; ".join(parcels)
        + "."
    )


def _exchange_text(order: Order, new_options: Mapping[str, str]) -> str:
    swaps = []
    for old, new in zip(order.exchange_item_ids, order.exchange_new_item_ids, strict=False):
        old_items = order.items_with_ids((old,))
        if not old_items:
            continue
        item, target = old_items[0], new_options.get(new)
        current = item.options_text
        if target and current:
            swaps.append(f"{item.name} ({current} → {target})")
        else:
            swaps.append(item_text(item))
    return join_words(swaps) if swaps else "an item"


def describe_order(order: Order, new_options: Mapping[str, str] | None = None) -> str:
    """A short, friendly status report for ``order``.

    Args:
        order: The order, already checked to belong to the shopper.
        new_options: For an exchange, the option text of each new item id
            (e.g. ``{"123": "size 10, blue"}``); unknown ids are left out of the sentence.
    """
    contents = f"It contains {items_text(order.items)}, {money(order.total)} in total."
    placed = f", placed on {day(order.placed_on)}," if order.placed_on else ""
    status = order.status
    if status in ("pending", "pending (item modified)"):
        changed = " with your item changes" if status == "pending (item modified)" else ""
        return (
            f"Order {order.order_id}{placed} is confirmed{changed} and being prepared; "
            f"it hasn't shipped yet. {contents}"
        )
    if status == "processed":
        return f"{_in_transit(order)} {contents}"
    if status == "delivered":
        return f"{_delivered(order)} {contents}"
    if status == "cancelled":
        refund = (
            f" {money(order.refunded)} was refunded to the original payment method."
            if order.refunded
            else ""
        )
        return f"Order {order.order_id}{placed} was cancelled.{refund} {contents}"
    if status == "return requested":
        returned = items_text(order.items_with_ids(order.return_item_ids)) or "your items"
        return (
            f"Your return request for order {order.order_id} is open for {returned}. "
            f"{_delivered(order)}"
        )
    exchange = _exchange_text(order, new_options or {})
    return (
        f"Your exchange request for order {order.order_id} is open: {exchange}. {_delivered(order)}"
    )
