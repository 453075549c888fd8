"""Text helpers shared by the messaging renderers (Telegram, WhatsApp): no I/O."""

from __future__ import annotations

from typing import Any

CHOOSE = "Please choose:"
"""The text above buttons that came without one (both platforms require a text)."""


def card_caption(card: dict[str, Any]) -> str:
    """Title, price line and reason of a product card, one per line."""
    lines = [str(card.get(key) or "").strip() for key in ("title", "subtitle", "reason")]
    return "\n".join(line for line in lines if line)


def is_fetchable(url: str) -> bool:
    """Whether a platform's servers could fetch the image (an absolute http(s) URL)."""
    return url.startswith(("https://", "http://"))


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line or word ends."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
