"""Intent head: a small softmax classifier trained on frozen sentence embeddings.

Training uses torch; prediction is a numpy forward pass, so a served model costs two matrix
products per batch. A model folder holds ``weights.safetensors`` and ``metadata.json`` (intent
names, encoder id, head config, data fingerprints, metrics, creation time, format version).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError, ModelNotTrained

FORMAT = "concierge-intent-head"
FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
METADATA_FILE = "metadata.json"

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class HeadConfig:
    """Shape and optimiser settings of the intent head.

    Attributes:
        hidden: Width of the hidden ReLU layer; 0 makes the head a linear softmax.
        dropout: Dropout on the embedding and hidden layer while training.
        epochs: Passes over the training set.
        batch_size: Examples per optimiser step.
        learning_rate: AdamW learning rate.
        weight_decay: AdamW weight decay.
        label_smoothing: Cross-entropy label smoothing; tempers over-confident probabilities,
            which the out-of-scope threshold relies on.
        balanced: Weight each class by the inverse of its count, so small intents count as
            much as large ones; off, the training data's proportions are the prior (a head
            whose rare labels should stay rare, as attacks among shop questions).
    """

    hidden: int = 256
    dropout: float = 0.1
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    balanced: bool = True

    def __post_init__(self) -> None:
        if self.hidden < 0:
            raise ConfigError("nlu.head.hidden", "must be >= 0")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError("nlu.head.dropout", "must be in [0, 1)")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("nlu.head", "epochs and batch_size must be >= 1")
        if self.learning_rate <= 0:
            raise ConfigError("nlu.head.learning_rate", "must be > 0")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError("nlu.head.label_smoothing", "must be in [0, 1)")


class IntentClassifier:
    """A trained intent head: ``predict(vectors)`` gives one probability row per vector."""

    def __init__(
        self,
        intents: Sequence[str],
        weights: Mapping[str, FloatArray],
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self._intents = tuple(intents)
        self._layers = _layers(weights)
        self._metadata = dict(metadata or {})
        out_dim = self._layers[-1][0].shape[1]
        if out_dim != len(self._intents):
            raise ValueError(f"head has {out_dim} outputs for {len(self._intents)} intents")

    @property
    def intents(self) -> tuple[str, ...]:
        """Intent names in output order."""
        return self._intents

    @property
    def dimension(self) -> int:
        """The embedding size the head expects."""
        return int(self._layers[0][0].shape[0])

    @property
    def metadata(self) -> dict[str, Any]:
        """A copy of the metadata the model was saved or built with."""
        return dict(self._metadata)

    def weights(self) -> dict[str, FloatArray]:
        """The parameters by name (``layer0.weight``, ``layer0.bias``, ...)."""
        named: dict[str, FloatArray] = {}
        for index, (weight, bias) in enumerate(self._layers):
            named[f"layer{index}.weight"] = weight
            named[f"layer{index}.bias"] = bias
        return named

    def predict(self, vectors: FloatArray) -> FloatArray:
        """Intent probabilities for a batch of embeddings.

        Args:
            vectors: Shape ``(n, dimension)``.

        Returns:
            Shape ``(n, len(intents))``; each row sums to 1.
        """
        hidden = np.asarray(vectors, dtype=np.float32)
        if hidden.ndim != 2 or hidden.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of shape (n, {self.dimension}), got {hidden.shape}")
        for index, (weight, bias) in enumerate(self._layers):
            hidden = hidden @ weight + bias
            if index < len(self._layers) - 1:
                hidden = np.maximum(hidden, 0.0)
        hidden = hidden - hidden.max(axis=1, keepdims=True)
        exp = np.exp(hidden)
        probabilities: FloatArray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return probabilities

    def save(self, model_dir: Path) -> None:
        """Writes weights and metadata; each file is replaced atomically."""
        from safetensors.numpy import save as save_tensors

        model_dir.mkdir(parents=True, exist_ok=True)
        metadata = {
            **self._metadata,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "intents": list(self._intents),
            "dimension": self.dimension,
        }
        _write_atomic(model_dir / WEIGHTS_FILE, save_tensors(self.weights()))
        text = json.dumps(metadata, indent=2, sort_keys=True) + "\n"
        _write_atomic(model_dir / METADATA_FILE, text.encode())

    @classmethod
    def load(cls, model_dir: Path) -> IntentClassifier:
        """Reads a model folder written by :meth:`save`.

        Raises:
            ModelNotTrained: If the folder, a file, or a field is missing or corrupt; the
                message names the path.
        """
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        meta_path, weights_path = model_dir / METADATA_FILE, model_dir / WEIGHTS_FILE
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
            weights = load_file(str(weights_path))
        except FileNotFoundError as exc:
            raise ModelNotTrained(
                f"no trained NLU model at {model_dir} ({exc.filename} is missing); "
                "run `python -m bot train`"
            ) from exc
        except (OSError, ValueError, SafetensorError) as exc:
            raise ModelNotTrained(f"NLU model at {model_dir} is unreadable: {exc}") from exc
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise ModelNotTrained(f"{meta_path} is not a {FORMAT} metadata file")
        if metadata.get("format_version") != FORMAT_VERSION:
            raise ModelNotTrained(
                f"{meta_path} has format version {metadata.get('format_version')!r}; "
                f"this code reads version {FORMAT_VERSION}: retrain with `python -m bot train`"
            )
        try:
            return cls(metadata["intents"], weights, metadata)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelNotTrained(f"NLU model at {model_dir} is inconsistent: {exc}") from exc


def _layers(weights: Mapping[str, FloatArray]) -> list[tuple[FloatArray, FloatArray]]:
    layers: list[tuple[FloatArray, FloatArray]] = []
    for index in range(len(weights) // 2):
        weight = np.asarray(weights[f"layer{index}.weight"], dtype=np.float32)
        bias = np.asarray(weights[f"layer{index}.bias"], dtype=np.float32)
        if weight.ndim != 2 or bias.shape != (weight.shape[1],):
            raise ValueError(f"layer{index} has shapes {weight.shape} and {bias.shape}")
        if layers and layers[-1][0].shape[1] != weight.shape[0]:
            raise ValueError(f"layer{index} does not fit the layer before it")
        layers.append((weight, bias))
    if not layers or len(weights) != 2 * len(layers):
        raise ValueError(f"unexpected tensors {sorted(weights)}")
    return layers


def _write_atomic(path: Path, data: bytes) -> None:
    # A crash mid-write must not leave a half-written model that the bot then refuses to load.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a model must be readable by the service user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def class_weights(labels: IntArray, n_classes: int) -> FloatArray:
    """Balanced weights ``n / (k * count)`` so small intents count as much as large ones."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float32)
    weights = np.where(counts > 0, len(labels) / (n_classes * np.maximum(counts, 1.0)), 0.0)
    return weights.astype(np.float32)


def fit_head(
    vectors: FloatArray,
    labels: IntArray,
    intents: Sequence[str],
    config: HeadConfig = HeadConfig(),
    *,
    seed: int = 0,
    progress: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[IntentClassifier, list[float]]:
    """Trains an intent head on fixed embeddings; deterministic for a given seed.

    Args:
        vectors: Training embeddings, shape ``(n, dimension)``.
        labels: Index into ``intents`` for each row.
        intents: Intent names; every one gets an output even without examples.
        config: Head shape and optimiser settings.
        seed: Seeds initialisation, dropout and shuffling.
        progress: Show a tqdm bar over epochs.
        metadata: Stored with the model (head config and seed are added).

    Returns:
        The classifier and the mean training loss of each epoch.
    """
    import torch
    from tqdm import tqdm

    if len(vectors) != len(labels) or len(vectors) == 0:
        raise ValueError("need one label per vector and at least one example")
    # fork_rng keeps the caller's global torch RNG untouched while we seed our own;
    # enable_grad because the encoder turns gradients off for inference on this thread.
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        model = _build(x.shape[1], len(intents), config)
        class_weight = (
            class_weights(np.asarray(labels), len(intents))
            if config.balanced
            else np.ones(len(intents), dtype=np.float32)
        )
        loss_fn = torch.nn.CrossEntropyLoss(
            weight=torch.from_numpy(class_weight),
            label_smoothing=config.label_smoothing,
        )
        optimiser = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
        order = torch.Generator().manual_seed(seed)
        losses: list[float] = []
        model.train()
        for _ in tqdm(range(config.epochs), desc="intent head", disable=not progress):
            total = 0.0
            for batch in torch.split(torch.randperm(len(x), generator=order), config.batch_size):
                optimiser.zero_grad()
                loss = loss_fn(model(x[batch]), y[batch])
                loss.backward()
                optimiser.step()
                total += loss.detach().item() * len(batch)
            schedule.step()
            losses.append(total / len(x))
        model.eval()
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        weights = {}
        for index, layer in enumerate(linears):
            weights[f"layer{index}.weight"] = layer.weight.detach().numpy().T.copy()
            weights[f"layer{index}.bias"] = layer.bias.detach().numpy().copy()
    info = {**(metadata or {}), "head": asdict(config), "seed": seed}
    return IntentClassifier(intents, weights, info), losses


def _build(dimension: int, n_classes: int, config: HeadConfig) -> Any:
    import torch

    if config.hidden == 0:
        return torch.nn.Sequential(
            torch.nn.Dropout(config.dropout), torch.nn.Linear(dimension, n_classes)
        )
    return torch.nn.Sequential(
        torch.nn.Dropout(config.dropout),
        torch.nn.Linear(dimension, config.hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(config.dropout),
        torch.nn.Linear(config.hidden, n_classes),
    )
