"""Agent sign-in: argon2id passwords, session cookies, CSRF tokens, roles and lock-out.

The cookie (``concierge_console``) holds a random token; the database keeps only its SHA-256,
so a leaked database signs no one in. It is HttpOnly (scripts cannot read it), SameSite=Strict
(no other site's page sends it), scoped to ``/console`` (the widget's socket and the shop's
pages never carry it) and Secure, except for http://localhost and 127.0.0.1 when
``console.insecure_localhost_cookie`` says so (local development and tests).

Every state-changing call must send the session's CSRF token in ``X-CSRF-Token`` (compared in
constant time) and, when the browser sends an Origin, come from the console's own origin.
Anonymous calls get 401, a wrong role or token 403. Five wrong passwords in a row (the
``console.max_failed_logins``) lock the account for ``console.lockout_minutes``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.console.settings import ConsoleConfig
from bot.console.store import AgentAccount, AgentSession, ConsoleStore, Role

COOKIE = "concierge_console"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/console"
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MIN_PASSWORD = 10

HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
# Checked when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


class Unauthorized(web.HTTPUnauthorized):
    """No valid sign-in."""


def hash_password(password: str) -> str:
    """An argon2id hash of a password of at least :data:`MIN_PASSWORD` characters.

    Raises:
        ValueError: the password is too short.
    """
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
    return HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is calling, and their sign-in."""

    agent: AgentAccount
    session: AgentSession


class LoginRefused(Exception):
    """Why a sign-in was refused (the message is safe to show)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Auth:
    """Signs agents in and out and checks every console call."""

    def __init__(self, db: ConsoleStore, config: ConsoleConfig) -> None:
        self._db = db
        self._config = config

    async def login(self, email: str, password: str) -> tuple[SignedIn, str]:
        """Checks the password; returns the sign-in and the cookie's token.

        Raises:
            LoginRefused: 401 wrong email or password (the same answer for both), 429 locked.
        """
        now = time.time()
        agent = await self._db.find_agent(email)
        if agent is None or agent.disabled:
            await asyncio.to_thread(_verify, _DUMMY_HASH, password)
            raise LoginRefused("wrong email or password", 401)
        if agent.locked(now):
            raise LoginRefused("too many wrong passwords; try again later", 429)
        if not await asyncio.to_thread(_verify, agent.password_hash, password):
            after = await self._db.login_failed(
                agent.id,
                max_failures=self._config.max_failed_logins,
                lock_s=self._config.lockout_minutes * 60,
                now=now,
            )
            if after is not None and after.locked(now):
                raise LoginRefused("too many wrong passwords; try again later", 429)
            raise LoginRefused("wrong email or password", 401)
        await self._db.login_succeeded(agent.id)
        if HASHER.check_needs_rehash(agent.password_hash):
            await self._db.set_password(agent.id, await asyncio.to_thread(HASHER.hash, password))
        token = secrets.token_urlsafe(32)
        session = AgentSession(
            token_hash(token), agent.id, secrets.token_urlsafe(32), now,
            now + self._config.session_hours * 3600,
        )  # fmt: skip
        await self._db.create_session(session)
        return SignedIn(agent, session), token

    async def logout(self, signed_in: SignedIn) -> None:
        await self._db.delete_session(signed_in.session.token_hash)

    async def check(
        self, request: web.Request, *, role: Role | None = None, csrf: bool | None = None
    ) -> SignedIn:
        """The caller's sign-in, checked.

        ``csrf`` defaults to True for every method but GET/HEAD/OPTIONS.

        Raises:
            HTTPUnauthorized: no cookie, or an unknown or expired sign-in (401).
            HTTPForbidden: disabled account, wrong role, missing or wrong CSRF token, or a
                foreign Origin on a state-changing call (403).
        """
        token = request.cookies.get(COOKIE)
        if not token:
            raise web.HTTPUnauthorized(reason="sign in first")
        session = await self._db.get_session(token_hash(token), time.time())
        if session is None:
            raise web.HTTPUnauthorized(reason="your sign-in has expired")
        agent = await self._db.get_agent(session.agent_id)
        if agent is None or agent.disabled:
            raise web.HTTPForbidden(reason="this account is disabled")
        if role == "admin" and agent.role != "admin":
            raise web.HTTPForbidden(reason="admins only")
        if csrf if csrf is not None else request.method not in _SAFE_METHODS:
            if not same_origin(request):
                raise web.HTTPForbidden(reason="cross-site request refused")
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(sent, session.csrf_token):
                raise web.HTTPForbidden(reason="missing or wrong CSRF token")
        return SignedIn(agent, session)

    def set_cookie(self, request: web.Request, response: web.StreamResponse, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self._config.session_hours * 3600),
            path=COOKIE_PATH,
            httponly=True,
            secure=self.cookie_secure(request),
            samesite="Strict",
        )

    def clear_cookie(self, request: web.Request, response: web.StreamResponse) -> None:
        response.del_cookie(
            COOKIE, path=COOKIE_PATH, secure=self.cookie_secure(request), httponly=True,
            samesite="Strict",
        )  # fmt: skip

    def cookie_secure(self, request: web.Request) -> bool:
        """Secure everywhere but plain-HTTP loopback with the development switch on."""
        if request.secure or not self._config.insecure_localhost_cookie:
            return True
        return request.url.host not in _LOOPBACK


def same_origin(request: web.Request) -> bool:
    """True when the browser's Origin (if it sent one) is the console's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser's cross-site request; the CSRF token still has to match
    parts = urlsplit(origin)
    return f"{parts.hostname}:{parts.port or _default_port(parts.scheme)}" == (
        f"{request.url.host}:{request.url.port or _default_port(request.scheme)}"
    )


def _default_port(scheme: str) -> int:
    return 443 if scheme in ("https", "wss") else 80
