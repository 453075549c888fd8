"""Identifying the shopper: by email, or by full name and zip code.

The parsing here is deliberately forgiving about how people type ("my email is X", "Emma
Nguyen", "97742-1234") and strict about what it accepts; lookups go through the shop port.
A failed lookup never says *why* it failed (no such email vs. wrong zip), so the bot cannot be
used to probe which accounts exist.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from actions.shop.port import Customer, ShopBackend
from actions.words import CJK

EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
ZIP_PATTERN = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
_NAME_PREFIX = re.compile(
    r"^\s*(?:hi|hello|hey)?[\s,]*(?:my\s+(?:full\s+)?name\s+is|name\s*:|i\s+am|i'm|im|it's|its|"
    r"this\s+is)\s+",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*\.?$")

# The messages (actions/locale.py) for a failed identification; none says *why* it failed.
MSG_EMAIL_FORMAT = "identity.email_format"
MSG_EMAIL_UNKNOWN = "identity.email_unknown"
MSG_NAME_FORMAT = "identity.name_format"
MSG_ZIP_FORMAT = "identity.zip_format"
MSG_NAME_ZIP_UNKNOWN = "identity.name_zip_unknown"


def parse_email(text: str) -> str | None:
    """The first email address in ``text``, lower-cased, or ``None``."""
    match = EMAIL_PATTERN.search(text)
    return match.group(0).lower() if match else None


def parse_zip(text: str) -> str | None:
    """The five-digit zip code in ``text`` (a ZIP+4 is cut to five digits), or ``None``."""
    matches = ZIP_PATTERN.findall(text)
    return matches[0] if len(matches) == 1 else None


def parse_full_name(text: str) -> str | None:
    """A cleaned "First Last" (two or more words) from ``text``, or ``None``.

    Leading phrases such as "my name is" are dropped; digits or symbols reject the name.
    """
    cleaned = _NAME_PREFIX.sub("", text).strip().strip(".,!")
    words = cleaned.split()
    if len(words) < 2 or not all(_NAME_WORD.match(word) for word in words):
        return None
    # Keep the shopper's capitals ("van Dyke"); only an all-lower-case name is capitalised.
    if cleaned.islower():
        words = [word.capitalize() for word in words]
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Identification:
    """The outcome of an identification attempt: the customer, or the message to send.

    ``message`` is the key of the message in the conversation's language.
    """

    customer: Customer | None
    message: str | None = None


def identify_by_email(shop: ShopBackend, text: str) -> Identification:
    """Looks up the account for an email the shopper typed."""
    email = parse_email(text)
    if email is None:
        return Identification(None, MSG_EMAIL_FORMAT)
    customer = shop.find_customer_by_email(email)
    return Identification(customer, None if customer else MSG_EMAIL_UNKNOWN)


def identify_by_name_zip(shop: ShopBackend, full_name: str, zip_code: str) -> Identification:
    """Looks up the account for a full name and zip code.

    Every split of the name into first and last name is tried ("Mary Ann Smith" may be
    "Mary Ann" + "Smith" or "Mary" + "Ann Smith"); the zip code narrows it to one account.
    """
    words = full_name.split()
    for cut in range(1, len(words)):
        customer = shop.find_customer_by_name_zip(
            " ".join(words[:cut]), " ".join(words[cut:]), zip_code
        )
        if customer is not None:
            return Identification(customer)
    return Identification(None, MSG_NAME_ZIP_UNKNOWN)


def identify_by_zip_and_words(
    shop: ShopBackend, zip_code: str, texts: Sequence[str]
) -> Customer | None:
    """The one account with ``zip_code`` whose first and last name the shopper wrote.

    Shoppers give their name in any case, language and order ("hola soy sofia marquez cp
    28808", "28850 — Lindqvist, Noah"), usually with no cue a name rule could rely on. The zip
    code narrows the shop to a handful of accounts, and the shopper has written one of them
    when every word of its first and last name stands in ``texts`` as a whole word (accents
    and case aside). This asks no more of the shopper than a name and zip code typed into
    their own slots, and it never tells which accounts a zip code has.

    Returns:
        The customer, or ``None`` when no account or more than one fits.
    """
    written = {word for text in texts for word in _folded_words(text)}
    fitting = [
        customer
        for customer in shop.find_customers_by_zip(zip_code)
        if (words := _folded_words(customer.full_name)) and words <= written
    ]
    return fitting[0] if len(fitting) == 1 else None


def _folded_words(text: str) -> set[str]:
    """The words of ``text`` without accents, case-folded ("Sofía" and "sofia" are one)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Chinese and Japanese write no spaces: "我是Zoe Bennett" holds the word "zoe".
    spaced = CJK.sub(" ", bare)
    return set(re.findall(r"[^\W\d_]+", spaced.casefold()))
