"""Redaction of personal data in free text, in the five languages the bot speaks.

The data is real-looking (valid card numbers, numbers in each country's format, addresses as
people write them); the near misses are what a shop's messages are full of and must survive:
order ids, prices, dates, sizes, zip codes, item ids.
"""

from __future__ import annotations

import pytest

from bot.privacy.redact import luhn_valid, redact

REDACTED = [
    # emails
    ("my email is Maya.Lind+shop@example.co.uk thanks", "my email is [email] thanks"),
    ("mi correo: jose.garcia@correo.es", "mi correo: [email]"),
    ("我的邮箱是wang.fang@163.com", "我的邮箱是[email]"),
    # phone numbers, international and local
    ("call me at +1 (555) 123-4567 or 555-123-4567", "call me at [phone] or [phone]"),
    ("Mi teléfono es +34 612 345 678, o 612 34 56 78", "Mi teléfono es [phone], o [phone]"),
    ("Meine Nummer: 0151 23456789 oder +49 30 12345678", "Meine Nummer: [phone] oder [phone]"),
    ("appelez le 06 12 34 56 78 ou +33 6 12 34 56 78", "appelez le [phone] ou [phone]"),
    ("ruf 030/1234567 an", "ruf [phone] an"),
    ("我的手机是13800138000，或者 +86 138 0013 8000", "我的手机是[phone]，或者 [phone]"),
    ("0033 1 42 68 53 00 is the office", "[phone] is the office"),
    # payment cards (Luhn-valid), with spaces, dashes or none
    ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"),
    ("Mastercard 5500-0000-0000-0004", "Mastercard [card]"),
    ("tarjeta 4242424242424242", "tarjeta [card]"),
    ("Amex 3782 822463 10005", "Amex [card]"),
    # street addresses
    ("ship to 742 Evergreen Terrace, Springfield", "ship to [address], Springfield"),
    ("1600 Pennsylvania Avenue NW, Washington", "[address], Washington"),
    ("I live at 221B Baker Street, London", "I live at [address], London"),
    ("new address: 123 main st apt 4b", "new address: [address]"),
    ("Envíalo a Calle Mayor 12, 3º B, Madrid", "Envíalo a [address], Madrid"),
    ("Avenida de la Constitución, 45", "[address]"),
    ("Lieferung an Hauptstraße 5, 10115 Berlin", "Lieferung an [address], 10115 Berlin"),
    ("bitte an Berliner Str. 12a", "bitte an [address]"),
    ("Livrez au 12 rue de la Paix, 75002 Paris", "Livrez au [address], 75002 Paris"),
    ("45 bis avenue des Champs-Élysées", "[address]"),
    ("请寄到北京市朝阳区建国路88号，谢谢", "请寄到[address]，谢谢"),
    ("地址：上海市浦东新区世纪大道100号 2单元 301室", "地址：[address]"),
]

KEPT = [
    "order #W1234567 costs $1,299.99, order 5004592",
    "cancel #5004592 and #W2611340 please",
    "it was 49,90 € on 2024-03-15 10:30, delivered 15.03.2024",
    "delivered on 03/15/2024 at 9:45",
    "size 32x34, or 10.5, waist 32",
    "I walked 5 miles down the road",
    "I need 2 pairs for the way home",
    "zip 28850",
    "Größe 42 bitte, Ring 5",
    "tracking 1Z999AA10123456784",
    "item ids 1008292230 and 2509076505",
    "The order #5004592 total 1234.56",
    "3 items, 2 days",
    "订单 #W2611340 价格 ¥299",
    "talla 42, 3 pares por 59,99 €",
    "la taille 38 coûte 120 €",
    "4111 1111 1111 1112 is not a valid card",
    "client 192.168.100.200 at 1765400000123 ms",
    "ticket 8000000000000003 (Luhn-valid, but no card network starts with 8)",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_personal_data_is_replaced_by_its_kind(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_near_misses_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent_and_keeps_the_rest_of_a_sentence() -> None:
    text = (
        "Hi, I'm Noah, order #W7654321 (€89.00): send it to 12 rue de la Paix, "
        "mail noah@example.fr, tel +33 6 12 34 56 78, paid with 4111-1111-1111-1111"
    )
    once = redact(text)
    assert once == (
        "Hi, I'm Noah, order #W7654321 (€89.00): send it to [address], "
        "mail [email], tel [phone], paid with [card]"
    )
    assert redact(once) == once
    assert redact("") == ""


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
