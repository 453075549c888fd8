"""Reading the details of an order change from what the shopper typed.

Each parser looks only at the customer's own order, products and payment methods, so it
picks among a handful of known choices rather than understanding free text in general; when a
message is ambiguous the parser returns nothing and the form asks, with buttons.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from actions.shop.port import (
    Address,
    CancelReason,
    Customer,
    Order,
    OrderItem,
    PaymentMethod,
    Product,
)
from actions.words import shop_words

_ALL_ITEMS = re.compile(
    r"\b(all( of)?( the)?( items| them| it)?|everything|every item|both|whole order|"
    r"entire order)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+")
_SEVERAL = re.compile(r"\b(both|two|three|all|each|every|them)\b", re.I)
_ADDRESS = re.compile(
    r"(?<![#\w])(?P<address1>\d{1,6}\s+[A-Za-z][^,]*?),\s*"
    r"(?:(?P<address2>[^,]+?),\s*)?(?P<city>[^,\d]+?),?\s+"
    r"(?P<state>[A-Za-z]{2})\s*,?\s+(?P<zip>\d{5})(?:-\d{4})?"
    r"(?:\s*,?\s*(?:USA|US|United States))?",
    re.IGNORECASE,
)


def words(text: str) -> set[str]:
    """The lower-case words of ``text``, each also without a plural ``s`` ("shoes" -> "shoe")."""
    found = set(_WORD.findall(text.lower()))
    return found | {w[:-1] for w in found if len(w) > 3 and w.endswith("s")}


def parse_cancel_reason(text: str) -> CancelReason | None:
    """One of tau-bench's two cancel reasons, from the shopper's words in any shipped language
    (``cancel_reason.*`` of data/lang/<language>/words.yml)."""
    said = shop_words()
    if said.says("cancel_reason.ordered_by_mistake", text):
        return "ordered by mistake"
    if said.says("cancel_reason.no_longer_needed", text):
        return "no longer needed"
    return None


def parse_address(text: str) -> Address | None:
    """A US address written on one line: "12 Oak St, Apt 4, Portland, OR 97201" (unit optional)."""
    match = _ADDRESS.search(text)
    if match is None:
        return None
    return Address(
        address1=match["address1"].strip(),
        address2=(match["address2"] or "").strip(),
        city=match["city"].strip(),
        state=match["state"].upper(),
        zip=match["zip"],
        country="USA",
    )


def address_text(address: Address) -> str:
    """``"12 Oak St, Apt 4, Portland, OR 97201"``."""
    lines = [address.address1, address.address2, address.city, f"{address.state} {address.zip}"]
    return ", ".join(line for line in lines if line)


def _option_mentioned(key: str, value: str, text: str) -> bool:
    """Whether ``text`` names option ``key: value`` ("size 10", "blue", "size M")."""
    lowered, value_l = text.lower().strip(" .!"), value.lower()
    if lowered == value_l:
        return True
    escaped = re.escape(value_l)
    if re.search(rf"\b{re.escape(key.lower())}\s*:?\s*{escaped}(?![\w/])", lowered):
        return True
    # A bare one-letter size ("m") is too often part of another word ("I'm") to count alone.
    return len(value_l) > 1 and re.search(rf"(?<![\w#/]){escaped}(?![\w/])", lowered) is not None


def _noun(name: str) -> str | None:
    """The last word of a product name is its noun ("Trail Runner Shoe" -> "shoe")."""
    name_words = [w for w in _WORD.findall(name.lower()) if len(w) > 2]
    return name_words[-1] if name_words else None


def _named_items(order: Order, text: str) -> list[OrderItem]:
    """Items named in full, or by their noun when no item with that noun is named in full.

    "the Digital Camera" names the digital camera, not also the order's action camera;
    "the camera" names both.
    """
    lowered, text_words = text.lower(), words(text)
    in_full = [item for item in order.items if item.name.lower() in lowered]
    nouns_in_full = {_noun(item.name) for item in in_full}
    by_noun = [
        item
        for item in order.items
        if item not in in_full
        and (noun := _noun(item.name)) is not None
        and noun in text_words
        and noun not in nouns_in_full
    ]
    return [item for item in order.items if item in in_full or item in by_noun]


def _several(name: str, text: str) -> bool:
    """Whether ``text`` speaks of more than one ``name`` ("both", "two", "the bottles")."""
    noun = _noun(name)
    plural = noun is not None and re.search(rf"\b{re.escape(noun)}(e?s)\b", text.lower())
    return bool(plural or _SEVERAL.search(text))


def named_item_ids(order: Order, text: str) -> list[str]:
    """Ids of the order's items that ``text`` names by product (not "all"); may be empty."""
    return [item.item_id for item in _named_items(order, text)]


def order_named_by_items(
    orders: Sequence[Order], text: str, products: Collection[str] = ()
) -> Order | None:
    """The one order among ``orders`` whose items the shopper names ("my tent order", "the one
    with the trekking poles"), or None when none or several fit equally well.

    ``products`` are the product names the NLU read in the message (in any language, through
    the shop's glossaries); the English words are also matched against the items' names.
    """
    # The order holding the most of the items named: "the one with the camp stove and the mug"
    # is the order with both, not also the other one with a camp stove.
    named = [
        len(
            {i.name for i in order.items if i.name in products}
            | {i.name for i in _named_items(order, text)}
        )
        for order in orders
    ]
    most = max(named, default=0)
    fitting = [order for order, count in zip(orders, named, strict=True) if count and count == most]
    return fitting[0] if len(fitting) == 1 else None


def parse_items(order: Order, text: str) -> list[str] | None:
    """The order's item ids the shopper names; ``None`` when none is named.

    "all"/"everything" names every item. Items sharing a name are told apart by how many of
    their option values the text mentions ("the clicky white 80% keyboard" is not the clicky
    RGB 60% one); when no option is mentioned, all of them are taken.
    """
    if _ALL_ITEMS.search(text):
        return [item.item_id for item in order.items]
    named = _named_items(order, text)
    if not named:
        return None
    chosen: list[OrderItem] = []
    for name in dict.fromkeys(item.name for item in named):
        namesakes = [item for item in named if item.name == name]
        mentions = [
            sum(_option_mentioned(k, v, text) for k, v in item.options.items())
            for item in namesakes
        ]
        best = max(mentions)
        tied = [i for i, m in zip(namesakes, mentions, strict=True) if m == best or best == 0]
        if len({i.item_id for i in tied}) == 1 and not _several(name, text):
            tied = tied[:1]  # identical units, named in the singular: one of them
        chosen += tied
    order_of = {item.item_id: n for n, item in enumerate(order.items)}
    return [item.item_id for item in sorted(chosen, key=lambda i: order_of[i.item_id])]


def parse_payment_method(
    text: str, methods: Sequence[PaymentMethod], original_id: str | None = None
) -> str | None:
    """The one method among ``methods`` the shopper names, or ``None``.

    "original"/"same card" means the order's original method when it is allowed.
    """
    lowered = text.lower()
    ids = {m.method_id for m in methods}
    if original_id in ids and shop_words().says("payment.original", text):
        return original_id
    candidates = [m for m in methods if m.method_id.lower() in lowered]
    if not candidates:
        candidates = [m for m in methods if m.last_four and m.last_four in lowered]
    if not candidates:
        candidates = [m for m in methods if _source_mentioned(m, lowered)]
    return candidates[0].method_id if len(candidates) == 1 else None


def _source_mentioned(method: PaymentMethod, lowered: str) -> bool:
    """Whether the shopper names the kind of ``method`` (words of data/lang/*/words.yml)."""
    said = shop_words()
    if method.source == "credit_card":
        brand = (method.brand or "").lower()
        if brand and (said.says(f"brand.{brand}", lowered) or brand in lowered):
            return True
        # "card" names a credit card unless it is the gift card being named.
        return said.says("payment.credit_card", lowered) and not said.says(
            "payment.gift_card", lowered
        )
    if said.says(f"payment.{method.source}", lowered):
        return True
    return method.source.replace("_", " ") in lowered


_SAME_AGAIN = re.compile(
    r"\b(the )?same (one|item|thing|again|model|variant)\b|\breplacement\b", re.I
)


def choose_variant(
    item: OrderItem,
    product: Product,
    text: str,
    named: Collection[str] = (),
    *,
    shared: bool = False,
) -> str | None:
    """The available variant of ``product`` the shopper asks for instead of ``item``.

    Options the shopper names must match; options not named stay as they were. Returns the
    variant's item id only when exactly one variant fits. "The same one again" (or "a
    replacement") with no other option named is the item's own variant, while in stock.
    ``named`` holds the option values the NLU found in the message through the shop's
    glossaries ("schwarz" and "M码" read as black and M), lower-cased. ``shared``: the message
    names several items, so its options cannot be told apart ("the mouse (black) and the
    bookshelf (brown)"): an item whose own value is among them is left as it is.
    """
    others = [v for v in product.available_variants if v.item_id != item.item_id]
    mentioned: dict[str, set[str]] = {}
    for variant in others:
        for key, value in variant.options.items():
            if value.lower() in named or _option_mentioned(key, value, text):
                mentioned.setdefault(key, set()).add(value)
    # Naming only what the item already is ("the navy jogger") asks for no change, unless
    # the shopper asks for the same one again: a replacement of a faulty item.
    as_it_is = all(
        item.options.get(key) in values if shared else values == {item.options.get(key)}
        for key, values in mentioned.items()
    )
    if as_it_is:
        own = next((v for v in product.available_variants if v.item_id == item.item_id), None)
        return own.item_id if own is not None and _SAME_AGAIN.search(text) else None
    # "from blue to black" names both colours: the new one is the one that differs.
    for key, values in mentioned.items():
        if len(values) > 1 and item.options.get(key) in values:
            values.discard(item.options[key])
    fitting = [
        v for v in others if all(v.options.get(k) in values for k, values in mentioned.items())
    ]
    unchanged = [
        v
        for v in fitting
        if all(v.options.get(k) == item.options.get(k) for k in v.options if k not in mentioned)
    ]
    best = unchanged or fitting
    return best[0].item_id if len(best) == 1 else None


def refund_methods(customer: Customer, order: Order) -> list[PaymentMethod]:
    """Where a return may be refunded: the original payment method or one of the gift cards."""
    original = order.payments[0].payment_method_id if order.payments else None
    return [
        m for m in customer.payment_methods if m.method_id == original or m.source == "gift_card"
    ]


def new_payment_methods(customer: Customer, order: Order) -> list[PaymentMethod]:
    """The account's methods a pending order may be moved to: any but the one that paid it."""
    current = original_method(order)
    return [m for m in customer.payment_methods if m.method_id != current]


def original_method(order: Order) -> str | None:
    """The payment method the order was paid with."""
    return order.payments[0].payment_method_id if order.payments else None


def customer_method(customer: Customer, method_id: str | None) -> PaymentMethod | None:
    """The customer's payment method ``method_id`` (``None`` when it is not on the account)."""
    return next((m for m in customer.payment_methods if m.method_id == method_id), None)


def chosen_items(order: Order, item_ids: Sequence[str]) -> list[OrderItem]:
    """The order's items for ``item_ids``, one item per id occurrence (duplicates kept apart)."""
    remaining = list(order.items)
    found: list[OrderItem] = []
    for item_id in item_ids:
        match = next((item for item in remaining if item.item_id == item_id), None)
        if match is not None:
            remaining.remove(match)
            found.append(match)
    return found


def variant_price(product: Product | None, item_id: str) -> float | None:
    """The price of variant ``item_id`` of ``product``."""
    for variant in product.variants if product else ():
        if variant.item_id == item_id:
            return variant.price
    return None


def variant_options(product: Product | None, item_id: str) -> Mapping[str, str]:
    """The options of variant ``item_id`` of ``product`` (empty when unknown)."""
    for variant in product.variants if product else ():
        if variant.item_id == item_id:
            return variant.options
    return {}
