"""Placeholder product pictures, drawn as SVG: the demo shop has no photos and nothing is fetched.

Each product gets a flat drawing of what it is (a shoe, a jacket, a tent …) on a soft tint of
a colour chosen from its id, so the demo page and the widget's product cards look like a shop
without any image downloaded. A shop with real photos sets ``image_url`` on its cards instead.
"""

from __future__ import annotations

import hashlib
from html import escape

PALETTE = (
    ("#5f8a6a", "#e6efe7"),  # sage
    ("#b86f4c", "#f5e6dd"),  # clay
    ("#4f6b82", "#e2e9ef"),  # slate
    ("#a8843f", "#f4ecda"),  # ochre
    ("#3d7d8f", "#dfedf0"),  # lake
    ("#7c5b7f", "#eee5ef"),  # heather
    ("#6b7a3c", "#eceedd"),  # moss
    ("#a45a5a", "#f3e3e3"),  # brick
)

# Each drawing is on a 240 x 180 canvas, centred near (120, 95); ``{c}`` is the product colour,
# ``{d}`` a darker line colour.
DRAWINGS = {
    "shoe": (
        '<path d="M52 118c0-14 6-30 14-40l16 6c10 4 20 4 28-2l8-6c14 10 30 22 52 26 '
        '14 3 22 8 22 18v8H52z" fill="{c}"/>'
        '<path d="M52 126h140v10a6 6 0 0 1-6 6H58a6 6 0 0 1-6-6z" fill="{d}"/>'
        '<path d="M100 92l8 10M114 86l8 10M128 84l8 10" stroke="#fff" stroke-width="4" '
        'stroke-linecap="round"/>'
    ),
    "sock": (
        '<path d="M104 40h40v64l-2 18c-2 16-16 26-32 24l-24-4c-14-2-22-14-18-26 4-12 16-16 '
        '28-14l8 1z" fill="{c}"/><rect x="104" y="40" width="40" height="14" rx="3" fill="{d}"/>'
    ),
    "tee": (
        '<path d="M92 46l-36 18 12 28 18-8v68h68V84l18 8 12-28-36-18c-4 10-14 16-28 16'
        's-24-6-28-16z" fill="{c}"/>'
        '<path d="M92 46c4 10 14 16 28 16s24-6 28-16" fill="none" stroke="{d}" stroke-width="4"/>'
    ),
    "jacket": (
        '<path d="M94 44l-34 16-10 82h26l6-50v60h76V92l6 50h26l-10-82-34-16-26 10z" '
        'fill="{c}"/><path d="M120 54v98" stroke="{d}" stroke-width="4"/>'
        '<path d="M94 44c0-10 12-18 26-18s26 8 26 18l-26 10z" fill="{d}"/>'
        '<rect x="88" y="110" width="18" height="4" rx="2" fill="#fff"/>'
        '<rect x="134" y="110" width="18" height="4" rx="2" fill="#fff"/>'
    ),
    "pants": (
        '<path d="M88 40h64l8 112h-30l-10-72-10 72H80z" fill="{c}"/>'
        '<rect x="88" y="40" width="64" height="12" rx="2" fill="{d}"/>'
        '<path d="M120 52v20" stroke="{d}" stroke-width="3"/>'
    ),
    "bottle": (
        '<rect x="100" y="30" width="40" height="16" rx="4" fill="{d}"/>'
        '<path d="M98 54c0-6 4-8 8-8h28c4 0 8 2 8 8v92a10 10 0 0 1-10 10h-24a10 10 0 0 1-10-10z"'
        ' fill="{c}"/><rect x="98" y="84" width="44" height="26" fill="#fff" opacity=".35"/>'
    ),
    "hat": (
        '<ellipse cx="120" cy="124" rx="76" ry="16" fill="{d}"/>'
        '<path d="M76 122c0-36 18-62 44-62s44 26 44 62z" fill="{c}"/>'
        '<rect x="78" y="106" width="84" height="10" fill="{d}" opacity=".6"/>'
    ),
    "beanie": (
        '<circle cx="120" cy="46" r="12" fill="{d}"/>'
        '<path d="M72 128c0-40 20-72 48-72s48 32 48 72z" fill="{c}"/>'
        '<rect x="70" y="118" width="100" height="26" rx="6" fill="{d}"/>'
    ),
    "glasses": (
        '<path d="M58 86h124" stroke="{d}" stroke-width="6" stroke-linecap="round"/>'
        '<path d="M64 86h46c0 22-8 34-24 34s-22-12-22-34zM130 86h46c0 22-6 34-22 34s-24-12-24-34z"'
        ' fill="{c}"/>'
    ),
    "glove": (
        '<path d="M92 150V92l-12-22c-4-8 6-14 12-8l10 14V46c0-8 12-8 12 0v30-40c0-8 12-8 12 0v40'
        '-34c0-8 12-8 12 0v36-24c0-8 12-8 12 0v58c0 20-10 34-26 38v24z" fill="{c}"/>'
        '<rect x="90" y="140" width="52" height="14" rx="3" fill="{d}"/>'
    ),
    "poles": (
        '<path d="M96 34l16 118M144 34l-16 118" stroke="{c}" stroke-width="8" '
        'stroke-linecap="round"/><rect x="88" y="30" width="16" height="30" rx="6" fill="{d}"/>'
        '<rect x="136" y="30" width="16" height="30" rx="6" fill="{d}"/>'
    ),
    "pack": (
        '<rect x="80" y="44" width="80" height="108" rx="22" fill="{c}"/>'
        '<path d="M100 44c0-14 8-20 20-20s20 6 20 20" fill="none" stroke="{d}" stroke-width="6"/>'
        '<rect x="92" y="104" width="56" height="36" rx="8" fill="{d}"/>'
        '<path d="M96 74h48" stroke="#fff" stroke-width="4" stroke-linecap="round"/>'
    ),
    "duffel": (
        '<rect x="52" y="74" width="136" height="68" rx="30" fill="{c}"/>'
        '<path d="M96 76c0-18 10-26 24-26s24 8 24 26" fill="none" stroke="{d}" stroke-width="6"/>'
        '<path d="M70 96h100" stroke="{d}" stroke-width="4"/>'
    ),
    "tent": (
        '<path d="M120 38l70 106H50z" fill="{c}"/><path d="M120 38l24 106h-48z" fill="{d}"/>'
        '<path d="M40 146h160" stroke="{d}" stroke-width="4" stroke-linecap="round"/>'
    ),
    "sleeping": (
        '<rect x="56" y="60" width="128" height="76" rx="38" fill="{c}"/>'
        '<circle cx="92" cy="98" r="22" fill="{d}"/>'
        '<path d="M124 74v48M144 74v48M164 80v36" stroke="#fff" stroke-width="3" opacity=".6"/>'
    ),
    "mug": (
        '<path d="M78 62h70v64a16 16 0 0 1-16 16H94a16 16 0 0 1-16-16z" fill="{c}"/>'
        '<path d="M148 76h12a14 14 0 0 1 0 28h-12" fill="none" stroke="{d}" stroke-width="8"/>'
        '<path d="M100 36c-6 8 6 12 0 20M120 36c-6 8 6 12 0 20" stroke="{d}" stroke-width="4" '
        'fill="none" stroke-linecap="round"/>'
    ),
    "lamp": (
        '<path d="M56 96c0-30 28-50 64-50s64 20 64 50" fill="none" stroke="{d}" stroke-width="10"/>'
        '<rect x="96" y="76" width="48" height="40" rx="10" fill="{c}"/>'
        '<circle cx="120" cy="96" r="12" fill="#fff" opacity=".8"/>'
    ),
    "stove": (
        '<rect x="84" y="96" width="72" height="52" rx="10" fill="{c}"/>'
        '<path d="M76 92h88M92 92l-10-16M148 92l10-16" stroke="{d}" stroke-width="6" '
        'stroke-linecap="round"/>'
        '<path d="M120 58c-10 12 0 18 0 26 8-6 10-16 0-26z" fill="#e8893b"/>'
    ),
    "bar": (
        '<rect x="52" y="76" width="136" height="44" rx="8" fill="{c}" '
        'transform="rotate(-12 120 98)"/>'
        '<rect x="84" y="82" width="72" height="32" rx="4" fill="#fff" opacity=".4" '
        'transform="rotate(-12 120 98)"/>'
    ),
    "tube": (
        '<rect x="96" y="50" width="48" height="96" rx="12" fill="{c}"/>'
        '<rect x="100" y="30" width="40" height="24" rx="6" fill="{d}"/>'
        '<path d="M106 88h28" stroke="#fff" stroke-width="4" stroke-linecap="round"/>'
    ),
    "generic": (
        '<path d="M40 146l50-64 30 36 22-26 58 54z" fill="{c}"/>'
        '<circle cx="164" cy="60" r="14" fill="{d}"/>'
    ),
}

KEYWORDS = (
    ("sock", "sock"),
    ("sandal", "shoe"),
    ("bottle", "bottle"),
    ("sun hat", "hat"),
    ("hat", "hat"),
    ("beanie", "beanie"),
    ("sunglasses", "glasses"),
    ("glove", "glove"),
    ("gaiter", "beanie"),
    ("pole", "poles"),
    ("duffel", "duffel"),
    ("tote", "duffel"),
    ("hip pack", "duffel"),
    ("tent", "tent"),
    ("sleeping bag", "sleeping"),
    ("sleeping pad", "sleeping"),
    ("stove", "stove"),
    ("headlamp", "lamp"),
    ("mug", "mug"),
    ("bar", "bar"),
    ("drink mix", "tube"),
    ("filter", "bottle"),
    ("sunscreen", "tube"),
    ("vest", "jacket"),
    ("bottom", "pants"),
)
CATEGORIES = {
    "footwear": "shoe",
    "tops": "tee",
    "outerwear": "jacket",
    "bottoms": "pants",
    "accessories": "hat",
    "packs & bags": "pack",
    "camp & hike": "tent",
    "trail food & care": "bar",
}


def drawing_for(name: str, category: str | None) -> str:
    """Which drawing shows a product: a word of its name first, else its category."""
    lowered = name.lower()
    for word, drawing in KEYWORDS:
        if word in lowered:
            return drawing
    return CATEGORIES.get((category or "").lower(), "generic")


def product_svg(product_id: str, name: str, category: str | None, *, inline: bool = False) -> str:
    """An SVG picture of the product; ``inline`` leaves out the XML prolog for HTML pages."""
    digest = hashlib.sha256(product_id.encode()).digest()
    colour, tint = PALETTE[digest[0] % len(PALETTE)]
    body = DRAWINGS[drawing_for(name, category)].format(c=colour, d=_darker(colour))
    label = escape(name)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 180" role="img" '
        f'aria-label="{label}"><rect width="240" height="180" fill="{tint}"/>'
        f'<path d="M0 150l46-30 34 18 48-40 50 34 62-26v74H0z" fill="{colour}" opacity=".12"/>'
        f"{body}</svg>"
    )
    return svg if inline else '<?xml version="1.0" encoding="UTF-8"?>\n' + svg


def _darker(colour: str, factor: float = 0.72) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(int(v * factor) for v in (red, green, blue)))
