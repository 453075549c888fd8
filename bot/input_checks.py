"""What clients send, checked once where it enters, before anything reads it.

What JSON (or Python's decoder) allows that the rest of the bot cannot take:

* **Lone surrogates.** ``"\\ud800"`` is a valid JSON string escape, but the Python string it
  decodes to cannot be encoded as UTF-8: a tokenizer, Redis or a log handler then raises
  deep inside a turn, and the client got a 500. Such text is refused here with a 400 that
  names the field and the position, or, for messaging platforms that would only deliver the
  same update again, each lone surrogate is replaced by U+FFFD and the message is answered.
* **Numbers Python cannot hold.** ``NaN``, ``Infinity``, ``1e999`` and integers of more than
  4300 digits are refused: the first three could not be written back as JSON, the last
  raises ``ValueError``.
* **Deep nesting.** Python's JSON decoder recurses once per bracket and a few thousand
  brackets raise ``RecursionError``; nothing the bot accepts nests deeper than a few levels,
  so bodies nested deeper than :data:`MAX_JSON_DEPTH` are refused.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from bot.errors import BadRequest

MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and arrays a request body may have (metadata included)."""

SurrogatePolicy = Literal["reject", "replace"]


def parse_json(
    raw: bytes | str,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    surrogates: SurrogatePolicy = "reject",
) -> Any:
    """Decodes a JSON document from a client, checked for depth and Unicode.

    Args:
        raw: the body (UTF-8 bytes) or its text.
        max_depth: deepest nesting of objects and arrays allowed.
        surrogates: ``reject`` (a 400 naming where) or ``replace`` lone surrogates with U+FFFD.

    Raises:
        BadRequest: not UTF-8, not JSON, nested too deeply, or text that is not valid Unicode.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"body is not UTF-8 (invalid byte at offset {exc.start})") from None
    try:
        value = json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise BadRequest(f"body is nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # a number JSON allows and Python will not hold
        raise BadRequest(f"body is not JSON the bot can read: {exc}"[:200]) from None
    return checked_tree(value, max_depth=max_depth, surrogates=surrogates)


def _finite(text: str) -> float:
    # 1e999 would become inf, which no JSON encoder (the session store's included) writes back.
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is out of range for a number")
    return number


def _no_constant(name: str) -> float:
    # Python's decoder accepts NaN and Infinity, which are not JSON (RFC 8259).
    raise ValueError(f"{name} is not a JSON value")


def checked_tree(
    value: Any, *, max_depth: int = MAX_JSON_DEPTH, surrogates: SurrogatePolicy = "reject"
) -> Any:
    """``value`` (decoded JSON) checked for depth, with its text checked or repaired.

    Iterative, so that a document nested just under Python's recursion limit cannot make
    this check itself recurse too deeply. Returns ``value`` itself when nothing was replaced.

    Raises:
        BadRequest: nested deeper than ``max_depth``, or a lone surrogate with ``reject``.
    """
    root: list[Any] = [value]
    # (container, key or index, depth of the container, path for messages)
    stack: list[tuple[Any, Any, int, str]] = [(root, 0, 0, "")]
    while stack:
        container, key, depth, path = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _text(item, path or "body", surrogates)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise BadRequest(f"body is nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                if not all(name.isascii() for name in item) and surrogates == "replace":
                    item = container[key] = {scrub(k): v for k, v in item.items()}
                for name in item:
                    short = name if len(name) <= 40 else name[:40] + "…"
                    where = f"{path}.{short}" if path else short
                    _text(name, f"a key in {path or 'the body'}", "reject")
                    stack.append((item, name, depth + 1, where))
            else:
                for index in range(len(item)):
                    stack.append((item, index, depth + 1, f"{path}[{index}]"))
    return root[0]


def lone_surrogate_at(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None when it is valid Unicode."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def require_unicode(text: str, field: str) -> str:
    """``text`` unchanged when it is valid Unicode.

    Raises:
        BadRequest: naming ``field``, the position and the code point.
    """
    return _text(text, field, "reject")


def scrub(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (the replacement character)."""
    if lone_surrogate_at(text) is None:
        return text
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def _text(text: str, field: str, surrogates: SurrogatePolicy) -> str:
    at = lone_surrogate_at(text)
    if at is None:
        return text
    if surrogates == "replace":
        return scrub(text)
    raise BadRequest(
        f"`{field}` is not valid Unicode: a lone surrogate U+{ord(text[at]):04X} at "
        f"character {at} (send UTF-8 text; escape characters outside the BMP as pairs)"
    )
