"""What the bot says about one order, worded per status in the conversation's language.

Everything in these sentences comes from the order record: the status, the carrier, the
tracking numbers, the dates, the items. Nothing is promised that the record does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping

from actions.formatting import item_text, items_text, options_text
from actions.locale import Messages
from actions.shop.port import Fulfillment, Order


def _tracking(shipment: Fulfillment, lang: Messages) -> str:
    numbers = lang.join(list(shipment.tracking_ids))
    if not numbers:
        return shipment.carrier or lang.text("order.no_tracking")
    count = len(shipment.tracking_ids)
    if shipment.carrier:
        return lang.plural(
            "order.carrier_tracking", count, carrier=shipment.carrier, numbers=numbers
        )
    return lang.plural("order.tracking", count, numbers=numbers)


def _shipment_contents(order: Order, shipment: Fulfillment, lang: Messages) -> str:
    items = order.items_with_ids(shipment.item_ids)
    return items_text(items, lang, limit=3) if items else lang.text("items.your_items")


def _in_transit(order: Order, lang: Messages) -> str:
    if len(order.fulfillments) == 1:
        shipment = order.fulfillments[0]
        eta = shipment.estimated_delivery
        shipped = lang.text(
            "order.shipped", order_id=order.order_id, tracking=_tracking(shipment, lang)
        )
        return lang.sentences(
            shipped, lang.text("order.arrives_by", date=lang.day(eta)) if eta else ""
        )
    parcels = []
    for shipment in order.fulfillments:
        eta = shipment.estimated_delivery
        contents, tracking = _shipment_contents(order, shipment, lang), _tracking(shipment, lang)
        parcels.append(
            lang.text(
                "order.parcel_arriving", contents=contents, tracking=tracking, date=lang.day(eta)
            )
            if eta
            else lang.text("order.parcel", contents=contents, tracking=tracking)
        )
    return lang.text(
        "order.shipped_parcels",
        order_id=order.order_id,
        count=len(order.fulfillments),
        parcels=lang.text("format.group_separator").join(parcels),
    )


def _delivered(order: Order, lang: Messages) -> str:
    shipments = order.fulfillments
    if len(shipments) == 1:
        shipment = shipments[0]
        tracking = _tracking(shipment, lang)
        if shipment.delivered_on:
            date = lang.day(shipment.delivered_on)
            return lang.text(
                "order.delivered_on", order_id=order.order_id, date=date, tracking=tracking
            )
        return lang.text("order.delivered", order_id=order.order_id, tracking=tracking)
    parcels = [
        lang.text(
            "order.parcel_delivered",
            contents=_shipment_contents(order, s, lang),
            date=lang.day(s.delivered_on),
            tracking=_tracking(s, lang),
        )
        for s in shipments
    ]
    return lang.text(
        "order.delivered_parcels",
        order_id=order.order_id,
        count=len(shipments),
        parcels=lang.text("format.group_separator").join(parcels),
    )


def _exchange_text(
    order: Order, new_options: Mapping[str, Mapping[str, str]], lang: Messages
) -> str:
    swaps = []
    for old, new in zip(order.exchange_item_ids, order.exchange_new_item_ids, strict=False):
        old_items = order.items_with_ids((old,))
        if not old_items:
            continue
        item, target = old_items[0], new_options.get(new)
        current = options_text(item.options, lang)
        if target and current:
            swaps.append(
                lang.text(
                    "order.swap", name=item.name, current=current, target=options_text(target, lang)
                )
            )
        else:
            swaps.append(item_text(item, lang))
    return lang.join(swaps) if swaps else lang.text("items.an_item")


def describe_order(
    order: Order, lang: Messages, new_options: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """A short, friendly status report for ``order``.

    Args:
        order: The order, already checked to belong to the shopper.
        lang: The conversation's messages.
        new_options: For an exchange, the options of each new item id
            (e.g. ``{"123": {"size": "10", "color": "blue"}}``); unknown ids are left out.
    """
    contents = lang.text(
        "order.contents", items=items_text(order.items, lang), total=lang.money(order.total)
    )
    placed = {"date": lang.day(order.placed_on)} if order.placed_on else {}
    suffix = "_placed" if placed else ""
    status, order_id = order.status, order.order_id
    if status in ("pending", "pending (item modified)"):
        key = "order.pending_modified" if status == "pending (item modified)" else "order.pending"
        return lang.sentences(lang.text(key + suffix, order_id=order_id, **placed), contents)
    if status == "processed":
        return lang.sentences(_in_transit(order, lang), contents)
    if status == "delivered":
        return lang.sentences(_delivered(order, lang), contents)
    if status == "cancelled":
        refund = (
            lang.text("order.refunded", amount=lang.money(order.refunded)) if order.refunded else ""
        )
        cancelled = lang.text("order.cancelled" + suffix, order_id=order_id, **placed)
        return lang.sentences(cancelled, refund, contents)
    if status == "return requested":
        returned = items_text(order.items_with_ids(order.return_item_ids), lang)
        opened = lang.text(
            "order.return_open",
            order_id=order_id,
            items=returned or lang.text("items.your_items"),
        )
        return lang.sentences(opened, _delivered(order, lang))
    exchange = _exchange_text(order, new_options or {}, lang)
    opened = lang.text("order.exchange_open", order_id=order_id, swaps=exchange)
    return lang.sentences(opened, _delivered(order, lang))
