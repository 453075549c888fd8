"""Which web pages may open the widget's socket (``widget.allowed_origins``).

A browser always sends the page's ``Origin`` with a WebSocket handshake, and a page cannot
forge it; this is what stops another site from chatting as its visitors (cross-site WebSocket
hijacking). Clients that are not browsers send no Origin (and could send any), so a missing
Origin is allowed: the check protects shoppers' browsers, it does not authenticate clients.

Patterns: ``self`` (the origin the bot is reached at: the request's scheme and Host),
``https://shop.example`` (exact), ``http://localhost:*`` (any port), ``https://*.shop.example``
(any subdomain), ``*`` (any page; only for trying things out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.errors import ConfigError


@dataclass(frozen=True, slots=True)
class _Pattern:
    scheme: str
    host: str
    port: str
    """A port number, ``*``, or "" for the scheme's default."""


DEFAULT_PORTS = {"http": "80", "https": "443"}


def _split(origin: str) -> tuple[str, str, str] | None:
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.scheme, parts.hostname, str(port) if port else DEFAULT_PORTS[parts.scheme]


class OriginPolicy:
    """Matches a handshake's Origin against the configured patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._self = False
        self._any = False
        self._patterns: list[_Pattern] = []
        for raw in patterns:
            value = raw.strip().lower()
            if value == "self":
                self._self = True
            elif value == "*":
                self._any = True
            else:
                self._patterns.append(_parse_pattern(value))

    def allows(self, origin: str | None, own_origin: str) -> bool:
        """Whether a page at ``origin`` may connect to the bot reached at ``own_origin``."""
        if origin is None:
            return True
        if self._any:
            return True
        page = _split(origin)
        if page is None:
            return False  # "null" (sandboxed frames, files) and anything malformed
        if self._self and page == _split(own_origin):
            return True
        return any(_matches(pattern, page) for pattern in self._patterns)


def _parse_pattern(value: str) -> _Pattern:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in DEFAULT_PORTS or not rest or "/" in rest.rstrip("/"):
        raise ConfigError("widget.allowed_origins", f"{value!r} is not scheme://host[:port]")
    rest = rest.rstrip("/")
    host, colon, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    if not colon:
        host, port = rest, DEFAULT_PORTS[scheme]
    if port != "*" and not port.isdigit():
        raise ConfigError("widget.allowed_origins", f"{value!r} has a bad port")
    return _Pattern(scheme, host, port)


def _matches(pattern: _Pattern, page: tuple[str, str, str]) -> bool:
    scheme, host, port = page
    if scheme != pattern.scheme or (pattern.port != "*" and port != pattern.port):
        return False
    if pattern.host.startswith("*."):
        return host.endswith(pattern.host[1:])
    return host == pattern.host
