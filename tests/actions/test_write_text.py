"""Reading the items of an order from what the shopper wrote."""

from __future__ import annotations

import pytest

from actions.shop.port import Address, Order, OrderItem, Product, Variant
from actions.write_text import choose_variant, order_named_by_items, parse_items

ADDRESS = Address("1 Main St", "", "Austin", "TX", "78701", "USA")


def order(*items: tuple[str, str, dict[str, str]]) -> Order:
    return Order(
        order_id="#W1000000",
        user_id="u",
        status="delivered",
        address=ADDRESS,
        items=tuple(
            OrderItem(name=name, product_id=f"p-{name}", item_id=item_id, price=10.0, options=opts)
            for item_id, name, opts in items
        ),
        fulfillments=(),
        payments=(),
    )


CAMERAS = order(
    ("1", "Digital Camera", {"resolution": "24MP", "zoom": "3x", "storage": "SD card"}),
    ("2", "Action Camera", {"resolution": "4K", "waterproof": "yes", "color": "black"}),
)
KEYBOARDS = order(
    ("1", "Mechanical Keyboard", {"switch type": "clicky", "backlight": "white", "size": "80%"}),
    ("2", "Mechanical Keyboard", {"switch type": "clicky", "backlight": "RGB", "size": "60%"}),
    ("3", "Garden Hose", {"length": "50ft", "material": "vinyl", "color": "black"}),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("change the Digital Camera (24MP, 3x, SD card)", ["1"]),
        ("return the action camera please", ["2"]),
        ("return the camera", ["1", "2"]),  # the noun alone names both
        ("the Digital Camera and the Action Camera", ["1", "2"]),
    ],
)
def test_a_full_name_outranks_a_shared_noun(text: str, expected: list[str]) -> None:
    assert parse_items(CAMERAS, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "clicky" fits both keyboards; white and 80% only the first
        ("exchange the Mechanical Keyboard (clicky, white, size 80%)", ["1"]),
        ("the RGB keyboard", ["2"]),
        ("return the keyboards", ["1", "2"]),
        ("the white keyboard and the RGB one, and the hose", ["1", "2", "3"]),
        ("the 80% keyboard and the garden hose", ["1", "3"]),
        ("the toaster", None),
    ],
)
def test_namesakes_are_told_apart_by_the_options_mentioned(
    text: str, expected: list[str] | None
) -> None:
    assert parse_items(KEYBOARDS, text) == expected


PUFFER = Product(
    "p-puffer",
    "Down Puffer Jacket",
    (
        Variant("xs-black", {"size": "XS", "color": "black"}, False, 200.0),
        Variant("xs-olive", {"size": "XS", "color": "olive"}, True, 200.0),
        Variant("s-black", {"size": "S", "color": "black"}, True, 200.0),
        Variant("s-olive", {"size": "S", "color": "olive"}, True, 200.0),
    ),
)
XS_BLACK = OrderItem(
    "Down Puffer Jacket", "p-puffer", "xs-black", 200.0, {"size": "XS", "color": "black"}
)


@pytest.mark.parametrize(
    ("text", "named", "expected"),
    [
        # The item's own options beside the new ones: the new size is the one that differs.
        ("the XS in black is too small, I'd like size S in black", (), "s-black"),
        ("from XS to size S please", (), "s-black"),
        # Only what the item already is: no change asked.
        ("the black XS one", (), None),
        # Option words the NLU read through the shop's glossary ("S 码黑色的": S, black).
        ("想换成 S 码黑色的", ("s", "black"), "s-black"),
        ("gern in Oliv", ("olive",), "xs-olive"),
    ],
)
def test_the_new_variant_is_read_from_the_options_named(
    text: str, named: tuple[str, ...], expected: str | None
) -> None:
    assert choose_variant(XS_BLACK, PUFFER, text, frozenset(named)) == expected


def _order(order_id: str, *names: str) -> Order:
    return Order(
        order_id=order_id,
        user_id="u",
        status="pending",
        address=ADDRESS,
        items=tuple(
            OrderItem(
                name=name, product_id=f"p-{name}", item_id=f"{order_id}-{i}", price=1.0, options={}
            )
            for i, name in enumerate(names)
        ),
        fulfillments=(),
        payments=(),
    )


ORDERS = [
    _order("#1", "Ultralight Tent 2P", "Fleece Jogger"),
    _order("#2", "Trekking Pole Pair", "Merino Beanie"),
    _order("#3", "Merino Beanie", "Touchscreen Glove"),
]


@pytest.mark.parametrize(
    ("text", "products", "expected"),
    [
        ("whats going on with my tent order??", (), "#1"),
        ("有登山杖的那个", ("Trekking Pole Pair",), "#2"),
        ("the one with the beanie", (), None),  # two orders have one
        ("the one with the beanie and the gloves", (), "#3"),  # the order with both
        ("die mit der Mütze und den Stöcken", ("Merino Beanie", "Trekking Pole Pair"), "#2"),
        ("the one with the gloves", (), "#3"),
        ("where is my order", (), None),
    ],
)
def test_an_order_is_named_by_its_items(
    text: str, products: tuple[str, ...], expected: str | None
) -> None:
    named = order_named_by_items(ORDERS, text, products)
    assert (named.order_id if named else None) == expected


def test_the_variant_the_shopper_named_is_priced() -> None:
    from actions.locale import Messages
    from actions.product_info import describe_variant

    english, spanish = Messages.for_language("en"), Messages.for_language("es")
    assert describe_variant(PUFFER, english, ["S", "black"]) == (
        "The Down Puffer Jacket in S, black costs $200.00 and is in stock."
    )
    assert describe_variant(PUFFER, english, ["xs", "BLACK"]) == (
        "The Down Puffer Jacket in XS, black costs $200.00 but is sold out at the moment."
    )
    assert "agotado" not in (describe_variant(PUFFER, spanish, ["olive"]) or "")
    # Values this product does not come in: nothing to say.
    assert describe_variant(PUFFER, english, ["navy"]) is None


def test_options_of_a_message_naming_several_items_are_not_moved_between_them() -> None:
    # "exchange the puffer (XS, black) and the cap (olive)": the cap's olive is no new colour
    # for the puffer, whose own black is named beside it.
    text = "exchange the puffer (XS, black) and the cap (olive)"
    assert choose_variant(XS_BLACK, PUFFER, text, frozenset(), shared=True) is None
    # Said of the puffer alone, "from black to olive" is a new colour.
    assert choose_variant(XS_BLACK, PUFFER, "the puffer from black to olive") == "xs-olive"
