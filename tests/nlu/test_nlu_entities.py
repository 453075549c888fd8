"""Entity extractors: each type, value normalisation, offsets, overlaps, requested_slot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.nlu.catalog import Catalog, CatalogExtractor, load_catalog
from bot.nlu.entities import EntityExtractor, RasaEntity
from bot.nlu.training_data import load_nlu_yaml

from .conftest import REPO

PRODUCTS = REPO / "data/shop/products.json"


def found(entities: list[RasaEntity]) -> list[tuple[str, str]]:
    return [(e["entity"], e["value"]) for e in entities]


def check_offsets(text: str, entities: list[RasaEntity]) -> None:
    """Every entity's offsets cut a non-empty, whitespace-trimmed piece of the text."""
    for entity in entities:
        piece = text[entity["start"] : entity["end"]]
        assert piece, entity
        assert piece == piece.strip(), entity
        assert set(entity) == {"entity", "value", "start", "end", "extractor", "confidence"}
        assert 0.0 < entity["confidence"] <= 1.0


@pytest.fixture
def rules() -> EntityExtractor:
    return EntityExtractor()


@pytest.mark.parametrize(
    ("text", "expected", "surface"),
    [
        ("mail me at Jane.Doe@Example.COM please", ("email", "jane.doe@example.com"), None),
        ("order #4821937 is late", ("order_id", "#4821937"), "#4821937"),
        ("order #w1234567 is late", ("order_id", "#W1234567"), "#w1234567"),
        ("it's # 4821937", ("order_id", "#4821937"), "# 4821937"),
        ("where is order number 4821937?", ("order_id", "#4821937"), "4821937"),
        ("ship to 94110", ("zip_code", "94110"), "94110"),
        # Chinese characters are no word of a spaced script: a number may touch them.
        ("我叫王芳，邮编55442，谢谢", ("zip_code", "55442"), "55442"),
        ("订单#1775018的状态", ("order_id", "#1775018"), "#1775018"),
        ("ship to 94110-1234", ("zip_code", "94110"), "94110-1234"),
        ("I paid $12.50 for it", ("money", "12.50 USD"), "$12.50"),
        ("it was 12 dollars", ("money", "12.00 USD"), "12 dollars"),
        ("costs €30", ("money", "30.00 EUR"), "€30"),
        ("refund $1,299 please", ("money", "1299.00 USD"), "$1,299"),
        ("my name is emma nguyen", ("person", "Emma Nguyen"), "emma nguyen"),
        ("name: Sofia Rossi", ("person", "Sofia Rossi"), "Sofia Rossi"),
        ("Hi, I'm Carlos Mendez and I need help", ("person", "Carlos Mendez"), "Carlos Mendez"),
        ("this is Priya Patel", ("person", "Priya Patel"), "Priya Patel"),
    ],
)
def test_each_rule_extractor(
    rules: EntityExtractor, text: str, expected: tuple[str, str], surface: str | None
) -> None:
    entities = rules.extract(text)

    assert found(entities) == [expected]
    check_offsets(text, entities)
    if surface is not None:
        assert text[entities[0]["start"] : entities[0]["end"]] == surface


@pytest.mark.parametrize(
    "text",
    [
        "I'm looking for a jacket",
        "this is ridiculous",
        "my order is late",
        "call me 555-0199",
        "order 12 items",
        "in 10 days",
        "my name is",
        "a 4-digit 1234 code",
    ],
)
def test_no_entities_where_there_are_none(rules: EntityExtractor, text: str) -> None:
    assert rules.extract(text) == []


def test_no_zip_inside_an_order_id_email_or_amount(rules: EntityExtractor) -> None:
    text = "order #48219370 and #W94110123, email jane94110@x.com, paid $94110, ref 1941105"
    kinds = found(rules.extract(text))

    assert ("zip_code", "94110") not in kinds
    assert kinds == [
        ("order_id", "#48219370"),
        ("order_id", "#W94110123"),
        ("email", "jane94110@x.com"),
        ("money", "94110.00 USD"),
        ("order_id", "#1941105"),  # a bare number of an order id's length is one
    ]


def test_bare_digits_are_an_order_id_surer_when_asked(rules: EntityExtractor) -> None:
    # "Bestellung 5004592", "pedido 1610257", "订单5004592": no English "order" in front.
    for text in ("Bestellung 5004592 stornieren", "pedido 5004592", "订单5004592到哪了"):
        assert found(rules.extract(text)) == [("order_id", "#5004592")]
    unasked = rules.extract("4821937")
    asked = rules.extract("4821937", requested_slot="order_id")
    assert found(unasked) == found(asked) == [("order_id", "#4821937")]
    assert unasked[0]["confidence"] < asked[0]["confidence"] < 1.0
    # Tracking numbers and phone numbers are other lengths.
    assert rules.extract("tracking 9400884656675331752697, call 555 0199 1234") == []
    # A zip code stays a zip code even while the bot waits for an order id.
    assert found(rules.extract("94110", requested_slot="order_id")) == [("zip_code", "94110")]


def test_bare_name_is_a_person_only_when_asked_or_beside_details(rules: EntityExtractor) -> None:
    assert rules.extract("emma nguyen") == []
    assert found(rules.extract("emma nguyen", requested_slot="customer_name")) == [
        ("person", "Emma Nguyen")
    ]
    assert found(rules.extract("sure, it's Emma Nguyen", requested_slot="customer_name")) == [
        ("person", "Emma Nguyen")
    ]
    text = "Emma Nguyen, 94110"
    entities = rules.extract(text, requested_slot="email")
    assert found(entities) == [("person", "Emma Nguyen"), ("zip_code", "94110")]
    check_offsets(text, entities)
    # Lower-case words beside a zip code are not taken for a name without being asked.
    assert found(rules.extract("ship it 94110")) == [("zip_code", "94110")]
    assert rules.extract("I don't know", requested_slot="customer_name") == []


def test_products_full_partial_typo_and_case(small_catalog: Catalog) -> None:
    extractor = EntityExtractor(CatalogExtractor(small_catalog))
    cases = {
        "do you have the trail runner shoes?": ("Trail Runner Shoe", "trail runner shoes"),
        "is the RAIN SHELL waterproof": ("Rain Shell Jacket", "RAIN SHELL"),
        "tell me about the merino base layr": ("Merino Base Layer", "merino base layr"),
        "Merino Base Layer Bottom sizes?": ("Merino Base Layer Bottom", "Merino Base Layer Bottom"),
        "how warm is the Puffer": ("Down Puffer Jacket", "Puffer"),
    }
    for text, (name, surface) in cases.items():
        entities = [e for e in extractor.extract(text) if e["entity"] == "product"]
        assert [e["value"] for e in entities] == [name], text
        assert text[entities[0]["start"] : entities[0]["end"]] == surface
        check_offsets(text, entities)
        assert entities[0]["extractor"] == "CatalogEntityExtractor"


def test_common_words_do_not_become_products(small_catalog: Catalog) -> None:
    extractor = EntityExtractor(CatalogExtractor(small_catalog))
    for text in (
        "how do I recover my password",
        "my parcel was left in the rain",
        "do you sell jackets",
        "I need shoes",
    ):
        assert [e for e in extractor.extract(text) if e["entity"] == "product"] == [], text


def test_one_word_names_a_product_when_the_bot_asked_which(small_catalog: Catalog) -> None:
    extractor = EntityExtractor(CatalogExtractor(small_catalog))
    assert found(extractor.extract("the headlamp")) == []
    assert found(extractor.extract("the headlamp", requested_slot="product")) == [
        ("product", "Rechargeable Headlamp")
    ]


def test_product_options(small_catalog: Catalog) -> None:
    extractor = EntityExtractor(CatalogExtractor(small_catalog))

    text = "trail runner shoe in size 10, black"
    assert found(extractor.extract(text)) == [
        ("product", "Trail Runner Shoe"),
        ("product_option", "10"),
        ("product_option", "black"),
    ]
    # Colours count anywhere; multi-word values win over their parts.
    assert found(extractor.extract("do you have it in Forest Green?")) == [
        ("product_option", "forest green")
    ]
    # Sizes need to look like sizes.
    assert found(extractor.extract("it arrives in 10 days")) == []
    assert found(extractor.extract("do you have an M")) == [("product_option", "M")]
    # Option values that are ordinary words only count beside a product that has them.
    assert found(extractor.extract("a light snack")) == []
    # Beside Chinese characters a Latin value is a word of its own ("M码": size M) ...
    assert found(extractor.extract("M码")) == [("product_option", "M")]
    # ... but not inside a Latin word.
    assert found(extractor.extract("Mango")) == []


def test_catalog_loader_reads_the_shop_shapes(tmp_path: Path) -> None:
    path = tmp_path / "products.json"
    path.write_text(
        '{"111": {"name": "Hip Pack", "variants": {"1": {"options": {"color": "sand"}}}},'
        ' "222": {"title": "Camp Mug", "options": [{"name": "color", "values": ["red"]}]}}',
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    assert [(p.name, p.options) for p in catalog.products] == [
        ("Hip Pack", (("color", "sand"),)),
        ("Camp Mug", (("color", "red"),)),
    ]
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalog(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_catalog(tmp_path / "bad.json")


@pytest.mark.skipif(not PRODUCTS.exists(), reason=f"shop catalog not found at {PRODUCTS}")
def test_extractors_agree_with_the_annotations_in_data_nlu_yml() -> None:
    extractor = EntityExtractor(CatalogExtractor(load_catalog(PRODUCTS)))
    mismatches = []
    for example in load_nlu_yaml(REPO / "data/nlu.yml").examples:
        # Bare names in `inform` are answers to "what's your name?".
        asked = "customer_name" if example.intent == "inform" else None
        want = {(s.entity, s.value, s.start, s.end) for s in example.entities}
        got = {
            (e["entity"], e["value"], e["start"], e["end"])
            for e in extractor.extract(example.text, requested_slot=asked)
        }
        if want != got:
            mismatches.append((example.source, example.text, want ^ got))
    assert mismatches == []


def test_products_named_in_the_shops_other_languages(small_catalog: Catalog) -> None:
    words = {"Regenjacke": "Rain Shell Jacket", "头灯": "Rechargeable Headlamp",
             "sac à dos": "No Such Product"}  # fmt: skip
    extractor = EntityExtractor(CatalogExtractor(small_catalog, product_words=words))
    assert found(extractor.extract("ist die Regenjacke wasserdicht?")) == [
        ("product", "Rain Shell Jacket")
    ]
    assert found(extractor.extract("有头灯的那个订单")) == [("product", "Rechargeable Headlamp")]
    # A word of another word is no product; a glossary word for a product the catalog lacks
    # names nothing.
    assert found(extractor.extract("Regenjackenfarbe")) == []
    assert found(extractor.extract("mon sac à dos")) == []
    # The English name found already is not found twice.
    assert found(extractor.extract("Rain Shell Jacket")) == [("product", "Rain Shell Jacket")]


def test_shipped_product_glossaries_name_one_product_each() -> None:
    from bot.nlu.catalog import load_catalog, load_product_words

    names = {p.name for p in load_catalog(REPO / "data/shop/products.json").products}
    for language in ("zh", "es", "de", "fr"):
        words = load_product_words(REPO / "data/lang", [language])
        assert words, language
        assert set(words.values()) <= names, language
