"""The screening head's recipe: its examples (the labelled screening files and everyday
traffic as ``none``) and how the rules and the head together score on labelled messages."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.nlu.classifier import IntentClassifier
from bot.nlu.screening import learned_verdict, screen_request
from training.calm_examples import calm_requests
from training.reading_data import ScreeningExample, load_training

# Ordinary messages of each language added to the screening head's ``none`` examples.
SCREENING_CALM_PER_LANGUAGE = 1000
SCREENING_MASHING = 300


def screening_examples(seed: int) -> list[ScreeningExample]:
    """The labelled screening files, and the other heads' ordinary messages as ``none``.

    Beside the screening files (``screening*.yml``: attacks and ordinary messages), the everyday
    traffic a screen must let through, in the same languages: the intent data's requests
    (:func:`calm_requests`), every labelled reply to the bot's questions (a reason, a yes, a
    correction: ``acts*.yml``), frustrated messages without insults (``frustration*.yml``;
    angry ones may insult) and made-up words (:func:`keyboard_mashing`). A message the rules
    refuse is never taken as ordinary.
    """
    labelled: list[ScreeningExample] = list(load_training("screening"))
    ordinary = [(e.text, e.language) for e in calm_requests(seed + 1, SCREENING_CALM_PER_LANGUAGE)]
    ordinary += [(e.text, e.language) for e in load_training("acts")]
    ordinary += [(e.text, e.language) for e in load_training("frustration") if e.feeling != "angry"]
    ordinary += [(text, "xx") for text in keyboard_mashing(seed, SCREENING_MASHING)]
    seen = {e.text for e in labelled}
    for text, language in ordinary:
        if text not in seen and screen_request(text) is None:
            seen.add(text)
            labelled.append(ScreeningExample(text, "none", language))
    return labelled


def keyboard_mashing(seed: int, count: int) -> list[str]:
    """Made-up words ("qwzx blorp"): shoppers mash keys, and the encoder, which never saw such
    text, puts some of it near insults; as ``none`` they teach the head that no words is no
    attack."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        " ".join(
            "".join(rng.choice(letters) for _ in range(rng.randint(2, 7)))
            for _ in range(rng.randint(1, 4))
        )
        for _ in range(count)
    ]


def screening_scores(
    head: IntentClassifier,
    features: np.ndarray[Any, Any],
    examples: Sequence[ScreeningExample],
    bar: float,
) -> dict[str, Any]:
    """How the screen does on labelled messages: the rules alone, and the rules with the head
    at ``bar`` (as :class:`bot.nlu.understand.Understander` runs them), per language.

    ``caught`` is the share of attacks refused (any category), ``refused_fine`` the share of
    ordinary messages refused, ``category`` the share of attacks refused as their own label.
    """
    probabilities = head.predict(features)
    rows: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
    for example, p in zip(examples, probabilities, strict=True):
        rule = screen_request(example.text)
        learned = learned_verdict(head.intents, p.tolist(), bar)
        both = rule or learned
        entry = (example.label, rule.category if rule else None, both.category if both else None)
        rows[example.language].append(entry)
        rows["all"].append(entry)

    def rates(entries: list[tuple[str, str | None, str | None]], which: int) -> dict[str, float]:
        attacks = [e for e in entries if e[0] != "none"]
        fine = [e for e in entries if e[0] == "none"]
        return {
            "caught": round(float(np.mean([e[which] is not None for e in attacks])), 4),
            "category": round(float(np.mean([e[which] == e[0] for e in attacks])), 4),
            "refused_fine": round(float(np.mean([e[which] is not None for e in fine])), 4),
        }

    return {
        language: {"rules": rates(entries, 1), "rules_and_head": rates(entries, 2)}
        for language, entries in sorted(rows.items())
    }
