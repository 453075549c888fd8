"""The invented customers and places of the demo shop (hand-written, fictional).

Two customers share the first name Emma on purpose: identification by first name alone must not
be possible. Streets and cities are ordinary names; zip codes are drawn per city's prefix.
"""

from __future__ import annotations

CUSTOMER_NAMES: tuple[tuple[str, str], ...] = (
    ("Emma", "Nguyen"),
    ("Liam", "Okafor"),
    ("Sofia", "Marquez"),
    ("Noah", "Lindqvist"),
    ("Ava", "Patel"),
    ("Mateo", "Rossi"),
    ("Emma", "Kowalski"),
    ("Ethan", "Brooks"),
    ("Chloe", "Tanaka"),
    ("Lucas", "Fernandes"),
    ("Grace", "Adeyemi"),
    ("Oliver", "Hughes"),
    ("Isabella", "Moreau"),
    ("Daniel", "Kim"),
    ("Amara", "Osei"),
    ("Henry", "Walsh"),
    ("Mia", "Johansson"),
    ("Samuel", "Ortiz"),
    ("Zoe", "Bennett"),
    ("Arjun", "Mehta"),
    ("Hannah", "Schmidt"),
    ("Caleb", "Reyes"),
    ("Leah", "Goldberg"),
    ("Omar", "Haddad"),
    ("Nora", "Sullivan"),
    ("Felix", "Wagner"),
    ("Priya", "Raman"),
    ("Jonah", "Price"),
    ("Ruby", "Castillo"),
    ("Theo", "Andersen"),
)
"""Thirty customers in file order; their order counts come from :data:`ORDER_COUNTS`."""

ORDER_COUNTS: tuple[int, ...] = (
    9,
    8,
    7,
    6,
    5,
    5,
    4,
    4,
    4,
    4,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    1,
    1,
    0,
)
"""Orders per customer, aligned with :data:`CUSTOMER_NAMES`: a few regulars, two customers with
exactly one order and one new account with none (102 orders in all)."""

CITIES: tuple[tuple[str, str, str], ...] = (
    ("Portland", "OR", "972"),
    ("Seattle", "WA", "981"),
    ("Denver", "CO", "802"),
    ("Boulder", "CO", "803"),
    ("Salt Lake City", "UT", "841"),
    ("Minneapolis", "MN", "554"),
    ("Asheville", "NC", "288"),
    ("Burlington", "VT", "054"),
    ("Austin", "TX", "787"),
    ("Madison", "WI", "537"),
    ("Sacramento", "CA", "958"),
    ("Bend", "OR", "977"),
)
"""(city, state, zip prefix): the first three digits of a zip code follow the city."""

STREETS: tuple[str, ...] = (
    "Alder Street",
    "Birch Lane",
    "Cedar Avenue",
    "Juniper Way",
    "Lakeview Drive",
    "Maple Court",
    "Meadow Road",
    "Pine Ridge Road",
    "Riverside Drive",
    "Summit Avenue",
    "Willow Street",
    "Canyon Trail",
)

CARD_BRANDS: tuple[str, ...] = ("visa", "mastercard", "amex", "discover")
