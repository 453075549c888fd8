"""The reading heads: small trained models over the multilingual encoder's vectors.

- **act**: the dialogue act of a message, with the bot's previous message as context;
- **feeling**: calm, frustrated or angry;
- **follow-up**: whether a message leans on the topic of the last answer, given that topic;
- **screening**: whether a message must be refused (an injection, a prompt leak, another
  customer's data, a demand beyond policy, abuse) or answered (``none``), in any language;
- **choice**: which of the options the bot offered a message picks (:mod:`bot.nlu.choice`).

Each is trained by ``python -m bot train-reading`` (``training/train_reading.py``) from the
labelled examples in ``data/lang/<language>/`` and scored on held-out files nobody tuned on;
the figures are in ``models/reading/MODEL_CARD.md``. A message and its context are combined as
``[u, c, u * c]``: the head sees the message, the context, and where they agree. A missing
context is a zero vector, so one head serves first messages and replies alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.nlu.choice import ChoiceScorer
from bot.nlu.classifier import IntentClassifier

FloatArray = npt.NDArray[np.float32]

HEAD_NAMES = ("act", "feeling", "follow_up", "screening")
FOLLOW_UP_LABELS = ("standalone", "follow_up")


def pair_features(message: FloatArray, context: FloatArray | None) -> FloatArray:
    """``[u, c, u * c]`` for rows of message vectors ``u`` and context vectors ``c``."""
    message = np.atleast_2d(message).astype(np.float32)
    if context is None:
        context = np.zeros_like(message)
    context = np.atleast_2d(context).astype(np.float32)
    return np.concatenate([message, context, message * context], axis=1)


@dataclass(frozen=True)
class ReadingHeads:
    """The trained heads, loaded together from one folder (``models/reading``)."""

    act: IntentClassifier
    feeling: IntentClassifier
    follow_up: IntentClassifier
    choice: ChoiceScorer
    screening: IntentClassifier

    @classmethod
    def load(cls, folder: Path) -> ReadingHeads:
        """Loads ``<folder>/{act,feeling,follow_up,choice,screening}``.

        Raises:
            ModelNotTrained: a head is missing or corrupt (``python -m bot train-reading``).
        """
        return cls(
            act=IntentClassifier.load(folder / "act"),
            feeling=IntentClassifier.load(folder / "feeling"),
            follow_up=IntentClassifier.load(folder / "follow_up"),
            choice=ChoiceScorer.load(folder / "choice"),
            screening=IntentClassifier.load(folder / "screening"),
        )

    def save(self, folder: Path) -> None:
        self.act.save(folder / "act")
        self.feeling.save(folder / "feeling")
        self.follow_up.save(folder / "follow_up")
        self.choice.save(folder / "choice")
        self.screening.save(folder / "screening")


def best(head: IntentClassifier, features: FloatArray) -> tuple[str, float, FloatArray]:
    """The head's top label for one feature row, its probability, and all probabilities."""
    probabilities = head.predict(np.atleast_2d(features))[0]
    top = int(probabilities.argmax())
    return head.intents[top], float(probabilities[top]), probabilities
