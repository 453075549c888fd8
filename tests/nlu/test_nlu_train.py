"""train_nlu: writes a loadable model with config, data hashes and metrics; deterministic."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bot.nlu.classifier import HeadConfig, IntentClassifier
from bot.nlu.train import sample_per_intent, train_nlu
from bot.nlu.training_data import Example, TrainingDataError

from .conftest import TINY_DATA, HashedWordsEncoder

HEAD = HeadConfig(hidden=32, epochs=30, batch_size=8, learning_rate=1e-2)


@pytest.fixture
def nlu_file(tmp_path: Path) -> Path:
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in TINY_DATA.items():
        lines += [f"  - intent: {intent}", "    examples: |"]
        lines += [f"      - {t}" for t in texts + [f"{t} please" for t in texts]]
    path = tmp_path / "nlu.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def bitext_file(tmp_path: Path) -> Path:
    rows = ["instruction,intent"]
    rows += [f"where is order {i},track_order" for i in range(12)]
    rows += ["reset my password,recover_password"]  # not an intent of nlu.yml: skipped
    path = tmp_path / "bitext.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_train_writes_a_model_with_metadata(
    tmp_path: Path, nlu_file: Path, bitext_file: Path
) -> None:
    report = train_nlu(
        nlu_file,
        tmp_path / "model",
        encoder=HashedWordsEncoder(),
        extra_bitext=bitext_file,
        seed=0,
        progress=False,
        head=HEAD,
        bitext_per_intent=5,
    )

    assert report.intents == tuple(sorted(TINY_DATA))
    assert (report.n_own, report.n_bitext) == (40, 5)
    assert report.train_accuracy >= 0.9
    assert report.validation.n >= len(TINY_DATA)
    assert "5 intents on 40 own + 5 Bitext examples" in str(report)
    model = IntentClassifier.load(tmp_path / "model")
    assert model.intents == report.intents
    meta = json.loads((tmp_path / "model/metadata.json").read_text())
    assert meta["encoder"] == "HashedWordsEncoder"
    assert meta["head"]["hidden"] == 32
    assert meta["seed"] == 0
    nlu_sha = hashlib.sha256(nlu_file.read_bytes()).hexdigest()
    assert meta["training_data"]["nlu"] == {
        "file": "nlu.yml",
        "sha256": nlu_sha,
        "examples": 40,
        "examples_sha256": meta["training_data"]["nlu"]["examples_sha256"],
    }
    assert meta["training_data"]["bitext"]["examples"] == 5
    assert meta["training_data"]["bitext"]["per_intent"] == 5
    assert set(meta["metrics"]) == {"validation", "train_accuracy", "final_loss"}
    assert "accuracy" in meta["metrics"]["validation"]
    assert meta["created"].endswith("+00:00")


def test_same_seed_same_weights(tmp_path: Path, nlu_file: Path) -> None:
    digests = []
    for name in ("a", "b"):
        train_nlu(
            nlu_file,
            tmp_path / name,
            encoder=HashedWordsEncoder(),
            extra_bitext=None,
            seed=7,
            progress=False,
            head=HEAD,
        )
        digests.append(hashlib.sha256((tmp_path / name / "weights.safetensors").read_bytes()))
    assert digests[0].hexdigest() == digests[1].hexdigest()


def test_missing_training_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match=r"absent\.yml"):
        train_nlu(
            tmp_path / "absent.yml",
            tmp_path / "model",
            encoder=HashedWordsEncoder(),
            extra_bitext=None,
            progress=False,
        )
    assert not (tmp_path / "model").exists()


def test_sample_per_intent_caps_and_keeps_order() -> None:
    examples = [Example(f"t{i}", "a" if i % 3 else "b") for i in range(30)]
    sample = sample_per_intent(examples, 4, seed=0)

    assert sum(e.intent == "a" for e in sample) == 4
    assert sum(e.intent == "b" for e in sample) == 4
    assert sample == [e for e in examples if e in sample]
    assert sample == sample_per_intent(examples, 4, seed=0)
