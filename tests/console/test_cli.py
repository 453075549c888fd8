"""``python -m bot agents …`` as an operator runs it: a subprocess on a temporary SQLite
console database, the password piped on standard input; what it stores is read back through
the console store and the real sign-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ROOT, load_settings
from bot.console.auth import Auth, LoginRefused
from bot.console.factory import create_console_store
from bot.console.store import AgentAccount

PASSWORD = "a long enough secret"


class Agents:
    """Runs ``python -m bot agents`` against one database file."""

    def __init__(self, database: str) -> None:
        self.database = database

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CONCIERGE__CONSOLE__DATABASE": self.database}
        return subprocess.run(
            [sys.executable, "-m", "bot", "agents", *args],
            cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    async def account(self, email: str) -> AgentAccount | None:
        db = create_console_store(self.database)
        try:
            return await db.find_agent(email)
        finally:
            await db.aclose()

    async def signs_in(self, email: str, password: str) -> bool:
        db = create_console_store(self.database)
        settings = load_settings(ROOT / "config.yml", env={})
        try:
            await Auth(db, settings.console).login(email, password)
            return True
        except LoginRefused:
            return False
        finally:
            await db.aclose()


@pytest.fixture
def agents(tmp_path: Path) -> Agents:
    return Agents(f"sqlite:///{tmp_path / 'console.sqlite'}")


async def test_add_list_disable_enable_and_password(agents: Agents) -> None:
    added = agents("add", "--email", "Ana@Shop.example", "--name", "Ana Ruiz", "--role", "admin",
                   stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added admin ana@shop.example" in added.stdout
    assert agents("add", "--email", "sam@shop.example", "--name", "Sam Lee",
                  stdin=PASSWORD + "\n").returncode == 0  # fmt: skip

    account = await agents.account("ana@shop.example")
    assert account is not None
    assert (account.name, account.role, account.disabled) == ("Ana Ruiz", "admin", False)
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    assert await agents.signs_in("ana@shop.example", PASSWORD)

    listed = agents("list")
    assert listed.returncode == 0
    assert sorted(listed.stdout.splitlines()) == [
        "ana@shop.example\tAna Ruiz\tadmin\tactive",
        "sam@shop.example\tSam Lee\tagent\tactive",
    ]

    assert agents("disable", "sam@shop.example").returncode == 0
    assert "sam@shop.example\tSam Lee\tagent\tdisabled" in agents("list").stdout
    assert not await agents.signs_in("sam@shop.example", PASSWORD)
    assert agents("enable", "sam@shop.example").returncode == 0
    assert await agents.signs_in("sam@shop.example", PASSWORD)

    changed = agents("password", "sam@shop.example", stdin="another long secret\n")
    assert changed.returncode == 0, changed.stderr
    assert await agents.signs_in("sam@shop.example", "another long secret")
    assert not await agents.signs_in("sam@shop.example", PASSWORD)
    sam = await agents.account("sam@shop.example")
    assert sam is not None
    assert sam.password_hash.startswith("$argon2id$")


async def test_short_passwords_duplicates_and_unknown_emails_are_refused(agents: Agents) -> None:
    short = agents("add", "--email", "ana@shop.example", "--name", "Ana", stdin="short\n")
    assert short.returncode == 1
    assert "at least 10 characters" in short.stderr
    assert await agents.account("ana@shop.example") is None

    assert agents("add", "--email", "ana@shop.example", "--name", "Ana",
                  stdin=PASSWORD + "\n").returncode == 0  # fmt: skip
    again = agents("add", "--email", "ANA@shop.example", "--name", "Ana 2", stdin=PASSWORD + "\n")
    assert again.returncode == 1
    too_short = agents("password", "ana@shop.example", stdin="123456789\n")
    assert too_short.returncode == 1
    assert await agents.signs_in("ana@shop.example", PASSWORD)  # unchanged
    assert agents("disable", "nobody@shop.example").returncode == 1
