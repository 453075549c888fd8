"""Intent head: training on a tiny set, save/load round trip, missing or corrupt models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bot.errors import ConfigError, ModelNotTrained
from bot.nlu.classifier import HeadConfig, IntentClassifier, class_weights, fit_head

from .conftest import TINY_DATA, HashedWordsEncoder

TINY_HEAD = HeadConfig(hidden=32, epochs=60, batch_size=8, learning_rate=1e-2, label_smoothing=0.0)


def tiny_set(encoder: HashedWordsEncoder) -> tuple[np.ndarray, np.ndarray, list[str]]:
    intents = sorted(TINY_DATA)
    texts = [t for name in intents for t in TINY_DATA[name]]
    labels = np.array([intents.index(n) for n in intents for _ in TINY_DATA[n]], dtype=np.int64)
    return encoder.encode(texts), labels, intents


@pytest.mark.parametrize("hidden", [0, 32])
def test_training_lowers_the_loss_and_fits_the_training_set(
    words_encoder: HashedWordsEncoder, hidden: int
) -> None:
    vectors, labels, intents = tiny_set(words_encoder)
    # A linear head on unit vectors needs a larger step to move its logits as far.
    rate = 1e-2 if hidden else 5e-2
    config = HeadConfig(hidden=hidden, epochs=60, batch_size=8, learning_rate=rate)

    model, losses = fit_head(vectors, labels, intents, config, seed=1)

    assert len(losses) == 60
    assert losses[-1] < 0.5 * losses[0]
    probabilities = model.predict(vectors)
    assert probabilities.shape == (len(labels), len(intents))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities.argmax(axis=1) == labels).mean() >= 0.95
    assert model.metadata["seed"] == 1
    assert model.metadata["head"]["hidden"] == hidden


def test_training_is_deterministic_for_a_seed(words_encoder: HashedWordsEncoder) -> None:
    vectors, labels, intents = tiny_set(words_encoder)
    first, _ = fit_head(vectors, labels, intents, TINY_HEAD, seed=3)
    again, _ = fit_head(vectors, labels, intents, TINY_HEAD, seed=3)
    other, _ = fit_head(vectors, labels, intents, TINY_HEAD, seed=4)

    for name, weight in first.weights().items():
        np.testing.assert_array_equal(weight, again.weights()[name])
    assert any(not np.array_equal(w, other.weights()[n]) for n, w in first.weights().items()), (
        "a different seed should give different weights"
    )


def test_generalises_to_unseen_phrasing(tiny_classifier: IntentClassifier) -> None:
    encoder = HashedWordsEncoder()
    probabilities = tiny_classifier.predict(encoder.encode(["where is my order now", "thanks"]))
    intents = tiny_classifier.intents
    assert [intents[i] for i in probabilities.argmax(axis=1)] == ["track_order", "thanks"]


def test_save_and_load_round_trip(tmp_path: Path, tiny_classifier: IntentClassifier) -> None:
    vectors = HashedWordsEncoder().encode(["hello", "tell me a joke", "order status"])
    tiny_classifier.save(tmp_path / "model")

    loaded = IntentClassifier.load(tmp_path / "model")

    assert loaded.intents == tiny_classifier.intents
    assert loaded.dimension == 64
    np.testing.assert_array_equal(loaded.predict(vectors), tiny_classifier.predict(vectors))
    metadata = json.loads((tmp_path / "model/metadata.json").read_text())
    assert metadata["format"] == "concierge-intent-head"
    assert metadata["format_version"] == 1
    assert metadata["intents"] == list(tiny_classifier.intents)


def test_missing_model_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ModelNotTrained, match=re.escape(str(tmp_path / "nowhere"))):
        IntentClassifier.load(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("file", "content", "fragment"),
    [
        ("weights.safetensors", b"not tensors", "unreadable"),
        ("metadata.json", b"{broken", "unreadable"),
        ("metadata.json", b'{"format": "other"}', "not a concierge-intent-head"),
        ("metadata.json", b'{"format": "concierge-intent-head", "format_version": 9}', "version"),
    ],
)
def test_corrupt_model_raises_model_not_trained(
    tmp_path: Path, tiny_classifier: IntentClassifier, file: str, content: bytes, fragment: str
) -> None:
    tiny_classifier.save(tmp_path)
    (tmp_path / file).write_bytes(content)
    with pytest.raises(ModelNotTrained, match=fragment) as caught:
        IntentClassifier.load(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_metadata_that_disagrees_with_weights_is_rejected(
    tmp_path: Path, tiny_classifier: IntentClassifier
) -> None:
    tiny_classifier.save(tmp_path)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    meta["intents"] = meta["intents"][:-1]
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelNotTrained, match="inconsistent"):
        IntentClassifier.load(tmp_path)


def test_class_weights_balance_rare_intents() -> None:
    weights = class_weights(np.array([0, 0, 0, 1], dtype=np.int64), 3)
    np.testing.assert_allclose(weights, [4 / 9, 4 / 3, 0.0], rtol=1e-6)


def test_head_config_is_validated() -> None:
    with pytest.raises(ConfigError):
        HeadConfig(dropout=1.0)
    with pytest.raises(ConfigError):
        HeadConfig(epochs=0)
