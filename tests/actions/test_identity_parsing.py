"""What the actions accept as an email, a zip code, a full name and an order number."""

from __future__ import annotations

import pytest

from actions.identity import (
    identify_by_zip_and_words,
    parse_email,
    parse_full_name,
    parse_zip,
)
from actions.order_status import parse_order_id
from actions.shop.port import Address, Customer


def _person(user_id: str, first: str, last: str, zip_code: str) -> Customer:
    address = Address("1 Main St", "", "Springfield", "IL", zip_code, "USA")
    return Customer(user_id, first, last, f"{user_id}@example.com", address, (), ())


PEOPLE = [
    _person("sofia_marquez", "Sofía", "Marquez", "28808"),
    _person("sofia_berg", "Sofia", "Berg", "28808"),
    _person("sofia_lopez", "Sofia", "Lopez", "99999"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Emma.Nguyen9006@Example.com", "emma.nguyen9006@example.com"),
        ("my email is  liam+shop@mail.example.org, thanks", "liam+shop@mail.example.org"),
        ("emma at example dot com", None),
        ("emma@example", None),
        ("", None),
    ],
)
def test_parse_email(text: str, expected: str | None) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("97201", "97201"),
        ("it's 97201-1234", "97201"),
        ("9720", None),
        ("972011", None),
        ("97201 or 80202", None),
    ],
)
def test_parse_zip(text: str, expected: str | None) -> None:
    assert parse_zip(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("emma nguyen", "Emma Nguyen"),
        ("My name is Mary Ann O'Neil.", "Mary Ann O'Neil"),
        ("I'm Jean-Luc Picard", "Jean-Luc Picard"),
        ("McKenzie van Dyke", "McKenzie van Dyke"),
        ("Emma", None),
        ("Emma 97201", None),
        ("emma@example.com", None),
    ],
)
def test_parse_full_name(text: str, expected: str | None) -> None:
    assert parse_full_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#4821937", "#4821937"),
        ("order 4821937 please", "#4821937"),
        ("order#4821937", "#4821937"),
        ("# 4821937", "#4821937"),
        ("#W4821937", "#W4821937"),
        ("48219370", None),
        ("my phone is 5551234567", None),
        ("482193", None),
    ],
)
def test_parse_order_id(text: str, expected: str | None) -> None:
    assert parse_order_id(text) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["hola soy sofia marquez cp 28808, quiero cancelar"], "sofia_marquez"),
        (["28808 — Márquez, Sofía"], "sofia_marquez"),
        (["je suis sofia", "marquez, 28808"], "sofia_marquez"),  # over two messages
        (["我是Sofia Marquez，邮编28808"], "sofia_marquez"),  # no space before the name
        (["sofia here, 28808"], None),  # the first name fits two accounts
        (["soy sofia lopez, 28808"], None),  # no account with that name there
        (["soy sofia lopez"], None),  # an account of another zip code is not tried
        (["emmanuel sofia marquezz"], None),  # whole words only
    ],
)
def test_identify_by_zip_and_words(texts: list[str], expected: str | None) -> None:
    class Shop:
        def find_customers_by_zip(self, zip_code: str) -> list[Customer]:
            return [c for c in PEOPLE if c.address.zip == zip_code]

    found = identify_by_zip_and_words(Shop(), "28808", texts)  # type: ignore[arg-type]
    assert (found.user_id if found else None) == expected
