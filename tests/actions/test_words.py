"""The shopper's words for the shop's fixed choices (data/lang/<language>/words.yml): refund and
payment methods and cancellation reasons, read in every shipped language."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.locale import lang_dir
from actions.shop.port import PaymentMethod
from actions.words import WORDS_FILE, WordsError, read_words
from actions.write_text import parse_cancel_reason, parse_payment_method

CARD = PaymentMethod("credit_card_1", "credit_card", "amex", "1402")
GIFT = PaymentMethod("gift_card_1", "gift_card")
PAYPAL = PaymentMethod("paypal_1", "paypal")
METHODS = [CARD, GIFT, PAYPAL]


def test_every_shipped_language_has_its_words() -> None:
    languages = {p.parent.name for p in lang_dir().glob("*/actions.yml")}
    assert languages == {p.parent.name for p in lang_dir().glob(f"*/{WORDS_FILE}")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("put it on my amex instead", "credit_card_1"),
        ("to my gift card please", "gift_card_1"),
        ("refund it to my PayPal", "paypal_1"),
        ("avec remboursement sur ma carte de crédit", "credit_card_1"),
        ("si hay diferencia, a la tarjeta regalo", "gift_card_1"),
        ("bitte auf den Gutschein", "gift_card_1"),
        ("退到礼品卡就行", "gift_card_1"),
        ("退回信用卡", "credit_card_1"),
        ("sur la carte cadeau", "gift_card_1"),  # a "carte" that is the gift card
        ("the cardigan", None),  # a word inside another is no word
        ("whatever", None),
    ],
)
def test_methods_are_named_in_any_shipped_language(text: str, expected: str | None) -> None:
    assert parse_payment_method(text, METHODS) == expected


def test_the_original_method_in_other_languages() -> None:
    assert parse_payment_method("差价退回原来的付款方式就行", METHODS, "paypal_1") == "paypal_1"
    assert parse_payment_method("auf die ursprüngliche Zahlungsart", METHODS, "gift_card_1") == (
        "gift_card_1"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I ordered it by mistake", "ordered by mistake"),
        ("don't need it anymore", "no longer needed"),
        ("Bitte storniert meine Bestellung, brauche ich nicht mehr.", "no longer needed"),
        ("lo pedí por error", "ordered by mistake"),
        ("j'ai commandé par erreur", "ordered by mistake"),
        ("不小心下单了", "ordered by mistake"),
        ("不需要了", "no longer needed"),
        ("please cancel it", None),
    ],
)
def test_cancel_reasons_in_any_shipped_language(text: str, expected: str | None) -> None:
    assert parse_cancel_reason(text) == expected


def test_a_malformed_words_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / WORDS_FILE).write_text("payment:\n  paypal: paypal\n", encoding="utf-8")
    with pytest.raises(WordsError, match=r"xx/words.yml: `payment.paypal` must be a list"):
        read_words(tmp_path)
