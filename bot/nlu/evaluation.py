"""Intent evaluation: stratified splits, accuracy, macro-F1 and per-intent scores."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IntentScore:
    """Precision, recall and F1 of one intent, and how many true examples it had."""

    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class IntentReport:
    """Scores of a set of predictions against gold labels."""

    accuracy: float
    macro_f1: float
    per_intent: tuple[IntentScore, ...]
    n: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (figures rounded to four places)."""
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_intent": {
                s.intent: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for s in self.per_intent
            },
        }

    def table(self) -> str:
        """A fixed-width text table, one intent a row, for printing."""
        width = max([len("intent"), *(len(s.intent) for s in self.per_intent)])
        rows = [f"{'intent':<{width}}  precision  recall     f1  support"]
        for s in self.per_intent:
            rows.append(
                f"{s.intent:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}"
                f"  {s.support:7d}"
            )
        rows.append(f"{'accuracy':<{width}}  {self.accuracy:.4f}   (n={self.n})")
        rows.append(f"{'macro F1':<{width}}  {self.macro_f1:.4f}")
        return "\n".join(rows)


def score_intents(gold: Sequence[str], predicted: Sequence[str]) -> IntentReport:
    """Accuracy, macro-F1 (over intents present in ``gold``) and per-intent scores.

    Args:
        gold: True intent per example.
        predicted: Predicted intent per example, same order.

    Returns:
        The report; intents appear in sorted order.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    true_pos: dict[str, int] = defaultdict(int)
    pred_count: dict[str, int] = defaultdict(int)
    gold_count: dict[str, int] = defaultdict(int)
    for g, p in zip(gold, predicted, strict=True):
        gold_count[g] += 1
        pred_count[p] += 1
        if g == p:
            true_pos[g] += 1
    scores = []
    for intent in sorted(gold_count):
        tp = true_pos[intent]
        precision = tp / pred_count[intent] if pred_count[intent] else 0.0
        recall = tp / gold_count[intent]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(IntentScore(intent, precision, recall, f1, gold_count[intent]))
    accuracy = sum(true_pos.values()) / len(gold) if gold else 0.0
    macro = sum(s.f1 for s in scores) / len(scores) if scores else 0.0
    return IntentReport(accuracy, macro, tuple(scores), len(gold))


def stratified_split(
    items: Sequence[T], labels: Sequence[str], fraction: float, *, seed: int = 0
) -> tuple[list[T], list[T]]:
    """Holds out about ``fraction`` of each label's items (at least one where a label has two).

    Args:
        items: What to split.
        labels: The label of each item.
        fraction: Share to hold out, in (0, 1).
        seed: Seeds the shuffle within each label.

    Returns:
        ``(kept, held_out)``, each in the original order.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError("fraction must be in (0, 1)")
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    rng = random.Random(seed)
    held: set[int] = set()
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        take = round(len(indices) * fraction) if len(indices) > 1 else 0
        held.update(indices[: max(take, 1 if len(indices) > 1 else 0)])
    kept = [item for i, item in enumerate(items) if i not in held]
    return kept, [item for i, item in enumerate(items) if i in held]
