"""Rule-based entity extractors: email, order id, zip code, person, money.

Every extractor returns Rasa entity dicts with a normalised ``value`` and character offsets into
the original text. :class:`EntityExtractor` runs them in a fixed order and drops a later match
that overlaps an earlier one, which is how a zip code inside an email or an order id is avoided.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict

REGEX_EXTRACTOR = "RegexEntityExtractor"
# Entities the message only refers back to ("is it waterproof?"), added from the dialogue
# state (bot/nlu/understand.py); the actions see the same name in the parse data.
CONTEXT_EXTRACTOR = "context"


class RasaEntity(TypedDict):
    """One entity as Rasa's ``/model/parse`` reports it."""

    entity: str
    value: str
    start: int
    end: int
    extractor: str
    confidence: float


def make_entity(
    entity: str,
    value: str,
    start: int,
    end: int,
    *,
    extractor: str = REGEX_EXTRACTOR,
    confidence: float = 1.0,
) -> RasaEntity:
    """Builds one entity dict (keeps the key order of Rasa's JSON)."""
    return {
        "entity": entity,
        "value": value,
        "start": start,
        "end": end,
        "extractor": extractor,
        "confidence": round(confidence, 4),
    }


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# A letter or digit of a script written with spaces: where such a run ends, a number may end.
# Chinese characters are not one ("邮编55442", "订单#1775018的" hold a zip and an order id).
SPACED_WORD_CHAR = r"[0-9A-Za-z\u00C0-\u024F\u1E00-\u1EFF_]"
_W = SPACED_WORD_CHAR
# "#" + optional 1-2 letters + 6-8 digits ("#4821937", "#W1234567", "# w1234567").
_ORDER_HASH = re.compile(r"#\s?(?P<prefix>[A-Za-z]{1,2})?(?P<digits>\d{6,8})(?!" + _W + ")")
# Without "#": after the word "order", or bare (see extract_order_id).
_ORDER_WORDED = re.compile(
    r"\border\s*(?:number|no\.?|num|id|#)?\s*[:#]?\s*"
    r"(?P<id>(?P<prefix>[A-Za-z]{1,2})?(?P<digits>\d{6,8}))(?!" + _W + ")",
    re.IGNORECASE,
)
_ORDER_BARE = re.compile(
    r"(?<![#$€£.,])(?<!" + _W + r")(?P<prefix>[A-Za-z]{1,2})?(?P<digits>\d{6,8})(?!" + _W + ")"
)
_ZIP = re.compile(r"(?<![#$€£.,-])(?<!" + _W + r")(?P<zip>\d{5})(?:-\d{4})?(?!" + _W + r"|[.,]\d)")
_AMOUNT = r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
_MONEY_SYMBOL = re.compile(r"(?P<symbol>[$€£])\s?" + _AMOUNT + r"(?![\d])")
_MONEY_WORD = re.compile(
    r"(?<![\w.])" + _AMOUNT + r"\s?(?P<word>dollars?|bucks|usd|euros?|eur|pounds?|gbp)\b",
    re.IGNORECASE,
)
_MONEY_CODE = re.compile(r"\b(?P<word>USD|EUR|GBP)\s?" + _AMOUNT + r"(?![\d])")
_CURRENCY = {
    "$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "usd": "USD",
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "£": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "gbp": "GBP",
}

_NAME_WORD = r"[A-Za-z][A-Za-z'\-]*"
# Cues after which any-case words are a name; after "I'm"/"this is" only capitalised ones are,
# because "I'm looking for..." is far more common in a shop than a name.
_NAME_CUE_ANY = re.compile(
    r"\b(?:(?:full\s+)?name\s+is|name\s*:|name's)\s+"
    r"(?P<name>" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,2})",
    re.IGNORECASE,
)
_NAME_CUE_CAPITALISED = re.compile(
    r"\b(?:[Ii]'?m|[Ii] am|[Tt]his is)\s+"
    r"(?P<name>[A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+){1,2})\b"
)
# Words that end a name (or show there is none): "my name is emma and my email is ...".
_NOT_NAME_TEXT = """
    a an and at but by for from here i im in is it its just looking me my no not now of on or
    order please so still sure thanks that the there this to trying want with yes you your
    wondering having hoping calling writing interested unable sorry happy glad new back good
    fine okay ok hi hello hey email mail zip code number address
    id ill ive like prefer make same replacement would could can
"""
_NOT_NAME_WORDS = frozenset(_NOT_NAME_TEXT.split())
_FILLER = re.compile(
    r"^(?:(?:sure|yes|yeah|ok|okay|it'?s|it is|that'?s|that is|name is|my name is|i'?m|"
    r"this is|the name is|full name|name)[\s,:]+)+",
    re.IGNORECASE,
)


def extract_email(text: str) -> list[RasaEntity]:
    """Email addresses, lower-cased."""
    return [
        make_entity("email", m.group().lower(), m.start(), m.end()) for m in _EMAIL.finditer(text)
    ]


def normalise_order_id(prefix: str | None, digits: str) -> str:
    """``w1234567`` -> ``#W1234567``; ``4821937`` -> ``#4821937``."""
    return f"#{(prefix or '').upper()}{digits}"


def extract_order_id(text: str, *, requested: bool = False) -> list[RasaEntity]:
    """Order ids written ``#4821937``/``#W1234567``, after the word "order", or bare.

    Args:
        text: The message.
        requested: Whether the bot just asked for the order id; a bare "4821937" is then
            surer (0.9 against 0.8).
    """
    found: list[RasaEntity] = [
        make_entity("order_id", normalise_order_id(m["prefix"], m["digits"]), m.start(), m.end())
        for m in _ORDER_HASH.finditer(text)
    ]
    for m in _ORDER_WORDED.finditer(text):
        found.append(
            make_entity(
                "order_id",
                normalise_order_id(m["prefix"], m["digits"]),
                m.start("id"),
                m.end("id"),
                confidence=0.95,
            )
        )
    # A bare number of an order id's length is one in any language ("Bestellung 5004592",
    # "pedido 1610257", "订单5004592"), surer when the bot asked for it. Zip codes (five digits),
    # tracking numbers (12 and more) and amounts (with a currency) are other lengths or shapes.
    for m in _ORDER_BARE.finditer(text):
        value = normalise_order_id(m["prefix"], m["digits"])
        confidence = 0.9 if requested else 0.8
        found.append(make_entity("order_id", value, m.start(), m.end(), confidence=confidence))
    return _without_overlaps(found)


def extract_zip_code(text: str) -> list[RasaEntity]:
    """US zip codes: five digits, or ZIP+4 reduced to its five digits."""
    return [make_entity("zip_code", m["zip"], m.start(), m.end()) for m in _ZIP.finditer(text)]


def extract_money(text: str) -> list[RasaEntity]:
    """Amounts with a currency: "$12.50", "€30", "12 dollars", "USD 40" -> "12.50 USD"."""
    found: list[RasaEntity] = []
    for pattern in (_MONEY_SYMBOL, _MONEY_WORD, _MONEY_CODE):
        for m in pattern.finditer(text):
            unit = m.groupdict().get("symbol") or m["word"]
            amount = float(m["amount"].replace(",", ""))
            value = f"{amount:.2f} {_CURRENCY[unit.lower()]}"
            found.append(make_entity("money", value, m.start(), m.end()))
    return _without_overlaps(found)


def extract_person(text: str) -> list[RasaEntity]:
    """Names introduced by a cue: "my name is X Y", "name: X Y", "I'm X Y", "this is X Y"."""
    found: list[RasaEntity] = []
    for pattern in (_NAME_CUE_ANY, _NAME_CUE_CAPITALISED):
        for m in pattern.finditer(text):
            span = _trim_name(text, m.start("name"), m.end("name"))
            if span is not None:
                found.append(_person(text, *span))
    return _without_overlaps(found)


def extract_bare_name(
    text: str, *, requested: bool = False, beside_details: bool = False
) -> list[RasaEntity]:
    """A name given without a cue, at the start of the message.

    Args:
        text: The message.
        requested: Whether the bot just asked for the shopper's name; then a leading run of
            one to four name-like words ("emma nguyen", "it's Emma Nguyen and ...") counts.
        beside_details: Whether the message also holds a zip code or email; then a leading
            run of two or three capitalised words ("Emma Nguyen, 94110") counts.
    """
    if not (requested or beside_details):
        return []
    span = _bare_name(text)
    if span is None or not (requested or _is_capitalised_name(text[span[0] : span[1]])):
        return []
    return [_person(text, *span, confidence=0.8)]


_WORD = re.compile(r"[^\W\d_][^\W\d_'\-]*")
_HOUSE_NUMBER = re.compile(r"(?<![\w#])\d{1,6}\s+[A-Z]")


def extract_capitalised_name(text: str, near: int | None = None) -> list[RasaEntity]:
    """A run of two to four capitalised words ("Noah Lindqvist", "José García").

    Used only beside a zip code, where a shopper is saying who they are ("Hi, Noah Lindqvist
    here, zip 28850 — …"): capitalisation and adjacency are structure, true in every
    Latin-script language, and the shop confirms the name with the zip code. A message with
    a street address ("22 Oak Street, Portland 97214") is giving an address, not a name; of
    several runs, the one nearest ``near`` (the zip code's position) is taken.
    """
    if _HOUSE_NUMBER.search(text):
        return []  # a street address: its zip code and capitalised words are not a name
    runs: list[tuple[int, int]] = []
    run: list[re.Match[str]] = []
    for word in [*_WORD.finditer(text), None]:
        joined = word is not None and (
            not run or text[run[-1].end() : word.start()] in (" ", "\u00a0")
        )
        if word is not None and joined and word.group()[0].isupper():
            run.append(word)
            continue
        if 2 <= len(run) <= 4 and not all(w.group().isupper() for w in run):
            runs.append((run[0].start(), run[-1].end()))
        run = [word] if word is not None and word.group()[0].isupper() else []
    if not runs:
        return []
    start, end = min(runs, key=lambda r: abs(r[0] - near) if near is not None else 0)
    return [_person(text, start, end, confidence=0.7)]


def _person(text: str, start: int, end: int, confidence: float = 1.0) -> RasaEntity:
    value = " ".join(w[:1].upper() + w[1:] for w in text[start:end].split())
    return make_entity("person", value, start, end, confidence=confidence)


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cuts a candidate name at the first word that cannot be part of one."""
    kept_end = start
    for word in re.finditer(r"\S+", text[start:end]):
        if word.group().lower().replace("'", "") in _NOT_NAME_WORDS:
            break
        kept_end = start + word.end()
    return (start, kept_end) if kept_end > start else None


def _bare_name(text: str) -> tuple[int, int] | None:
    """The leading run of 1-4 name-like words, after filler such as "sure, it's"."""
    filler = _FILLER.match(text)
    start = filler.end() if filler else 0
    end = start
    first: int | None = None
    count = 0
    for word in re.finditer(r"[^\s,;.!?]+", text[start:]):
        between = text[end : start + word.start()]
        if count and not between.isspace():
            break  # a comma or full stop ends the name
        bare = word.group().lower().replace("'", "")
        if not re.fullmatch(_NAME_WORD, word.group()) or bare in _NOT_NAME_WORDS:
            break
        count += 1
        if first is None:
            first = start + word.start()
        end = start + word.end()
    if first is None or count > 4:
        return None
    return first, end


def _is_capitalised_name(candidate: str) -> bool:
    words = candidate.split()
    return 2 <= len(words) <= 3 and all(w[0].isupper() for w in words)


def _without_overlaps(entities: Sequence[RasaEntity]) -> list[RasaEntity]:
    """Keeps the first of overlapping entities (callers list stronger evidence first)."""
    kept: list[RasaEntity] = []
    for entity in entities:
        if all(entity["end"] <= k["start"] or entity["start"] >= k["end"] for k in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e["start"])


Extractor = Callable[[str, "str | None"], list[RasaEntity]]


@dataclass(frozen=True, slots=True)
class EntityExtractor:
    """Runs the rule extractors and an optional catalog gazetteer over one message.

    Attributes:
        catalog: Extracts ``product``/``product_option`` when the shop catalog is known.
    """

    catalog: Extractor | None = None

    def extract(self, text: str, *, requested_slot: str | None = None) -> list[RasaEntity]:
        """All entities in ``text``, sorted by start, none overlapping.

        Args:
            text: The shopper's message.
            requested_slot: The slot the bot just asked for (e.g. ``"order_id"``), which lets
                a bare answer such as "4821937" or "emma nguyen" be taken as that entity.

        Returns:
            Rasa entity dicts.
        """
        # Order matters: an earlier extractor's span wins, so an email's digits are never a
        # zip code and an order id's digits never a zip code or an amount.
        found: list[RasaEntity] = []
        found += extract_email(text)
        found += extract_order_id(text, requested=requested_slot == "order_id")
        found += extract_money(text)
        found += extract_zip_code(text)
        found += extract_person(text)
        if self.catalog is not None:
            found += self.catalog(text, requested_slot)
        details = any(e["entity"] in ("email", "zip_code") for e in found)
        found += extract_bare_name(
            text, requested=requested_slot == "customer_name", beside_details=details
        )
        zips = [e["start"] for e in found if e["entity"] == "zip_code"]
        if zips:
            found += extract_capitalised_name(text, near=zips[0])
        return _without_overlaps(found)
