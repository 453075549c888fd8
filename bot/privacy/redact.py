"""Finds personal data in free text and replaces it with typed placeholders.

``redact(text)`` replaces emails with ``[email]``, payment card numbers with ``[card]``, phone
numbers with ``[phone]`` and street addresses with ``[address]``. It is applied where shoppers'
words leave a conversation: log lines, the console's analytics log, CSAT comments kept after the
conversation expires. The session store keeps what the shopper wrote, unredacted: the bot, the
actions and the agents need it to serve the conversation.

The rules are structural, not lists of known values:

- a card number is 13 to 19 digits starting with a card network's digit (2 to 6), single
  spaces or dashes between groups allowed, that pass the Luhn check, so an order id, a
  tracking number or an amount rarely looks like one (a 15-digit tracking number that happens
  to pass the check does);
- a phone number is ``+`` or ``00`` and a country code followed by 7 to 13 more digits, or a
  local number of 9 to 12 digits written with separators (``(555) 123-4567``, ``030 1234 5678``,
  ``06 12 34 56 78``), or a bare one with the trunk prefix 0 (``0612345678``) or a Chinese mobile
  (``13800138000``); digits fused to a ``#`` or a letter are ids, and candidates that hold a
  date are dates and dotted quads are IPv4 addresses;
- a street address is a house number beside a street word, in the order each language writes
  it: number first in English and French (``221B Baker Street``, ``12 rue de la Paix``), street
  first in Spanish and German (``Calle Mayor 12``, ``Hauptstraße 5``, ``Berliner Str. 12a``),
  and ``…路88号`` in Chinese.

What is deliberately left alone: order ids (``#W1234567``, ``5004592``), prices (``$1,299.99``,
``49,90 €``), dates, sizes (``32x34``, ``10.5``), zip codes on their own and names (a name
alone identifies no one in a shop's analytics; an address with it does, and is redacted).
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"
ADDRESS = "[address]"

# The local part is ASCII (a Han sentence runs into it without a space); domains may be IDN.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9_.%+-])[A-Za-z0-9_.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?!\w)"
)

# Digits touch Han text without a space ("手机是13800138000"), so the edges of a number are
# checked against ASCII letters and digits only, never against \w.
_ASCII = "A-Za-z0-9_"
# 13-19 digits, single spaces or dashes between them; no digit, letter or '#' fused to either end.
# The first digit is a card network's (2-6: Mastercard, Amex/Diners, Visa, Mastercard,
# Discover/UnionPay), which keeps most long ids and millisecond timestamps out.
_CARD = re.compile(rf"(?<![{_ASCII}#.,])[2-6](?:[ -]?\d){{12,18}}(?![.,]?[{_ASCII}])")

# Separators inside a phone number: space, dot, dash, slash (one at a time), parentheses round
# the area code.
_SEP = r"[ .\-/]?"
_INTERNATIONAL = re.compile(
    rf"(?<![{_ASCII}#+])(?:\+|00)[1-9]\d{{0,2}}(?:{_SEP}\(?\d{{1,8}}\)?)+(?![{_ASCII}])"
)
_LOCAL = re.compile(
    rf"(?<![{_ASCII}#+.,])(?:\(\d{{2,5}}\)\s?|\d{{2,5}}[ .\-/])\d{{2,8}}(?:[ .\-/]\d{{2,8}}){{0,3}}"
    rf"(?![{_ASCII}])"
    rf"|(?<![{_ASCII}#+.,])(?:0\d{{8,11}}|1[3-9]\d{{9}})(?![.,]?[{_ASCII}])"
)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,2}:\d{2}")

# --- street addresses --------------------------------------------------------------------------
_NUMBER = r"\d{1,5}(?:\s?[A-Za-z](?![\w]))?"
_UNIT = (
    r"(?:,?\s*(?:apt\.?|apartment|suite|ste\.?|unit|flat|#)\s*\d{1,5}[A-Za-z]?"
    r"|,?\s*(?:piso|planta|puerta|étage|etage|app\.?|whg\.?)\s*\d{1,3}\.?[ºª°]?\s?[A-Za-z]?"
    r"|,\s*\d{1,2}\s?[ºª°]\s?[A-Za-z]?(?![A-Za-z]))?"
)
# Words that join a sentence, never a street's name: "5 miles down the road" is no address.
_NOT_A_NAME = (
    r"(?!(?:the|a|an|of|on|in|to|at|by|for|and|or|my|your|our|this|that|down|up|more|"
    r"days?|weeks?|months?|years?|hours?|minutes?|times?|items?|pairs?)\b)"
)
_EN_STREET = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|parkway|pkwy|highway|hwy|circle|cir|square|sq|crescent|close|row|alley"
)
_EN_ADDRESS = (
    rf"(?<![\w#$€£.,]){_NUMBER}\s+(?:{_NOT_A_NAME}[A-Za-z][\w'’.-]*\s+){{1,3}}"
    rf"(?:{_EN_STREET})\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?{_UNIT}"
)
_FR_STREET = (
    r"rue|avenue|av\.|boulevard|bd|place|allée|allee|impasse|chemin|quai|route|cours|square|"
    r"passage|voie"
)
_FR_ADDRESS = (
    rf"(?<![\w#$€£.,])\d{{1,4}}(?:\s?(?:bis|ter|[A-Za-z](?!\w)))?,?\s+(?:{_FR_STREET})\s+"
    r"(?:(?:de|du|des|la|le|les|l['’]|d['’])\s*)*[\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]*){0,3}"
)
_ES_STREET = (
    r"calle|c/|avenida|avda\.?|av\.|paseo|plaza|pza\.|carrera|camino|ronda|travesía|travesia|"
    r"glorieta|carretera|ctra\.|rambla|callejón|callejon"
)
_ES_ADDRESS = (
    rf"(?<!\w)(?:{_ES_STREET})\s*(?:(?:de|del|la|las|los|el)\s+|[\w'’.-]+\s+){{0,5}}?"
    rf"[\w'’.-]+,?\s*(?:n[º°o]\.?\s*)?\d{{1,5}}[A-Za-z]?(?!\w){_UNIT}"
)
_DE_STREET = r"straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad"
_DE_ADDRESS = (
    rf"(?<!\w)(?:[A-ZÄÖÜ][\wäöüß-]*(?:{_DE_STREET})"
    rf"|(?:[A-ZÄÖÜ][\wäöüß-]*\s+){{1,2}}(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm))"
    r"\s*\d{1,4}\s?[a-z]?(?!\w)(?:\s*[-/]\s*\d{1,4})?"
)
# Han characters that start a clause rather than a place name ("请寄到…", "我的地址是…").
_HAN = r"(?:(?![的是在我你他她到寄送址给请和与了吗呢把要换改为想])[\u4e00-\u9fff])"
_ZH_ADDRESS = (
    rf"{_HAN}{{1,20}}?(?:路|街|大道|大街|巷|弄|胡同|道)\s*\d{{1,5}}\s*号"
    r"(?:\s*\d{1,5}\s*(?:号楼|栋|幢|单元|室|楼|层))*"
)
_ADDRESS = re.compile(
    "|".join(f"(?:{p})" for p in (_ZH_ADDRESS, _ES_ADDRESS, _FR_ADDRESS, _EN_ADDRESS)),
    re.IGNORECASE,
)
# German street names are nouns and start with a capital; without IGNORECASE "ring 5" in a
# sentence stays a ring size.
_DE = re.compile(_DE_ADDRESS)


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check payment cards carry."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _card(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def _phone(low: int, high: int) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = _digits(found)
        if not low <= len(digits) <= high or _DATE.search(found) or _IPV4.fullmatch(found):
            return found
        return PHONE

    return replace


def redact(text: str) -> str:
    """``text`` with emails, card numbers, phone numbers and street addresses replaced.

    Idempotent: the placeholders contain nothing any rule matches.
    """
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _CARD.sub(_card, text)
    text = _ADDRESS.sub(ADDRESS, text)
    text = _DE.sub(ADDRESS, text)
    text = _INTERNATIONAL.sub(_phone(8, 15), text)
    return _LOCAL.sub(_phone(9, 12), text)
