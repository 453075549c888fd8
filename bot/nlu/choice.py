"""Which of the options the bot just offered a message picks: "the second one", "the camping
one", "the one from June", "el que no ha llegado", or none of them.

The options are the buttons of the bot's last message (orders, items, payment methods,
reasons). Each option gets a score from what the message shares with it (the multilingual
encoder's cosine, and the words that set it apart from the other options) and from where it
stands in the list (a learned projection of the message onto each position and onto "last":
this is how "second", "zweite", "deuxième" or "第二" are read, learned from examples in every
language rather than listed); "none" gets a score of its own. A softmax over the options and
"none" gives the pick. Trained by ``python -m bot train-reading`` on ``data/lang/*/choices.yml``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.errors import ModelNotTrained

FloatArray = npt.NDArray[np.float32]

MAX_POSITION = 6
"""Positions beyond this share the last position vector (few lists are longer)."""
FORMAT = "concierge-choice-head"
FORMAT_VERSION = 2
_LATIN = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_MATCH_CAP = 3


def tokens(text: str) -> set[str]:
    """Lower-case words, plus single characters and pairs of characters in CJK runs."""
    text = unicodedata.normalize("NFKC", text).casefold()
    found = {w for w in _LATIN.findall(_CJK.sub(" ", text)) if len(w) >= 2 or w.isdigit()}
    for run in _CJK.findall(text):
        found.update(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def _matches(option_words: set[str], message_words: set[str]) -> int:
    """Words of the option the message names; a prefix of three or more letters counts
    ("sep" names "september", "fleece" names "fleeces")."""
    count = 0
    for word in option_words:
        if word in message_words or (
            len(word) >= 3
            and any(
                m.startswith(word) or (len(m) >= 3 and word.startswith(m)) for m in message_words
            )
        ):
            count += 1
    return count


def option_features(
    message: FloatArray,
    message_text: str,
    options: FloatArray,
    option_texts: Sequence[str],
    common: frozenset[str] = frozenset(),
) -> FloatArray:
    """Per option: cosine, cosine above the options' mean, distinctive words named (0-1).

    ``common`` are words too frequent in shoppers' messages to name anything ("one", "the",
    "de", "的"): learned from the training messages' document frequencies, not listed.
    """
    cosines = options @ message
    relative = cosines - cosines.mean()
    said = tokens(message_text) - common
    words = [tokens(t) - common for t in option_texts]
    lexical = []
    for i, own in enumerate(words):
        others = set().union(*(w for j, w in enumerate(words) if j != i))
        lexical.append(min(_matches(own - others, said), _MATCH_CAP) / _MATCH_CAP)
    return np.stack([cosines, relative, np.array(lexical, dtype=np.float32)], axis=1).astype(
        np.float32
    )


@dataclass(frozen=True)
class ChoiceScorer:
    """The trained choice model (see the module docstring).

    Attributes:
        feature_weights: weights of the per-option features (cosine, relative, lexical).
        option_bias: a constant added to every option's score.
        positions: ``(MAX_POSITION, d)``: the message's projection onto each position.
        last: ``(d,)``: its projection onto "the last one".
        none: ``(d,)``: its projection onto "none of them".
        none_weights: how the best option's lexical and relative scores lower "none".
        none_bias: a constant of the "none" score.
        gate: ``(d + 1,)``: how much the message is about positions at all (a sigmoid of
            the message's projection): "the second one" is, "size L/XL please" is not, so a
            position preference learned from ordinals never decides between two options
            that differ only in content.
        common: words too frequent to name an option (see :func:`option_features`).
    """

    feature_weights: FloatArray
    option_bias: float
    positions: FloatArray
    last: FloatArray
    none: FloatArray
    none_weights: FloatArray
    none_bias: float
    gate: FloatArray
    common: frozenset[str]
    metadata: dict[str, object]

    def scores(
        self,
        message: FloatArray,
        message_text: str,
        options: FloatArray,
        option_texts: Sequence[str],
    ) -> FloatArray:
        """Probabilities of "none" (index 0) and of each option (1..n)."""
        n = len(option_texts)
        features = option_features(message, message_text, options, option_texts, self.common)
        logits = features @ self.feature_weights + self.option_bias
        positional = 1.0 / (1.0 + np.exp(-(float(self.gate[:-1] @ message) + float(self.gate[-1]))))
        position_scores = positional * (self.positions @ message)
        for i in range(n):
            logits[i] += position_scores[min(i, MAX_POSITION - 1)]
        logits[n - 1] += positional * float(self.last @ message)
        none = (
            float(self.none @ message)
            + float(self.none_weights @ np.array([features[:, 2].max(), features[:, 1].max()]))
            + self.none_bias
        )
        everything = np.concatenate([[none], logits]).astype(np.float64)
        everything -= everything.max()
        probabilities = np.exp(everything)
        result: FloatArray = (probabilities / probabilities.sum()).astype(np.float32)
        return result

    def pick(
        self,
        message: FloatArray,
        message_text: str,
        options: FloatArray,
        option_texts: Sequence[str],
    ) -> tuple[int, float]:
        """The picked option (1-based; 0 = none) and its probability."""
        probabilities = self.scores(message, message_text, options, option_texts)
        best = int(probabilities.argmax())
        return best, float(probabilities[best])

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        folder.mkdir(parents=True, exist_ok=True)
        save_file(
            {
                "feature_weights": self.feature_weights,
                "positions": self.positions,
                "last": self.last,
                "none": self.none,
                "none_weights": self.none_weights,
                "gate": self.gate,
                "biases": np.array([self.option_bias, self.none_bias], dtype=np.float32),
            },
            str(folder / "weights.safetensors"),
        )
        metadata = {
            **self.metadata,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "common_words": sorted(self.common),
        }
        (folder / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> ChoiceScorer:
        """Reads a folder written by :meth:`save`.

        Raises:
            ModelNotTrained: the folder is missing, of another format, or corrupt.
        """
        from safetensors.numpy import load_file

        try:
            metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
            weights = load_file(str(folder / "weights.safetensors"))
        except (OSError, ValueError) as exc:
            raise ModelNotTrained(
                f"no choice head at {folder} ({exc}); run `python -m bot train-reading`"
            ) from None
        if metadata.get("format") != FORMAT or metadata.get("format_version") != FORMAT_VERSION:
            raise ModelNotTrained(f"{folder} is not a {FORMAT} v{FORMAT_VERSION}: retrain it")
        biases = weights["biases"].astype(np.float32)
        return cls(
            feature_weights=weights["feature_weights"].astype(np.float32),
            option_bias=float(biases[0]),
            positions=weights["positions"].astype(np.float32),
            last=weights["last"].astype(np.float32),
            none=weights["none"].astype(np.float32),
            none_weights=weights["none_weights"].astype(np.float32),
            none_bias=float(biases[1]),
            gate=weights["gate"].astype(np.float32),
            common=frozenset(str(w) for w in metadata.get("common_words", ())),
            metadata=metadata,
        )
