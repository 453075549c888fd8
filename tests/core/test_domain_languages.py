"""The domain's responses in every shipped language (data/lang/<language>/responses.yml)."""

from __future__ import annotations

import logging
import string
from pathlib import Path

import pytest
import yaml

from actions.locale import response_text
from bot.config import ROOT
from bot.errors import ConfigError
from bot.policy.rasa_domain import RasaDomain

DOMAIN_PATH = ROOT / "data" / "domain.yml"
LANG_DIR = ROOT / "data" / "lang"
SHIPPED = ("de", "es", "fr", "zh")


@pytest.fixture(scope="module")
def domain() -> RasaDomain:
    return RasaDomain.load(DOMAIN_PATH)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_the_shipped_languages_are_loaded(domain: RasaDomain) -> None:
    assert domain.languages == SHIPPED


@pytest.mark.parametrize("language", SHIPPED)
def test_every_response_has_a_translation(domain: RasaDomain, language: str) -> None:
    translated = domain.translations[language]
    assert sorted(set(domain.responses) - set(translated)) == []
    # and nothing else: a name the domain lacks (a typo, a dropped response) is never sent
    raw = yaml.safe_load((LANG_DIR / language / "responses.yml").read_text(encoding="utf-8"))
    assert sorted(set(raw) - set(domain.responses)) == []


@pytest.mark.parametrize("language", SHIPPED)
def test_translations_keep_placeholders_and_payloads(domain: RasaDomain, language: str) -> None:
    for name, english in domain.responses.items():
        for variant in domain.translations[language][name]:
            assert variant.text != english[0].text, name
            assert placeholders(variant.text) == placeholders(english[0].text), name
            # Titles are translated, payloads are what the bot reads: kept as they are.
            assert [b.payload for b in variant.buttons] == [b.payload for b in english[0].buttons]
            assert all(b.title for b in variant.buttons), name


def test_render_picks_the_language(domain: RasaDomain) -> None:
    values = {"shop_name": "Summit Outfitters"}
    english = domain.render("utter_greet", values)
    assert english.text.startswith("Hi!")
    assert domain.render("utter_greet", values, language="es").text.startswith("¡Hola!")
    assert domain.render("utter_greet", values, language="es-MX").text.startswith("¡Hola!")
    assert "Summit Outfitters" in domain.render("utter_greet", values, language="zh").text
    offer = domain.render("utter_offer_handoff", {}, language="de")
    assert [b.title for b in offer.buttons] == ["Mit einer Person sprechen", "Nein, danke"]
    assert [b.payload for b in offer.buttons] == ["/contact_human_agent", "/deny"]


@pytest.mark.parametrize("language", [None, "", "pt", "EN"])
def test_an_untranslated_language_gets_the_shops_own(
    domain: RasaDomain, language: str | None
) -> None:
    assert (
        domain.render("utter_thanks", {}, language=language).text
        == domain.render("utter_thanks", {}).text
    )


def _domain_with(tmp_path: Path, translation: str) -> Path:
    (tmp_path / "domain.yml").write_text(
        "responses:\n  utter_a:\n    - text: 'Hello {shop_name}'\n  utter_b:\n    - text: 'Bye'\n",
        encoding="utf-8",
    )
    (tmp_path / "lang" / "xx").mkdir(parents=True, exist_ok=True)
    (tmp_path / "lang" / "xx" / "responses.yml").write_text(translation, encoding="utf-8")
    return tmp_path / "domain.yml"


def test_a_response_missing_in_a_language_falls_back_to_the_shops(tmp_path: Path) -> None:
    domain = RasaDomain.load(_domain_with(tmp_path, "utter_a:\n  - text: 'Hallo {shop_name}'\n"))
    assert domain.render("utter_a", {"shop_name": "S"}, language="xx").text == "Hallo S"
    assert domain.render("utter_b", {}, language="xx").text == "Bye"
    sent = domain.for_action_server()["responses"]
    assert response_text({"responses": sent}, "utter_b", "xx") == "Bye"


def test_a_translation_of_an_unknown_response_is_left_out_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.policy.rasa_domain"):
        domain = RasaDomain.load(_domain_with(tmp_path, "utter_typo:\n  - text: 'x'\n"))
    assert "utter_typo" not in domain.translations["xx"]
    assert any("utter_typo" in r.getMessage() for r in caplog.records)
    assert "utter_typo" not in domain.for_action_server()["responses"]


def test_a_translation_without_text_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a text"):
        RasaDomain.load(_domain_with(tmp_path, "utter_a:\n  - buttons: []\n"))


def test_action_server_gets_translations_as_conditional_variations(domain: RasaDomain) -> None:
    sent = domain.for_action_server()
    variants = sent["responses"]["utter_ask_order_id"]
    # The shop's own variant first and without a condition, then one per language.
    assert "condition" not in variants[0]
    conditions = [v["condition"] for v in variants[1:]]
    assert conditions == [
        [{"type": "slot", "name": "language", "value": language}] for language in SHIPPED
    ]
    for language in SHIPPED:
        expected = domain.render("utter_ask_order_id", {}, language=language).text
        assert response_text(sent, "utter_ask_order_id", language) == expected
    # The rest of the domain travels unchanged, and the loaded domain is not altered.
    assert sent["slots"] == domain.raw["slots"]
    assert all("condition" not in v for v in domain.raw["responses"]["utter_ask_order_id"])
    assert "language" in sent["slots"]
