"""Fixtures for the generation tests: a tiny chat model saved like a real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.generation.tiny_model import create_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny random Llama and a 512-token BPE tokenizer with SmolLM2's template.

    Built once per session (a fraction of a second); tests must not write into it. Load it
    with ``LocalGenerator(tiny_model_dir)`` or ``AutoModelForCausalLM.from_pretrained``.
    """
    return create_tiny_model(tmp_path_factory.mktemp("tiny-model"))
