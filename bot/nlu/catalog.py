"""Gazetteer for the shop catalog: product names and option values (colours, sizes).

Shoppers write product names loosely ("the trail runners", "merino base layr"), so a name
matches in full, by a distinctive part, or with small typos. Option values match as whole
words; one- and two-letter sizes ("M", "XL") and numeric sizes only count in upper case or after
the word "size", because "m" and "10" mean too many other things.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.nlu.entities import SPACED_WORD_CHAR, RasaEntity, make_entity

CATALOG_EXTRACTOR = "CatalogEntityExtractor"

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9']*")
# Words that name a kind of thing rather than one product: alone they must not pick a product.
_GENERIC_TEXT = "the a an and of for with in men mens women womens kids unisex pack set size color"
_GENERIC = frozenset(_GENERIC_TEXT.split())
_COLOUR = frozenset({"color", "colour", "lens", "flavor", "flavour", "pattern"})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_SMALL_SIZE = re.compile(r"^(?:X{0,3}[SML]|XX?L|\d{1,2}(?:\.5)?)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    """A product's display name and the option values it comes in."""

    name: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Catalog:
    """The products a shop sells, as far as entity extraction needs them."""

    products: tuple[CatalogProduct, ...]
    option_values: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, products: Iterable[CatalogProduct]) -> Catalog:
        """Builds a catalog, collecting the distinct option values of all products."""
        kept = tuple(products)
        values = dict.fromkeys(v for p in kept for _, v in p.options)
        return cls(kept, tuple(values))


def load_catalog(path: Path) -> Catalog:
    """Reads products from a JSON file.

    Accepts a list of products, ``{"products": [...]}``, or a mapping of id to product. A
    product has ``name`` (or ``title``) and options as ``{"color": ["red", ...]}``, as
    ``[{"name": "color", "values": [...]}]``, or inside ``variants[*].options``.

    Raises:
        ConfigError: If the file is missing, is not JSON, or holds no named products.
    """
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("nlu.catalog", f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError("nlu.catalog", f"{path} is not valid JSON: {exc}") from exc
    if isinstance(raw, dict) and isinstance(raw.get("products"), list | dict):
        raw = raw["products"]
    items = raw.values() if isinstance(raw, dict) else raw
    products = []
    for item in items if isinstance(items, Iterable) else ():
        if isinstance(item, dict):
            name = item.get("name") or item.get("title")
            if isinstance(name, str) and name.strip():
                products.append(CatalogProduct(name.strip(), tuple(_options(item))))
    if not products:
        raise ConfigError("nlu.catalog", f"{path} holds no products with a name")
    return Catalog.of(products)


def load_glossary(language_dir: Path, languages: Sequence[str]) -> dict[str, str]:
    """How shoppers name the catalog's option values in the shop's other languages.

    Reads ``<language_dir>/<code>/catalog.yml`` (``options: {black: [noir, noire], ...}``) for
    each language that has one: a shop's own glossary, as its catalog is its own.

    Raises:
        ConfigError: a glossary file is not YAML of that shape.
    """
    return _read_glossaries(language_dir, languages, "options", required=True)


def load_product_words(language_dir: Path, languages: Sequence[str]) -> dict[str, str]:
    """The words that name one product each in the shop's other languages: the optional
    ``products: {Down Sleeping Bag: [Schlafsack, ...]}`` of the same files ("Schlafsack" ->
    Down Sleeping Bag), so "la del saco de dormir" names the product as its English name does.

    Raises:
        ConfigError: a glossary file is not YAML of that shape.
    """
    return _read_glossaries(language_dir, languages, "products", required=False)


def _read_glossaries(
    language_dir: Path, languages: Sequence[str], section: str, *, required: bool
) -> dict[str, str]:
    import yaml

    glossary: dict[str, str] = {}
    for code in languages:
        path = language_dir / code / "catalog.yml"
        if not path.is_file():
            continue
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError("nlu.catalog", f"{path} is not valid YAML: {exc}") from exc
        entries = raw.get(section) if isinstance(raw, dict) else None
        if entries is None and not required:
            continue
        if not isinstance(entries, dict):
            raise ConfigError("nlu.catalog", f"{path} needs a `{section}` mapping")
        for value, words in entries.items():
            for word in words if isinstance(words, list) else [words]:
                if isinstance(word, str) and word.strip():
                    glossary[word.strip()] = str(value)
    return glossary


def _options(item: dict[str, Any]) -> Iterator[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    sources: list[Any] = [item.get("options")]
    variants = item.get("variants")
    variants = variants.values() if isinstance(variants, dict) else variants or []
    sources += [v.get("options") or v.get("attributes") for v in variants if isinstance(v, dict)]
    for source in sources:
        pairs: list[tuple[str, Any]] = []
        if isinstance(source, dict):
            pairs = list(source.items())
        elif isinstance(source, list):
            pairs = [(o.get("name", ""), o.get("values")) for o in source if isinstance(o, dict)]
        for name, values in pairs:
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str | int | float) and str(value).strip():
                    pair = (str(name), str(value).strip())
                    if pair not in seen:
                        seen.add(pair)
                        yield pair


def _norm(token: str) -> str:
    token = token.lower().removesuffix("'s")
    # Plurals: "shoes" finds "Shoe", "runners" finds "Runner".
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    return token


@dataclass(frozen=True, slots=True)
class _Phrase:
    product: str
    tokens: tuple[str, ...]
    coverage: float


class CatalogExtractor:
    """Finds ``product`` and ``product_option`` entities; call it like a function."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        min_token_similarity: float = 0.8,
        glossary: Mapping[str, str] | None = None,
        product_words: Mapping[str, str] | None = None,
    ) -> None:
        self._catalog = catalog
        # How shoppers of the shop's other languages name its option values ("noir" -> black)
        # and its products ("Schlafsack" -> Down Sleeping Bag).
        # The glossary's words (lower-cased) by the value they name, so a message's known values
        # find theirs without a pass over every word of five languages.
        self._glossary_of: dict[str, dict[str, str]] = {}
        for word, value in (glossary or {}).items():
            self._glossary_of.setdefault(value.lower(), {})[word.lower()] = value
        names = {p.name for p in catalog.products}
        # Longest first, so "sac de couchage" is taken before a shorter word inside it; sorted
        # once here, not on every message.
        self._product_words = sorted(
            (
                (word.lower(), word.casefold(), name)
                for word, name in (product_words or {}).items()
                if name in names
            ),
            key=lambda entry: -len(entry[0]),
        )
        self._min_similarity = min_token_similarity
        self._phrases = _phrases(catalog)
        # Every word of a match must be similar to the text, the first one included, so only
        # phrases starting with a word similar to the token at hand can match there.
        self._phrases_by_first: dict[str, list[int]] = {}
        for index, phrase in enumerate(self._phrases):
            self._phrases_by_first.setdefault(phrase.tokens[0], []).append(index)
        self._vocabulary = frozenset(t for p in self._phrases for t in p.tokens)
        self._similar = lru_cache(maxsize=4096)(self._similar_uncached)
        self._options_of = {p.name: {v.lower(): v for _, v in p.options} for p in catalog.products}
        # Colours are safe to spot anywhere; "long", "single" or "light" only beside a product.
        self._colours = {
            v.lower(): v for p in catalog.products for k, v in p.options if k.lower() in _COLOUR
        }
        # Sizes too, but only where the text marks them as sizes (see _size_context).
        self._sizes = {v.lower(): v for p in catalog.products for k, v in p.options if k == "size"}

    @property
    def catalog(self) -> Catalog:
        """The catalog this extractor matches against."""
        return self._catalog

    def __call__(self, text: str, requested_slot: str | None = None) -> list[RasaEntity]:
        """Products and option values in ``text``, best matches first where they overlap.

        Args:
            text: The shopper's message.
            requested_slot: When it is ``"product"``, a single word may match with a rougher
                typo.
        """
        tokens = [(m.start(), m.end(), _norm(m.group())) for m in _TOKEN.finditer(text)]
        products = self._products(text, tokens, loose=requested_slot == "product")
        products += self._named_in_other_words(text, products)
        values = {**self._sizes, **self._colours}
        for product in products:
            values.update(self._options_of.get(product["value"], {}))
        known = {v.lower() for v in values.values()}
        for value in known:
            values.update(self._glossary_of.get(value, {}))
        return products + self._option_values(text, values)

    def _named_in_other_words(self, text: str, found: list[RasaEntity]) -> list[RasaEntity]:
        """Products named by a word of the glossaries, where no product was found already."""
        named: list[RasaEntity] = list(found)
        # A word absent from the case-folded text cannot match: most of the glossary's
        # hundreds of words are ruled out without running their patterns.
        folded = text.casefold()
        for word, word_folded, product in self._product_words:
            if word_folded not in folded:
                continue
            for m in _value_pattern(word).finditer(text):
                if any(m.start() < e["end"] and e["start"] < m.end() for e in named):
                    continue
                named.append(
                    make_entity("product", product, m.start(), m.end(), extractor=CATALOG_EXTRACTOR)
                )
        return named[len(found) :]

    def _products(
        self, text: str, tokens: list[tuple[int, int, str]], *, loose: bool
    ) -> list[RasaEntity]:
        candidates: list[tuple[float, int, int, str]] = []
        for start in range(len(tokens)):
            for phrase in self._starting_at(tokens[start][2]):
                size = len(phrase.tokens)
                if start + size > len(tokens):
                    continue
                sims = [
                    self._similar(tokens[start + i][2]).get(want, 0.0)
                    for i, want in enumerate(phrase.tokens)
                ]
                if not _plausible(sims, self._min_similarity, loose=loose):
                    continue
                # One word of a longer name ("rain", "recover", "tent") is usually just a word;
                # it names the product only when written as a name or as the answer to
                # "which product?".
                if size == 1 and phrase.coverage < 1 and not loose:
                    surface = text[tokens[start][0] : tokens[start][1]]
                    if not surface[:1].isupper() or start == 0:
                        continue
                score = (sum(sims) / size) * (0.7 + 0.3 * phrase.coverage)
                candidates.append((score, start, start + size - 1, phrase.product))
        chosen: list[RasaEntity] = []
        used: set[int] = set()
        # Longest, then best-scoring first, so "trail runner shoe" beats "trail runner".
        for score, first, last, product in sorted(candidates, key=lambda c: (c[1] - c[2], -c[0])):
            if used.isdisjoint(range(first, last + 1)):
                used.update(range(first, last + 1))
                start, end = tokens[first][0], tokens[last][1]
                chosen.append(
                    make_entity(
                        "product",
                        product,
                        start,
                        end,
                        extractor=CATALOG_EXTRACTOR,
                        confidence=score,
                    )
                )
        return chosen

    def _starting_at(self, token: str) -> list[_Phrase]:
        """The phrases whose first word is similar to ``token``, in catalog order."""
        if self._min_similarity <= 0:
            return list(self._phrases)
        indices = sorted(
            i for word in self._similar(token) for i in self._phrases_by_first.get(word, ())
        )
        return [self._phrases[i] for i in indices]

    def _option_values(self, text: str, values: dict[str, str]) -> list[RasaEntity]:
        found: list[RasaEntity] = []
        # A value absent from the case-folded text cannot match (its pattern ignores case):
        # most of the glossaries' values are ruled out here without running a pattern.
        folded = text.casefold()
        present = [(k, v) for k, v in values.items() if k.casefold() in folded]
        # Longer values first so "sky blue" is taken before "blue".
        for value_lower, value in sorted(present, key=lambda kv: -len(kv[0])):
            for m in _value_pattern(value_lower).finditer(text):
                needs_context = _SMALL_SIZE.match(value) or value_lower in self._sizes
                if needs_context and not _size_context(text, m.start(), m.group()):
                    continue
                if any(m.start() < e["end"] and e["start"] < m.end() for e in found):
                    continue
                found.append(
                    make_entity(
                        "product_option", value, m.start(), m.end(), extractor=CATALOG_EXTRACTOR
                    )
                )
        return found

    def _similar_uncached(self, token: str) -> dict[str, float]:
        if token in self._vocabulary:
            return {token: 1.0}
        if len(token) < 4:
            return {}
        result = {}
        for word in self._vocabulary:
            if len(word) < 4 or abs(len(word) - len(token)) > 2 or word[0] != token[0]:
                continue
            matcher = SequenceMatcher(None, token, word)
            if matcher.quick_ratio() >= self._min_similarity:
                ratio = matcher.ratio()
                if ratio >= self._min_similarity:
                    result[word] = ratio
        return result


@lru_cache(maxsize=16384)
def _value_pattern(value_lower: str) -> re.Pattern[str]:
    """An option value as a whole word (compiled once: with the glossaries of five languages a
    message is tried against over a thousand values, far more than ``re``'s own cache of 512
    holds, and compiling them again on every message took 90% of a turn)."""
    pattern = re.escape(value_lower)
    if not _CJK.search(value_lower):  # CJK scripts have no spaces between words
        # A word of a spaced script ends where a letter of its kind (or a hyphen) does: "M码"
        # (size M in Chinese) names M, "Mango" and "T-M" do not.
        pattern = rf"(?<!{SPACED_WORD_CHAR})(?<!-){pattern}(?!{SPACED_WORD_CHAR})(?!-)"
    return re.compile(pattern, re.IGNORECASE)


def _plausible(similarities: list[float], minimum: float, *, loose: bool) -> bool:
    """Whether per-word similarities add up to a match rather than a coincidence.

    Typos are only trusted beside more exactly matched words ("merino base layr"), or in one
    long word that is nearly right ("headlmp"); "sell jackets" is not "Shell Jacket" and
    "peanut" is not "Pant". ``loose`` (the bot asked which product) accepts a rougher word.
    """
    if min(similarities) < minimum:
        return False
    exact = sum(1 for s in similarities if s >= 1.0)
    typos = len(similarities) - exact
    if len(similarities) == 1:
        return exact == 1 or similarities[0] >= (minimum if loose else 0.9)
    return typos < exact


def _size_context(text: str, start: int, surface: str) -> bool:
    """Whether a size-like word is used as a size: "size 10", "in XL", "a Large", "M"."""
    before = text[max(0, start - 12) : start].lower()
    if re.search(r"\bsize\s*:?\s*$", before):
        return True
    if not surface.isalpha():
        return False  # "in 10 days" is not a size
    return surface.isupper() or bool(re.search(r"\b(?:in|an?)\s+$", before))


def _phrases(catalog: Catalog) -> list[_Phrase]:
    """Full names plus each product's distinctive parts (sub-runs no other product shares)."""
    names = {p.name: tuple(_norm(t) for t in _TOKEN.findall(p.name)) for p in catalog.products}
    runs: Counter[tuple[str, ...]] = Counter()
    for tokens in names.values():
        runs.update(
            {tokens[i:j] for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)}
        )
    phrases = []
    for name, tokens in names.items():
        if not tokens:
            continue
        phrases.append(_Phrase(name, tokens, 1.0))
        for i in range(len(tokens)):
            for j in range(i + 1, len(tokens) + 1):
                part = tokens[i:j]
                if part == tokens or runs[part] > 1 or all(t in _GENERIC for t in part):
                    continue
                if len(part) == 1 and (len(part[0]) < 4 or part[0].isdigit()):
                    continue
                phrases.append(_Phrase(name, part, len(part) / len(tokens)))
    return phrases
