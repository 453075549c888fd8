"""The actions' words in the conversation's language: ``data/lang/<language>/actions.yml``.

Every sentence, button title, status and option name an action shows a shopper is a keyed
message there, with ``{placeholders}``; numbers, money and dates are formatted from the same
file (``format.*``, ``month.*``), so a shop adds a language by adding one file, no code. The
bot sets the ``language`` slot before any action runs; without it, or for a language without a
catalog, the shop's own language (English) is used. A key a catalog lacks falls back to the
English message, with a warning logged once per key.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

log = logging.getLogger(__name__)

LANGUAGE_SLOT = "language"
SHOP_LANGUAGE = "en"
LANG_DIR_ENV = "CONCIERGE_LANG_DIR"
CATALOG_FILE = "actions.yml"
_CODE = re.compile(r"^[a-z]{2,3}$")


def lang_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The folder of the language folders: ``$CONCIERGE_LANG_DIR``, else ``data/lang``.

    Found from this file's location, not the working directory, like the shop's data.
    """
    env = os.environ if environ is None else environ
    configured = env.get(LANG_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[1] / "data" / "lang"


def normalize_language(language: Any) -> str | None:
    """``"es"``, ``"ES"``, ``"es-MX"`` and ``"es_MX"`` are ``"es"``; anything else is ``None``."""
    if not isinstance(language, str):
        return None
    code = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    return code if _CODE.match(code) else None


def flatten(tree: Mapping[Any, Any], prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": "x"}}`` -> ``{"a.b": "x"}``; keys are made strings (``month: {1: Jan}``)."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = "" if value is None else str(value)
    return flat


def read_catalog(path: Path) -> dict[str, str]:
    """One catalog file as flat ``key -> message``; a missing file is an empty catalog.

    Raises:
        ValueError: the file is not a YAML mapping.
    """
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path} must be a mapping of message keys")
    return flatten(raw)


class _Leave(dict[str, Any]):
    """``str.format_map`` values that leave an unknown ``{name}`` as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Messages:
    """The messages of one language, with English under them for any key it lacks."""

    def __init__(
        self, language: str, texts: Mapping[str, str], fallback: Mapping[str, str]
    ) -> None:
        self.language = language
        self._texts = texts
        self._fallback = fallback
        self._warned: set[str] = set()

    @classmethod
    def for_language(cls, language: Any, directory: Path | None = None) -> Messages:
        """The messages for ``language`` (cached); an unknown language gets English."""
        return _messages(normalize_language(language) or SHOP_LANGUAGE, directory or lang_dir())

    @classmethod
    def for_tracker(cls, tracker: Tracker) -> Messages:
        """The messages for the conversation's ``language`` slot (English when unset)."""
        return cls.for_language(tracker.get_slot(LANGUAGE_SLOT))

    def text(self, key: str, **values: Any) -> str:
        """Message ``key`` with its ``{placeholders}`` filled.

        Raises:
            KeyError: not even the English catalog has ``key`` (a mistake in the code).
        """
        template = self._texts.get(key)
        if template is None:
            template = self._fallback[key]
            if key not in self._warned:
                self._warned.add(key)
                log.warning("no %r message for language %s; using English", key, self.language)
        return template.format_map(_Leave(values))

    def has(self, key: str) -> bool:
        """Whether ``key`` exists in this language or in English."""
        return key in self._texts or key in self._fallback

    def plural(self, key: str, count: int, **values: Any) -> str:
        """``key.one`` for a count of one, else ``key.other``; ``{count}`` is filled."""
        return self.text(f"{key}.{'one' if count == 1 else 'other'}", count=count, **values)

    def sentences(self, *parts: str) -> str:
        """Sentences one after another (a space in English, nothing in Chinese).

        Where the language puts nothing between sentences, a sentence of the shop's own text
        (a product description in English) still gets a space after it.
        """
        gap = self.text("format.sentence_gap")
        joined = ""
        for part in (p for p in parts if p):
            if joined:
                joined += gap or (" " if joined[-1].isascii() else "")
            joined += part
        return joined

    def join(self, parts: Sequence[str]) -> str:
        """``a``, ``a and b``, ``a, b and c`` in this language."""
        if len(parts) <= 1:
            return "".join(parts)
        rest = self.text("format.list_separator").join(parts[:-1])
        return self.text("format.list_last", rest=rest, last=parts[-1])

    def number(self, amount: float) -> str:
        """``1234.5`` -> ``"1,234.50"`` (English) or ``"1.234,50"`` (German): two decimals."""
        whole, cents = f"{abs(amount):,.2f}".split(".")
        group, decimal = self.text("format.group_mark"), self.text("format.decimal_mark")
        return ("-" if amount < 0 else "") + whole.replace(",", group) + decimal + cents

    def money(self, amount: float) -> str:
        """An amount of the shop's currency: ``"$62.11"``, ``"62,11 US$"``, ``"US$62.11"``."""
        return self.text("format.money", amount=self.number(amount))

    def day(self, date: dt.date | None) -> str:
        """``"Nov 21, 2026"``, ``"21 nov 2026"``, ``"21. Nov. 2026"``, ``"2026年11月21日"``."""
        if date is None:
            return self.text("format.unknown_day")
        month = self.text(f"month.{date.month}")
        return self.text("format.day", day=date.day, month=month, year=date.year)

    def short_day(self, date: dt.date | None) -> str:
        """The day without the year (``"Nov 21"``), for button titles; empty when unknown."""
        if date is None:
            return ""
        return self.text("format.short_day", day=date.day, month=self.text(f"month.{date.month}"))


@functools.cache
def _messages(language: str, directory: Path) -> Messages:
    english = read_catalog(directory / SHOP_LANGUAGE / CATALOG_FILE)
    if not english:
        raise FileNotFoundError(f"the English action messages are missing: {directory}")
    if language == SHOP_LANGUAGE:
        return Messages(language, english, english)
    texts = read_catalog(directory / language / CATALOG_FILE)
    if not texts:
        log.warning("no action messages for language %s in %s; using English", language, directory)
        return Messages(SHOP_LANGUAGE, english, english)
    return Messages(language, texts, english)


def response_text(domain: Mapping[str, Any], name: str, language: str) -> str | None:
    """The text of domain response ``name`` in ``language``, else its unconditional variant.

    The bot sends each translation as a Rasa conditional response variation (a ``condition``
    on the ``language`` slot); a real Rasa sends them the same way.
    """
    variants = (domain.get("responses") or {}).get(name) or []
    default: str | None = None
    for variant in variants:
        text = variant.get("text")
        if not isinstance(text, str) or not text:
            continue
        conditions = variant.get("condition") or []
        if not conditions:
            default = default or text
        elif all(
            c.get("type") == "slot"
            and c.get("name") == LANGUAGE_SLOT
            and c.get("value") == language
            for c in conditions
        ):
            return text
    return default
