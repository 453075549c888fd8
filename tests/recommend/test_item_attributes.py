"""Item attribute files and attribute fusion in the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from actions.recommend.item_attributes import (
    AttributeFileError,
    attributes_beside,
    read_item_attributes,
)
from actions.recommend.training import build_model


def write(tmp_path: Path, payload: object, name: str = "Toy_item2attributes.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def test_reads_a_padded_table_and_ignores_items_outside_the_catalogue(tmp_path: Path) -> None:
    path = write(tmp_path, {"1": [3, 1, 3], "3": [2], "9": [4]})
    table = read_item_attributes(path, n_items=3)
    assert table.tolist() == [[0, 0], [1, 3], [0, 0], [2, 0]]


@pytest.mark.parametrize(
    ("payload", "message"),
    [([1, 2], "expected an object"), ({"1": ["x"]}, "non-integer"), ({"1": [0]}, "start at 1")],
)
def test_a_bad_file_says_what_is_wrong(tmp_path: Path, payload: object, message: str) -> None:
    with pytest.raises(AttributeFileError, match=message):
        read_item_attributes(write(tmp_path, payload), n_items=3)


def test_not_json_is_an_attribute_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(AttributeFileError, match="not JSON"):
        read_item_attributes(path, n_items=3)


def test_the_file_beside_a_data_set_is_found(tmp_path: Path) -> None:
    dataset = tmp_path / "Toy.txt"
    assert attributes_beside(dataset) is None
    write(tmp_path, {"1": [1]})
    assert attributes_beside(dataset) == tmp_path / "Toy_item2attributes.json"


def test_items_sharing_attributes_move_together() -> None:
    torch.manual_seed(0)
    attributes = torch.tensor([[0, 0], [1, 2], [1, 2], [3, 0]])
    model = build_model(3, None, attributes=attributes, dim=8)
    assert model.config.n_attributes == 3
    before = model.item_vectors().detach().clone()
    assert model.attribute_table is not None
    with torch.no_grad():
        model.attribute_table.weight[1] += 1.0  # what items 1 and 2 share
    shift = model.item_vectors().detach() - before
    assert torch.allclose(shift[1], torch.full((8,), 0.5))  # mean over its two attributes
    assert torch.allclose(shift[2], shift[1])
    assert torch.count_nonzero(shift[3]) == 0
    assert torch.count_nonzero(model.item_vectors()[0]) == 0  # padding stays empty


def test_attribute_ids_must_fit_the_catalogue() -> None:
    with pytest.raises(ValueError, match="rows"):
        build_model(5, None, attributes=torch.ones(3, 2, dtype=torch.long), dim=8)
