"""``python -m bot agents add|list|disable|enable|password`` and ``python -m bot console
migrate|revision|purge``.

The first admin account, on a fresh install::

    python -m bot console migrate
    python -m bot agents add --email you@shop.example --name "Your Name" --role admin

The password is asked twice on a terminal, or read from standard input (one line) when it is
piped, so it never appears in the shell's history or the process list.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
import time

from bot.config import Settings
from bot.console import migrate
from bot.console.auth import MIN_PASSWORD, hash_password
from bot.console.factory import create_console_store
from bot.console.store import ROLES, AgentExists, AgentId, Role


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="agents_command", required=True)
    add = sub.add_parser("add", help="create an account (password asked, or read from stdin)")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True, help="shown to shoppers when this agent joins")
    add.add_argument("--role", choices=ROLES, default="agent")
    sub.add_parser("list", help="every account, with role and state")
    for name, text in (("disable", "sign out everywhere and refuse sign-in"),
                       ("enable", "allow sign-in again"),
                       ("password", "set a new password (asked, or from stdin)")):  # fmt: skip
        command = sub.add_parser(name, help=text)
        command.add_argument("email")


def add_console_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="console_command", required=True)
    sub.add_parser("migrate", help="apply the schema migrations to console.database")
    sub.add_parser("revision", help="print the database's schema revision")
    sub.add_parser("purge", help="delete what is past console.retention_days now")


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password (at least {MIN_PASSWORD} characters): ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


async def run_agents(settings: Settings, args: argparse.Namespace) -> int:
    """Runs one ``agents`` command; returns the exit status."""
    migrate.upgrade(settings.console.database)
    db = create_console_store(settings.console.database)
    try:
        command = args.agents_command
        if command == "list":
            for agent in await db.list_agents():
                state = "disabled" if agent.disabled else "active"
                print(f"{agent.email}\t{agent.name}\t{agent.role}\t{state}")
            return 0
        if command == "add":
            role: Role = "admin" if args.role == "admin" else "agent"
            try:
                password_hash = hash_password(_password())
                agent_id = AgentId(f"a-{secrets.token_hex(6)}")
                await db.add_agent(
                    agent_id, args.email, args.name, role, password_hash, time.time()
                )
            except (ValueError, AgentExists) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"added {args.role} {args.email.strip().lower()} ({agent_id})")
            return 0
        found = await db.find_agent(args.email)
        if found is None:
            print(f"error: no agent with email {args.email!r}", file=sys.stderr)
            return 1
        agent = found
        if command == "password":
            try:
                await db.set_password(agent.id, hash_password(_password()))
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(f"password of {agent.email} changed")
            return 0
        await db.set_disabled(agent.id, command == "disable")
        print(f"{agent.email} {command}d")
        return 0
    finally:
        await db.aclose()


async def run_console(settings: Settings, args: argparse.Namespace) -> int:
    """Runs one ``console`` command."""
    database = settings.console.database
    if args.console_command == "purge":
        from bot.privacy.cli import run_purge

        return await run_purge(settings)
    if args.console_command == "migrate":
        migrate.upgrade(database)
    print(
        f"{migrate.sqlalchemy_url(database).split('@')[-1]}: revision {migrate.current(database)}"
    )
    return 0
