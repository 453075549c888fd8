"""Labelled screening examples: the training files' grouped shape, the held-out flat shape, and
the errors a malformed file gets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.nlu.screening import SCREENING_LABELS
from training.reading_data import ReadingDataError, load_screening, load_training


def test_grouped_and_flat_files_read_into_the_same_records(tmp_path: Path) -> None:
    grouped = tmp_path / "screening.yml"
    grouped.write_text(
        'version: "3.1"\nscreening:\n  - label: abuse\n    examples: |\n      - du Idiot\n'
        "      - halt die klappe\n  - label: none\n    examples: |\n      - wo ist mein Paket\n",
        encoding="utf-8",
    )
    flat = tmp_path / "held.yml"
    flat.write_text(
        "screening:\n- text: wo ist mein Paket\n  label: none\n  language: de\n", encoding="utf-8"
    )

    found = load_screening(grouped, "de")

    assert [(e.text, e.label, e.language) for e in found] == [
        ("du Idiot", "abuse", "de"),
        ("halt die klappe", "abuse", "de"),
        ("wo ist mein Paket", "none", "de"),
    ]
    assert load_screening(flat) == [found[-1]]


@pytest.mark.parametrize(
    "body",
    [
        "screening:\n- text: hi\n  label: spam\n  language: en\n",  # unknown label
        "screening:\n- text: hi\n  label: none\n",  # no language
        "screening:\n- text: ''\n  label: none\n  language: en\n",  # no text
        "acts: []\n",  # not a screening file
    ],
)
def test_a_malformed_file_is_refused_with_its_path(tmp_path: Path, body: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ReadingDataError, match=r"bad\.yml"):
        load_screening(path)


def test_every_language_has_every_label_to_train_on() -> None:
    counts = Counter((e.language, e.label) for e in load_training("screening"))
    for language in ("en", "zh", "es", "de", "fr"):
        for label in SCREENING_LABELS:
            assert counts[language, label] >= 30, (language, label, counts)
