"""How a shopper's message is worded: its words, and whether it opens with a given phrase.

Shared by the rules that read wording rather than meaning: whether a message is a follow-up
(:mod:`bot.knowledge.followup`) and whether it asks about an action or for it
(:mod:`bot.policy.asking`). Both must split a message into the same words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """The lowercased words of ``text``, contractions kept whole ("don't", "i'd")."""
    return _WORD.findall(text.lower())


def opens_with(message_words: Sequence[str], openings: Sequence[tuple[str, ...]]) -> bool:
    """Whether the words begin with one of ``openings`` (each a tuple of words)."""
    return any(tuple(message_words[: len(o)]) == o for o in openings)
