"""The actions' message catalogs (data/lang/<language>/actions.yml) and how they are read."""

from __future__ import annotations

import datetime as dt
import logging
import re
import string
from pathlib import Path

import pytest
from action_server_helpers import ROOT

from actions.locale import CATALOG_FILE, Messages, read_catalog, response_text

LANG_DIR = ROOT / "data" / "lang"
SHIPPED = ("en", "zh", "es", "de", "fr")
ENGLISH = read_catalog(LANG_DIR / "en" / CATALOG_FILE)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_every_shipped_language_has_a_catalog_and_no_other_is_left_half_done() -> None:
    with_catalog = {p.parent.name for p in LANG_DIR.glob(f"*/{CATALOG_FILE}")}
    assert set(SHIPPED) == with_catalog
    # Each language that has domain responses also has the actions' words, and vice versa.
    with_responses = {p.parent.name for p in LANG_DIR.glob("*/responses.yml")}
    assert with_responses == with_catalog - {"en"}


@pytest.mark.parametrize("language", SHIPPED[1:])
def test_catalogs_have_the_same_keys_and_placeholders(language: str) -> None:
    catalog = read_catalog(LANG_DIR / language / CATALOG_FILE)
    assert sorted(set(ENGLISH) - set(catalog)) == [], "missing"
    assert sorted(set(catalog) - set(ENGLISH)) == [], "not in English"
    for key, template in ENGLISH.items():
        assert placeholders(catalog[key]) == placeholders(template), key


@pytest.mark.parametrize("language", SHIPPED[1:])
def test_catalogs_are_translated_not_copied(language: str) -> None:
    catalog = read_catalog(LANG_DIR / language / CATALOG_FILE)
    # Whole sentences must differ from the English; short labels (PayPal, "{name}: {values}")
    # may legitimately read the same.
    copied = [
        key
        for key, template in ENGLISH.items()
        if catalog[key] == template
        and len(re.findall(r"[a-z]+", re.sub(r"{\w+}", "", template))) > 2
    ]
    assert copied == []


@pytest.mark.parametrize(
    ("language", "long_day", "short_day", "amount"),
    [
        ("en", "Nov 21, 2026", "Sep 4", "$1,234.50"),
        ("es", "21 nov 2026", "4 sept", "1.234,50 US$"),
        ("de", "21. Nov. 2026", "4. Sept.", "1.234,50 $"),
        ("fr", "21 nov. 2026", "4 sept.", "1\u202f234,50\u00a0$US"),
        ("zh", "2026年11月21日", "9月4日", "US$1,234.50"),
    ],
)
def test_dates_and_money_per_language(
    language: str, long_day: str, short_day: str, amount: str
) -> None:
    lang = Messages.for_language(language)
    assert lang.language == language
    assert lang.day(dt.date(2026, 11, 21)) == long_day
    assert lang.short_day(dt.date(2026, 9, 4)) == short_day
    assert lang.money(1234.5) == amount
    assert lang.short_day(None) == ""


def test_lists_and_sentences_follow_the_language() -> None:
    english, chinese = Messages.for_language("en"), Messages.for_language("zh")
    assert english.join(["a", "b", "c"]) == "a, b and c"
    assert chinese.join(["甲", "乙", "丙"]) == "甲、乙和丙"
    assert Messages.for_language("de").join(["a", "b"]) == "a und b"
    assert english.sentences("One.", "", "Two.") == "One. Two."
    assert chinese.sentences("一。", "二。") == "一。二。"


@pytest.mark.parametrize("language", [None, "", "xx", "../en", 42, "klingon-KL"])
def test_an_unknown_or_missing_language_is_english(language: object) -> None:
    lang = Messages.for_language(language)
    assert lang.language == "en"
    assert lang.text("confirm.accept") == "Yes, go ahead"


def test_regional_codes_use_the_language() -> None:
    assert Messages.for_language("es-MX").language == "es"
    assert Messages.for_language("ZH_cn").language == "zh"


def _two_catalogs(tmp_path: Path) -> Path:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / CATALOG_FILE).write_text(
        'greet: "Hello {name}"\nbye: "Goodbye"\nformat: {sentence_gap: " "}\n', encoding="utf-8"
    )
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / CATALOG_FILE).write_text('greet: "Hallo {name}"\n', encoding="utf-8")
    return tmp_path


def test_a_missing_key_falls_back_to_english_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lang = Messages.for_language("xx", _two_catalogs(tmp_path))
    assert lang.language == "xx"
    assert lang.text("greet", name="Ana") == "Hallo Ana"
    with caplog.at_level(logging.WARNING, logger="actions.locale"):
        assert lang.text("bye") == "Goodbye"
        assert lang.text("bye") == "Goodbye"
    warnings = [r for r in caplog.records if "'bye'" in r.getMessage()]
    assert len(warnings) == 1
    with pytest.raises(KeyError):
        lang.text("nowhere")


def test_a_language_without_a_catalog_is_english(tmp_path: Path) -> None:
    folder = _two_catalogs(tmp_path)
    assert Messages.for_language("yy", folder).text("greet", name="Ana") == "Hello Ana"


def test_response_text_picks_the_conditional_variation_of_the_language() -> None:
    def condition(language: str) -> list[dict[str, str]]:
        return [{"type": "slot", "name": "language", "value": language}]

    domain = {
        "responses": {
            "utter_x": [
                {"text": "Which order?"},
                {"text": "¿Qué pedido?", "condition": condition("es")},
                {"text": "Welche Bestellung?", "condition": condition("de")},
            ]
        }
    }
    assert response_text(domain, "utter_x", "es") == "¿Qué pedido?"
    assert response_text(domain, "utter_x", "de") == "Welche Bestellung?"
    assert response_text(domain, "utter_x", "fr") == "Which order?"
    assert response_text(domain, "utter_y", "es") is None
