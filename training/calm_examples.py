"""Calm examples drawn from the intent data and the labelled replies: most shoppers are calm,
and the feeling and screening heads need to see ordinary traffic as such."""

from __future__ import annotations

import random
from collections import defaultdict

from bot.config import ROOT
from bot.nlu.training_data import load_nlu_yaml
from training.reading_data import FeelingExample, language_files, load_training

CALM_PER_LANGUAGE = 300
UPSET_PRONE_INTENTS = frozenset({"complaint", "out_of_scope", "contact_human_agent"})
CALM_ACTS = frozenset({"inform", "affirm", "correction"})


def calm_requests(
    seed: int, per_language: int = CALM_PER_LANGUAGE, acts: frozenset[str] = CALM_ACTS
) -> list[FeelingExample]:
    """Ordinary requests and questions from the intent data, as more ``calm`` examples.

    Most shoppers are calm, and the frustration files hold as many upset examples as calm
    ones; without these the head took plain questions ("how heavy is it packed") for
    frustration. Complaints and unrelated messages are left out: they may be upset.
    """
    files = [("en", ROOT / "data" / "nlu.yml"), *language_files("nlu.yml")]
    rng = random.Random(seed)
    found = []
    for language, path in files:
        examples = [e for e in load_nlu_yaml(path).examples if e.intent not in UPSET_PRONE_INTENTS]
        rng.shuffle(examples)
        found += [FeelingExample(e.text, "calm", language) for e in examples[:per_language]]
    # Short answers to the bot's questions ("the last two", "put it on my amex") too.
    answers = [e for e in load_training("acts") if e.act in acts]
    rng.shuffle(answers)
    by_language: dict[str, int] = defaultdict(int)
    for example in answers:
        if by_language[example.language] < per_language:
            by_language[example.language] += 1
            found.append(FeelingExample(example.text, "calm", example.language))
    return found
