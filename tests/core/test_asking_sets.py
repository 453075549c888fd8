"""The labelled sets behind the asking rule (``data/eval/asking*.yml``): fair to tune and test on.

``asking-dev.yml`` and ``asking-dev-2.yml`` (harder wording, written later) are for writing the
rule; ``asking.yml`` and ``asking-2.yml`` are held out. All must be usable by
``benchmarks/asking.py``, cover every business topic with both labels, and not repeat each other
or the NLU's training examples.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.asking import LABELS, Labelled, load, measure
from bot.nlu.training_data import load_nlu_yaml
from training.answer_evaluation import normalize

ROOT = Path(__file__).resolve().parents[2]
SETS = {
    name: load(ROOT / f"data/eval/{name}.yml")
    for name in ("asking-dev", "asking-dev-2", "asking", "asking-2")
}
DEV = SETS["asking-dev"] + SETS["asking-dev-2"]
HELD_OUT = SETS["asking"] + SETS["asking-2"]
TOPICS = {
    "track_order", "list_orders", "cancel_order", "return_item", "exchange_item", "change_order",
    "change_shipping_address", "change_payment_method", "set_up_shipping_address", "get_refund",
    "track_refund",
}  # fmt: skip


@pytest.mark.parametrize("cases", SETS.values(), ids=SETS.keys())
def test_each_set_has_both_labels_on_every_business_topic(cases: list[Labelled]) -> None:
    per_topic = Counter((case.topic, case.reads) for case in cases)

    assert len(cases) >= 100
    assert {case.topic for case in cases} == TOPICS
    assert all(per_topic[(topic, label)] >= 3 for topic in TOPICS for label in LABELS)
    assert len({normalize(case.text) for case in cases}) == len(cases)


def test_the_sets_share_no_message_and_copy_no_training_example() -> None:
    examples = {normalize(e.text) for e in load_nlu_yaml(ROOT / "data/nlu.yml").examples}
    held_out = {normalize(case.text) for case in HELD_OUT}

    assert len(examples) > 100
    every = [normalize(c.text) for c in DEV + HELD_OUT]

    assert [c.text for c in DEV if normalize(c.text) in held_out] == []
    assert [c.text for c in DEV + HELD_OUT if normalize(c.text) in examples] == []
    assert len(set(every)) == len(every)


def test_a_malformed_entry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "asking.yml"
    path.write_text('- text: "where is it?"\n  reads: maybe\n  topic: track_order\n', "utf-8")

    with pytest.raises(SystemExit, match="entry 1: reads must be one of"):
        load(path)


def test_the_benchmark_counts_what_the_rule_reads() -> None:
    cases = [
        Labelled("can an order be cancelled after it ships?", "question", "cancel_order"),
        Labelled("cancel order 4829301 please", "request", "cancel_order"),
        Labelled("cancel order 4829301 please", "question", "cancel_order"),  # mislabelled
    ]

    result = measure(cases)

    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["recall"] == {"request": 1.0, "question": 0.5}
    assert result["misses"] == [
        {"text": "cancel order 4829301 please", "label": "question", "read": "request"}
    ]
