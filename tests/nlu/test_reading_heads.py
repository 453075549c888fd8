"""The shipped reading heads on held-out data written by people who never saw their training
data, each held to a floor a little below what was measured when they were trained
(models/reading/metrics.json), so that a worse retrain fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.nlu.classifier import IntentClassifier
from bot.nlu.heads import ReadingHeads
from bot.nlu.multilingual import UseEncoder
from bot.nlu.training_data import load_nlu_yaml
from training.train_reading import Embedder, score_held_out

REPO = Path(__file__).resolve().parents[2]
EVAL = REPO / "data" / "eval"
LANGUAGES = ("en", "zh", "es", "de", "fr")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder() -> UseEncoder:
    encoder = UseEncoder()
    encoder.load()
    return encoder


@pytest.fixture(scope="module")
def held_out(encoder: UseEncoder) -> dict[str, Any]:
    heads = ReadingHeads.load(REPO / "models" / "reading")
    return score_held_out(heads, Embedder(encoder, {}))


def test_dialogue_acts_on_held_out_messages_in_five_languages(held_out: dict[str, Any]) -> None:
    acts = held_out["acts"]
    assert acts["all"] >= 0.85, acts
    assert min(acts[language] for language in LANGUAGES) >= 0.80, acts


def test_request_or_question_on_the_held_out_asking_sets(held_out: dict[str, Any]) -> None:
    # The hand-written English rule this head replaced: 92.7% and 87.3%.
    assert held_out["asking"] >= 0.93
    assert held_out["asking-2"] >= 0.93


def test_frustration_on_held_out_messages(held_out: dict[str, Any]) -> None:
    assert held_out["feeling_upset_vs_calm"] >= 0.88
    assert held_out["feeling"]["all"] >= 0.85


def test_follow_ups_on_held_out_pairs(held_out: dict[str, Any]) -> None:
    assert held_out["follow_up"]["all"] >= 0.88, held_out["follow_up"]


def test_choices_among_offered_options(held_out: dict[str, Any]) -> None:
    assert held_out["choice"]["all"] >= 0.68, held_out["choice"]
    assert held_out["choice"]["en"] >= 0.85, held_out["choice"]


def test_intents_in_every_language_come_near_english(encoder: UseEncoder) -> None:
    """Held-out messages written natively in each language (data/eval/intents-*.yml)."""
    model = IntentClassifier.load(REPO / "models" / "nlu")
    accuracy = {}
    for language in LANGUAGES:
        examples = load_nlu_yaml(EVAL / f"intents-{language}.yml").examples
        probabilities = model.predict(encoder.encode([e.text for e in examples]))
        predicted = [
            model.intents[row.argmax()] if row.max() >= 0.4 else "out_of_scope"
            for row in probabilities
        ]
        accuracy[language] = sum(
            p == e.intent for p, e in zip(predicted, examples, strict=True)
        ) / len(examples)
    # Measured when trained: en 0.957, the others 0.914-0.959 of it (models/nlu/MODEL_CARD.md);
    # 0.9 of English is the goal each language must keep.
    assert accuracy["en"] >= 0.93, accuracy
    for language in LANGUAGES[1:]:
        assert accuracy[language] >= 0.9 * accuracy["en"], accuracy


def test_screening_catches_attacks_the_rules_miss_in_every_language(
    held_out: dict[str, Any],
) -> None:
    """data/eval/reading-screening.yml: 40 attacks and 30 ordinary messages per language."""
    refusals = held_out["screening_refusals"]
    both, rules = refusals["all"]["rules_and_head"], refusals["all"]["rules"]
    assert both["caught"] >= 0.75, refusals
    assert both["caught"] >= rules["caught"] + 0.4, refusals
    assert min(refusals[language]["rules_and_head"]["caught"] for language in LANGUAGES) >= 0.65
    assert both["refused_fine"] <= 0.02, refusals


def test_screening_lets_ordinary_messages_through(encoder: UseEncoder) -> None:
    """The held-out intent messages of every language (out_of_scope aside) are shop traffic: the
    head refuses next to none of them (1 of 1365 when trained)."""
    from bot.nlu.screening import learned_verdict
    from bot.nlu.understand import ReadingSettings

    heads = ReadingHeads.load(REPO / "models" / "reading")
    texts = [
        e.text
        for language in LANGUAGES
        for e in load_nlu_yaml(EVAL / f"intents-{language}.yml").examples
        if e.intent != "out_of_scope"
    ]
    probabilities = heads.screening.predict(encoder.encode(texts))
    bar = ReadingSettings().screening_min
    refused = [
        text
        for text, row in zip(texts, probabilities, strict=True)
        if learned_verdict(heads.screening.intents, row.tolist(), bar) is not None
    ]
    assert len(refused) <= 0.005 * len(texts), refused
