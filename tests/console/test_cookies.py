"""The session cookie's Secure flag: on by default, even on plain-HTTP 127.0.0.1; off only with
``console.insecure_localhost_cookie`` and only for a loopback host."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import ROOT, Settings, load_settings
from bot.sessions import MemorySessionStore
from tests.console.helpers import PASSWORD, add_agent, build, console_settings


def with_switch(database: str, on: bool) -> Settings:
    settings = console_settings(database)
    console = dataclasses.replace(settings.console, insecure_localhost_cookie=on)
    return dataclasses.replace(settings, console=console)


async def cookie_of(
    aiohttp_server: Any, tmp_path: Path, *, switch: bool, host: str | None = None
) -> str:
    """The Set-Cookie of a sign-in on plain HTTP at 127.0.0.1 (``host``: the Host header)."""
    database = f"sqlite:///{tmp_path / 'console.sqlite'}"
    server = await aiohttp_server(
        build(with_switch(database, switch), MemorySessionStore()), host="127.0.0.1"
    )
    await add_agent(database, "ana@shop.example", "Ana")
    headers = {"Host": host} if host else {}
    async with (
        aiohttp.ClientSession(base_url=str(server.make_url("/"))) as browser,
        browser.post(
            "/console/api/login",
            json={"email": "ana@shop.example", "password": PASSWORD},
            headers=headers,
        ) as answer,
    ):
        assert answer.status == 200
        return answer.headers["Set-Cookie"]


def test_the_development_switch_is_off_by_default() -> None:
    assert load_settings(ROOT / "config.yml", env={}).console.insecure_localhost_cookie is False


async def test_secure_by_default_even_on_plain_http_loopback(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    cookie = await cookie_of(aiohttp_server, tmp_path, switch=False)
    assert cookie.startswith("concierge_console=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


@pytest.mark.parametrize("host", ["shop.example", "10.0.0.5:8080", "console.shop.example:443"])
async def test_the_switch_leaves_other_hosts_secure(
    aiohttp_server: Any, tmp_path: Path, host: str
) -> None:
    assert "Secure" in await cookie_of(aiohttp_server, tmp_path, switch=True, host=host)


@pytest.mark.parametrize("host", [None, "localhost:8080"])
async def test_the_switch_allows_plain_http_on_loopback_only(
    aiohttp_server: Any, tmp_path: Path, host: str | None
) -> None:
    assert "Secure" not in await cookie_of(aiohttp_server, tmp_path, switch=True, host=host)
