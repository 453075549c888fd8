"""``python -m actions.recommend evaluate`` end to end on a small sequence file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from actions.recommend.__main__ import main


def toy_dataset(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = []
    for user in range(1, 61):
        start = int(rng.integers(1, 31))
        items = [(start + k - 1) % 30 + 1 for k in range(int(rng.integers(4, 9)))]
        lines.append(" ".join(map(str, [user, *items])))
    data = tmp_path / "Toy.txt"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def test_evaluate_writes_scores_and_each_users_top20(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = toy_dataset(tmp_path)
    out, tops = tmp_path / "scores.json", tmp_path / "top20.jsonl"

    options = ["--epochs", "4", "--dim", "16", "--eval-every", "2", "--device", "cpu"]
    outputs = ["--json", str(out), "--top20", str(tops)]
    code = main(["evaluate", "--dataset", str(data), "--no-content", *options, *outputs])

    assert code == 0
    result = json.loads(out.read_text())
    assert result["users"] == 60
    assert result["items"] == 30
    assert set(result["test"]) == {
        "users",
        "HR@5",
        "HR@10",
        "HR@20",
        "NDCG@5",
        "NDCG@10",
        "NDCG@20",
    }
    (searched,) = result["search"]
    assert (searched["dim"], searched["dropout"]) == (16, 0.5)
    rows = [json.loads(line) for line in tops.read_text().splitlines()]
    assert len(rows) == 60
    assert all(len(r["top20"]) == 20 for r in rows)
    assert "HR@10" in capsys.readouterr().out


def test_several_contrastive_weights_are_chosen_between_on_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = toy_dataset(tmp_path), tmp_path / "scores.json"
    options = ["--epochs", "2", "--dim", "16", "--device", "cpu", "--json", str(out)]
    weights = ["--contrastive", "0", "0.5", "0"]  # a repeated weight is trained once
    assert main(["evaluate", "--dataset", str(data), "--no-content", *options, *weights]) == 0
    result = json.loads(out.read_text())
    assert [s["contrastive"] for s in result["search"]] == [0.0, 0.5]
    best = max(result["search"], key=lambda s: s["valid_ndcg10"])  # first of equals wins
    assert result["train"]["contrastive"] == best["contrastive"]
    assert result["valid"]["NDCG@10"] == pytest.approx(best["valid_ndcg10"])
    assert main(["evaluate", "--dataset", str(data), "--contrastive", "-1"]) == 2
    assert "0 or more" in capsys.readouterr().err


def test_a_missing_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--dataset", str(tmp_path / "none.txt")]) == 2
    assert "No such file" in capsys.readouterr().err
