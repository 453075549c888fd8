"""Which language a shopper writes in: detected per message, sticky per conversation.

Detection is Lingua (``lingua-language-detector``, Apache-2.0, its models inside the package),
restricted to the shop's languages so it never answers with one the bot cannot speak. Short
replies carry little evidence ("ok", "no", "#4821937", an email), and a wrong switch would turn
the whole conversation to another language, so the conversation's language changes only when
a message has enough letters of its own and the detector is confident; otherwise it stays.
The bars were chosen on the intent training examples of the five languages (a first message
is right 95.2% of the time; a message in the conversation's language keeps it 99.6%; one in
another language switches 89.4%; gibberish rarely moves it): ``benchmarks/language.py``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError

SUPPORTED = ("en", "zh", "es", "de", "fr")
"""Languages the bot ships translations and examples for; a shop may add more."""

# Parts of a message that are the same in every language: they must not vote.
_NEUTRAL = re.compile(
    r"\S+@\S+|https?://\S+|#?[A-Za-z]*\d[\w\-]*|[^\w\s]",
)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


_SHARED: dict[tuple[str, ...], Any] = {}
_SHARED_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The detector's best language for a text and how sure it is (0 to 1)."""

    language: str | None
    confidence: float


class LanguageDetector:
    """Detects the language of a message among ``languages`` (ISO 639-1 codes).

    Args:
        languages: the languages the shop speaks; the first is the shop's own.
        min_letters: a message with fewer letters of its own (ids, emails, numbers and
            names given in ``ignore`` removed) keeps the conversation's language.
        min_confidence: a conversation's first message is taken to be in the detected
            language from this confidence on; below it, in the shop's own.
        switch_confidence: a conversation changes language from this confidence on.
    """

    def __init__(
        self,
        languages: Sequence[str] = SUPPORTED,
        *,
        min_letters: int = 6,
        min_confidence: float = 0.5,
        switch_confidence: float = 0.6,
    ) -> None:
        if not languages:
            raise ConfigError("languages.supported", "name at least one language")
        unknown = [code for code in languages if _lingua_name(code) is None]
        if unknown:
            raise ConfigError("languages.supported", f"unknown language code(s) {unknown}")
        self.languages = tuple(languages)
        self._min_letters = min_letters
        self._min_confidence = min_confidence
        self._switch_confidence = switch_confidence
        self._detector: Any = None
        self._lock = threading.Lock()

    @property
    def default(self) -> str:
        """The shop's own language (the first configured)."""
        return self.languages[0]

    def load(self) -> None:
        """Builds the detector (about 0.4 s and 150 MB for five languages); idempotent.

        Lingua's detector is immutable and thread-safe, and its models are large, so one is
        shared by every detector of the process for the same languages (a test or benchmark
        that builds an app per case would otherwise hold 150 MB per app).
        """
        with self._lock:
            if self._detector is not None:
                return
            if len(self.languages) == 1:
                self._detector = _Single(self.languages[0])
                return
            with _SHARED_LOCK:
                if self.languages not in _SHARED:
                    from lingua import Language, LanguageDetectorBuilder

                    chosen = [getattr(Language, str(_lingua_name(c))) for c in self.languages]
                    _SHARED[self.languages] = (
                        LanguageDetectorBuilder.from_languages(*chosen)
                        .with_preloaded_language_models()
                        .build()
                    )
                self._detector = _SHARED[self.languages]

    def guess(self, text: str, *, ignore: Sequence[str] = ()) -> LanguageGuess:
        """The most likely language of ``text``, ignoring ids, emails and ``ignore`` phrases."""
        own = _own_words(text, ignore)
        if _HAN.search(own) and "zh" in self.languages:
            # Han characters settle it among the shipped languages (none other uses them).
            return LanguageGuess("zh", 1.0)
        letters = sum(ch.isalpha() for ch in own)
        if letters == 0:
            return LanguageGuess(None, 0.0)
        self.load()
        if isinstance(self._detector, _Single):
            return LanguageGuess(self._detector.code, 1.0)
        values = self._detector.compute_language_confidence_values(own)
        if not values:
            return LanguageGuess(None, 0.0)
        best = values[0]
        code = best.language.iso_code_639_1.name.lower()
        return LanguageGuess(code, float(best.value) if letters >= self._min_letters else 0.0)

    def choose(
        self, text: str, current: str | None, *, ignore: Sequence[str] = ()
    ) -> tuple[str, LanguageGuess]:
        """The conversation's language after ``text``, and the guess it was based on.

        ``current`` (the conversation's language so far, or a channel's hint) is kept unless
        the message is clearly in another supported language.
        """
        guess = self.guess(text, ignore=ignore)
        known = current if current in self.languages else None
        bar = self._min_confidence if known is None else self._switch_confidence
        if guess.language is None or guess.confidence < bar:
            return known or self.default, guess
        return guess.language, guess


@dataclass(frozen=True, slots=True)
class _Single:
    code: str


def _own_words(text: str, ignore: Sequence[str]) -> str:
    text = unicodedata.normalize("NFKC", text)
    for phrase in sorted(ignore, key=len, reverse=True):
        if phrase:
            text = re.sub(re.escape(phrase), " ", text, flags=re.IGNORECASE)
    return " ".join(_NEUTRAL.sub(" ", text).split())


def _lingua_name(code: str) -> str | None:
    return {
        "en": "ENGLISH",
        "zh": "CHINESE",
        "es": "SPANISH",
        "de": "GERMAN",
        "fr": "FRENCH",
        "it": "ITALIAN",
        "pt": "PORTUGUESE",
        "nl": "DUTCH",
        "ja": "JAPANESE",
        "ko": "KOREAN",
        "pl": "POLISH",
        "sv": "SWEDISH",
        "da": "DANISH",
    }.get(code)
