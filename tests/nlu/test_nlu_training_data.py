"""Parsing Rasa NLU YAML (entity annotations, errors with file and line) and the Bitext CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlu.training_data import (
    EntitySpan,
    TrainingDataError,
    load_bitext_csv,
    load_nlu_yaml,
    parse_annotated,
)

from .conftest import REPO

BITEXT = REPO.parent / "shared/datasets/bitext-customer-support/bitext_cs_train_v2_8b6ca3d.csv"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nlu.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_annotations_are_stripped_and_offsets_index_the_plain_text() -> None:
    example = parse_annotated("cancel [#4821937](order_id) for [Emma Nguyen](person) now")

    assert example.text == "cancel #4821937 for Emma Nguyen now"
    assert example.entities == (
        EntitySpan("order_id", "#4821937", 7, 15),
        EntitySpan("person", "Emma Nguyen", 20, 31),
    )
    for span in example.entities:
        assert example.text[span.start : span.end] in {"#4821937", "Emma Nguyen"}


def test_json_annotation_sets_a_normalised_value() -> None:
    example = parse_annotated('under [40 dollars]{"entity": "money", "value": "40.00 USD"}')

    assert example.text == "under 40 dollars"
    assert example.entities == (EntitySpan("money", "40.00 USD", 6, 16),)


@pytest.mark.parametrize(
    "bad",
    [
        "order [#123](order_id",
        'order [#123]{"entity": }',
        'order [#123]{"value": "x"}',
        "order [#123](bad name)",
    ],
)
def test_malformed_annotations_are_rejected(bad: str) -> None:
    with pytest.raises(TrainingDataError) as caught:
        parse_annotated(bad, where="nlu.yml", line=7)
    assert caught.value.line == 7
    assert "nlu.yml:7" in str(caught.value)


def test_yaml_file_gives_examples_with_sources_and_synonyms(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'version: "3.1"\n'
        "nlu:\n"
        "  - intent: track_order\n"
        "    examples: |\n"
        "      - where is [#4821937](order_id)\n"
        "\n"
        "      - track my order\n"
        "  - synonym: Trail Runner Shoe\n"
        "    examples: |\n"
        "      - trail runners\n"
        "  - intent: product_info\n"
        "    examples: |\n"
        "      - tell me about the [trail runners](product)\n",
    )

    data = load_nlu_yaml(path)

    assert [e.text for e in data.examples] == [
        "where is #4821937",
        "track my order",
        "tell me about the trail runners",
    ]
    assert data.intents == ("track_order", "product_info")
    assert data.examples[0].source == f"{path}:5"
    assert data.examples[1].source == f"{path}:7"
    # The synonym maps the annotated surface form to the catalog name.
    assert data.examples[2].entities[0].value == "Trail Runner Shoe"
    assert data.counts() == {"track_order": 2, "product_info": 1}


def test_fingerprint_changes_with_the_data(tmp_path: Path) -> None:
    one = load_nlu_yaml(write(tmp_path, "nlu:\n  - intent: a\n    examples: |\n      - hi\n"))
    two = load_nlu_yaml(write(tmp_path, "nlu:\n  - intent: a\n    examples: |\n      - hey\n"))
    assert one.fingerprint() != two.fingerprint()


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            "nlu:\n  - intent: a\n    examples: |\n      - ok\n      not a list item\n",
            5,
            "'- text'",
        ),
        ("nlu:\n  - intent: a\n    examples: |\n      - [x](e\n", 4, "unbalanced"),
        ("nlu:\n  - regex: zip\n    examples: |\n      - \\d{5}\n", 2, "unsupported"),
        ("nlu:\n  - intent: a\n", 2, "examples"),
        ("nlu: [1, 2\n", 2, "invalid YAML"),
        ("rules: []\n", 1, "'nlu'"),
        ("nlu:\n  - intent: a b\n    examples: |\n      - hi\n", 2, "bad intent name"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TrainingDataError) as caught:
        load_nlu_yaml(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert fragment in str(caught.value)


def test_missing_file_is_a_training_data_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="cannot read"):
        load_nlu_yaml(tmp_path / "absent.yml")


def test_project_data_covers_every_domain_intent() -> None:
    data = load_nlu_yaml(REPO / "data/nlu.yml")
    domain = yaml.safe_load((REPO / "data/domain.yml").read_text(encoding="utf-8"))

    assert set(data.intents) == set(domain["intents"])
    assert min(data.counts().values()) >= 20
    entity_types = {s.entity for e in data.examples for s in e.entities}
    assert entity_types <= set(domain["entities"])


def test_bitext_reader_keeps_instruction_and_intent(tmp_path: Path) -> None:
    path = tmp_path / "bitext.csv"
    path.write_text(
        "flags,instruction,category,intent,response\n"
        'B,"where is my order, please",ORDER,track_order,"It is on its way"\n'
        "B,help me pay,PAYMENT,payment_issue,Sure\n",
        encoding="utf-8",
    )

    rows = load_bitext_csv(path)
    only = load_bitext_csv(path, intents={"payment_issue"})

    assert [(r.text, r.intent) for r in rows] == [
        ("where is my order, please", "track_order"),
        ("help me pay", "payment_issue"),
    ]
    assert [r.intent for r in only] == ["payment_issue"]


def test_bitext_reader_rejects_other_csv(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("text,label\nhi,greet\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="missing columns"):
        load_bitext_csv(path)


@pytest.mark.skipif(not BITEXT.exists(), reason=f"Bitext data set not found at {BITEXT}")
def test_real_bitext_file_has_the_27_intents() -> None:
    rows = load_bitext_csv(BITEXT)
    assert len(rows) > 4000
    assert len({r.intent for r in rows}) == 27
