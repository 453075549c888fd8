"""Fills ``{{Placeholder}}`` values from the shop profile so a shopper never sees braces.

The knowledge base (and the Bitext-style answers the generator learned from) write shop-profile
values as ``{{Support Email}}``; the shop's config.yml supplies them, keyed however its author
likes (``support_email``, ``Support Email``, ``supportEmail`` all match).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
# Braces left over from malformed placeholders ("{{Shop Name}", "{{{x}}}") are dropped as well.
_STRAY_BRACES = re.compile(r"\{\{+|\}\}+")

# Neutral phrases for placeholders the profile does not define, chosen to read naturally in
# sentences such as "email us at X", "call X" and "visit X". First match on the key wins.
_FALLBACKS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("email",), "our support email address"),
    (("phone", "telephone", "hotline"), "our support phone line"),
    (("hours", "schedule"), "during our support hours"),
    (("url", "website", "site", "link", "page"), "our website"),
    (("shopname", "storename", "companyname", "brand", "shop", "store", "company"), "our shop"),
    (("ordernumber", "orderid", "order"), "your order number"),
    (("invoice",), "your invoice"),
    (("account",), "your account"),
    (("name", "customer", "client"), "there"),
    (("amount", "price", "money", "refund", "fee"), "the amount shown on your order"),
)
_DEFAULT_FALLBACK = "our support team"


def placeholder_key(name: str) -> str:
    """The form placeholder names are compared in: lower case letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def fallback_phrase(name: str) -> str:
    """The neutral phrase used for a placeholder that has no value, e.g. "our website"."""
    key = placeholder_key(name)
    for needles, phrase in _FALLBACKS:
        if any(needle in key for needle in needles):
            return phrase
    return _DEFAULT_FALLBACK


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Replaces every ``{{Name}}`` in ``text`` and guarantees no ``{{`` or ``}}`` remains.

    Keys match case-, space- and punctuation-insensitively, so ``{{Support Email}}`` is filled
    from ``values["support_email"]``. A placeholder without a (non-blank) value becomes a neutral
    phrase such as "our website" or "our support team" rather than leaking template syntax.

    Args:
        text: text with placeholders, e.g. a knowledge passage or a generated answer.
        values: shop-profile values, e.g. ``{"shop_name": "Northwind Outfitters"}``.

    Returns:
        The text with placeholders filled and any stray double braces removed.
    """
    lookup = {placeholder_key(k): v.strip() for k, v in values.items() if v and v.strip()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = lookup.get(placeholder_key(name))
        # A value that itself contains braces must not reintroduce template syntax.
        return _drop_double_braces(value) if value else fallback_phrase(name)

    return _drop_double_braces(_PLACEHOLDER.sub(replace, text))


def _drop_double_braces(text: str) -> str:
    # Repeated because removing "}}" from "{}}{" joins the single braces into a new "{{".
    while True:
        cleaned = _STRAY_BRACES.sub("", text)
        if cleaned == text:
            return text
        text = cleaned
