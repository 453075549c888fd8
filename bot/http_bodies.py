"""Short, printable excerpts of HTTP bodies, for error messages about what a server answered."""

from __future__ import annotations

SNIPPET_CHARS = 200


def snippet(body: bytes) -> str:
    """``body`` as text (undecodable bytes replaced), trimmed, cut to 200 characters + "..."."""
    text = body.decode("utf-8", errors="replace").strip()
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "..."
