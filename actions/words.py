"""How shoppers name the shop's fixed choices, in every shipped language:
``data/lang/<language>/words.yml``.

The refund and payment methods (PayPal, a gift card, a card, "the original one") and the two
cancellation reasons are read from the shopper's own words. Those words are data, one file per
language, like the actions' messages: a shop adds a language by adding a file. They are read
from every language at once, because a shopper writing Spanish may still say "PayPal" or
"Amex", and a word of one language rarely means one of these choices in another.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.locale import lang_dir

WORDS_FILE = "words.yml"
# CJK scripts write words without spaces: their words are found inside longer text.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A word of a spaced script ends where a letter of its kind does ("card" is not in "cardigan").
_SPACED = r"[0-9A-Za-z\u00C0-\u024F\u1E00-\u1EFF_]"


class WordsError(ValueError):
    """A words file that is not YAML of the documented shape."""


@dataclass(frozen=True, slots=True)
class ChoiceWords:
    """One pattern per choice, keyed ``group.choice`` (``payment.gift_card``)."""

    patterns: Mapping[str, re.Pattern[str]]

    def says(self, key: str, text: str) -> bool:
        """Whether ``text`` names choice ``key`` (``"payment.paypal"``) in any language."""
        pattern = self.patterns.get(key)
        return pattern is not None and pattern.search(text) is not None


def _pattern(words: list[str]) -> re.Pattern[str]:
    parts = []
    for word in sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True):
        escaped = re.escape(word).replace(r"\ ", r"\s+")
        if CJK.search(word):
            parts.append(escaped)
        else:
            parts.append(rf"(?<!{_SPACED}){escaped}(?!{_SPACED})")
    return re.compile("|".join(parts) or r"(?!x)x", re.IGNORECASE)


def read_words(folder: Path) -> ChoiceWords:
    """The words of every ``<folder>/<language>/words.yml``, merged per choice.

    Raises:
        WordsError: a file is not YAML of the shape ``group: {choice: [word, ...]}``.
    """
    merged: dict[str, list[str]] = {}
    for path in sorted(folder.glob(f"*/{WORDS_FILE}")):
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise WordsError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, Mapping):
            raise WordsError(f"{path}: expected a mapping of groups")
        for group, choices in raw.items():
            if group == "version":
                continue
            if not isinstance(choices, Mapping):
                raise WordsError(f"{path}: `{group}` must map choices to lists of words")
            for choice, words in choices.items():
                if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                    raise WordsError(f"{path}: `{group}.{choice}` must be a list of words")
                merged.setdefault(f"{group}.{choice}", []).extend(words)
    return ChoiceWords({key: _pattern(words) for key, words in merged.items()})


@functools.cache
def shop_words() -> ChoiceWords:
    """The words of the shipped languages (``$CONCIERGE_LANG_DIR`` or ``data/lang``)."""
    return read_words(lang_dir())
