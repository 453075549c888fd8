"""MiniLM with int8 linear layers: quantised for real, and it still finds the right texts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bot.nlu import quantization
from bot.nlu.encoder import MiniLMEncoder
from bot.nlu.quantization import int8_linear_layers

pytestmark = pytest.mark.slow

TITLES = [
    "Waterproof hiking jacket with hood",
    "Trail running shoes, lightweight",
    "Two-person backpacking tent",
    "Moisturising face cream for dry skin",
    "Stainless steel camping stove",
]


@pytest.fixture(scope="module")
def encoders() -> tuple[MiniLMEncoder, MiniLMEncoder]:
    plain, int8 = MiniLMEncoder(), MiniLMEncoder(int8=True)
    plain.load()
    int8.load()
    return plain, int8


def test_every_linear_layer_is_replaced(encoders: tuple[MiniLMEncoder, MiniLMEncoder]) -> None:
    plain, int8 = (e._model for e in encoders)
    assert isinstance(plain, torch.nn.Module)
    assert isinstance(int8, torch.nn.Module)
    float_linear = [n for n, m in plain.named_modules() if type(m) is torch.nn.Linear]
    quantised = {
        n for n, m in int8.named_modules() if type(m) is torch.ao.nn.quantized.dynamic.Linear
    }
    assert len(float_linear) == 37  # 6 layers × (q, k, v, out, up, down), and the pooler
    assert set(float_linear) == quantised
    assert not [n for n, m in int8.named_modules() if type(m) is torch.nn.Linear]


def test_vectors_stay_close_and_find_the_same_titles(
    encoders: tuple[MiniLMEncoder, MiniLMEncoder],
) -> None:
    plain, int8 = encoders
    catalogue = plain.encode(TITLES)
    requests = ["a rain jacket for hikes", "shoes for running", "a tent", "cream for dry skin"]
    exact, fast = plain.encode(requests), int8.encode(requests)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert float(np.min((exact * fast).sum(axis=1))) > 0.9
    assert not np.allclose(exact, fast, atol=1e-4)  # the int8 path did run
    expected = np.argmax(exact @ catalogue.T, axis=1)
    assert list(expected) == [0, 1, 2, 3]
    assert list(np.argmax(fast @ catalogue.T, axis=1)) == list(expected)


def test_without_a_quantised_engine_the_model_stays_in_float(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert quantization.has_quantised_engine()  # this machine's torch has one
    monkeypatch.setattr(quantization, "has_quantised_engine", lambda: False)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    assert int8_linear_layers(model) is model
    assert "stays in float" in caplog.text
