"""Placeholder filling: shop-profile values in, never a ``{{`` out."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from bot.knowledge import fill_placeholders, load_passages
from bot.knowledge.placeholders import fallback_phrase

KNOWLEDGE = Path(__file__).resolve().parents[2] / "data" / "knowledge"
PROFILE = {
    "shop_name": "Northwind Outfitters",
    "support_email": "help@northwind.example",
    "support_phone": "+1 555 0100",
    "support_hours": "Monday to Friday, 9am-6pm ET",
    "website_url": "https://northwind.example",
}


def test_known_placeholders_are_filled() -> None:
    text = "Write to {{Support Email}} or call {{Support Phone}} ({{Support Hours}})."

    assert fill_placeholders(text, PROFILE) == (
        "Write to help@northwind.example or call +1 555 0100 (Monday to Friday, 9am-6pm ET)."
    )


@pytest.mark.parametrize("key", ["Shop Name", "shop_name", "SHOP NAME", "shopName", "shop-name"])
def test_keys_match_whatever_their_case_and_spacing(key: str) -> None:
    assert fill_placeholders("Welcome to {{ shop  NAME }}!", {key: "Northwind"}) == (
        "Welcome to Northwind!"
    )


@pytest.mark.parametrize(
    ("placeholder", "phrase"),
    [
        ("{{Website URL}}", "our website"),
        ("{{Support Email}}", "our support email address"),
        ("{{Customer Support Phone Number}}", "our support phone line"),
        ("{{Shop Name}}", "our shop"),
        ("{{Order Number}}", "your order number"),
        ("{{Something Nobody Defined}}", "our support team"),
        ("{{}}", "our support team"),
    ],
)
def test_unknown_placeholders_become_neutral_phrases(placeholder: str, phrase: str) -> None:
    assert fill_placeholders(f"See {placeholder}.", {}) == f"See {phrase}."


def test_blank_values_count_as_missing() -> None:
    assert fill_placeholders("Visit {{Website URL}}", {"website_url": "  "}) == "Visit our website"


def test_values_and_malformed_templates_cannot_leak_braces() -> None:
    assert fill_placeholders("Hi {{Shop Name}}", {"shop_name": "{{evil}}"}) == "Hi evil"
    assert fill_placeholders("Broken {{Shop Name} and {{{x}}}", {}) == (
        "Broken Shop Name} and {our support team}"
    )
    assert fill_placeholders("{}}}{", {}) == ""


def test_fallback_phrase_prefers_the_most_specific_word() -> None:
    # "Support Hours" mentions support but is about time, "Shop Website" about the website.
    assert fallback_phrase("Support Hours") == "during our support hours"
    assert fallback_phrase("Shop Website") == "our website"


def test_random_text_never_shows_double_braces() -> None:
    rng = random.Random(7)
    pieces = ["{", "}", "{{", "}}", "Shop Name", "x", " ", "{{Support Email}}", "{{{", "}}}"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        for values in ({}, PROFILE):
            filled = fill_placeholders(text, values)
            assert "{{" not in filled, (text, filled)
            assert "}}" not in filled, (text, filled)


@pytest.mark.parametrize("values", [{}, PROFILE])
def test_every_shipped_passage_fills_cleanly(values: dict[str, str]) -> None:
    for passage in load_passages(KNOWLEDGE):
        for text in (passage.text, passage.heading, passage.title):
            filled = fill_placeholders(text, values)
            assert not re.search(r"[{}]", filled), passage.id
