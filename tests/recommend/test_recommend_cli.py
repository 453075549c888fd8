"""``python -m actions.recommend evaluate`` end to end on a small sequence file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from actions.recommend.__main__ import main


def test_evaluate_writes_scores_and_each_users_top20(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    lines = []
    for user in range(1, 61):
        start = int(rng.integers(1, 31))
        items = [(start + k - 1) % 30 + 1 for k in range(int(rng.integers(4, 9)))]
        lines.append(" ".join(map(str, [user, *items])))
    data = tmp_path / "Toy.txt"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
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


def test_a_missing_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--dataset", str(tmp_path / "none.txt")]) == 2
    assert "No such file" in capsys.readouterr().err
