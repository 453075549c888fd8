"""``python -m bot erase`` and ``python -m bot console purge``: erasure and retention by hand.

    python -m bot erase --conversation telegram:12345
    python -m bot erase --shopper maya@example.com        # or a conversation id
    python -m bot console purge

Each prints what it removed as JSON. The command reaches the stores named in the settings: a
Redis session store and the console's database. With ``sessions.url: memory://`` the
conversations live inside the running bot, so only ``DELETE /conversations/{id}`` and
``DELETE /shoppers/{shopper}`` on the bot can erase them there; the command says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bot.config import Settings
from bot.console import migrate
from bot.console.factory import create_console_store
from bot.privacy.erase import Eraser
from bot.privacy.retention import purge
from bot.sessions import create_session_store


def add_erase_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--conversation", help="erase this conversation")
    who.add_argument(
        "--shopper", help="erase every conversation of this shopper (conversation id or email)"
    )


async def run_erase(settings: Settings, args: argparse.Namespace) -> int:
    """Erases a conversation or a shopper; prints the report as JSON."""
    sessions = settings.sessions
    if sessions.url.startswith("memory://"):
        print(
            "note: sessions.url is memory://, so conversations live in the running bot: "
            "only its DELETE endpoints erase them; this erases the console's database only",
            file=sys.stderr,
        )
    store = create_session_store(
        sessions.url,
        ttl_s=sessions.ttl_s,
        key_prefix=sessions.key_prefix,
        cluster=sessions.cluster,
    )
    console = None
    if settings.console.enabled:
        migrate.upgrade(settings.console.database)
        console = create_console_store(settings.console.database)
    eraser = Eraser(
        store, console, lock_ttl_s=sessions.lock_ttl_s, lock_wait_s=sessions.lock_wait_s
    )
    try:
        if args.conversation:
            report = await eraser.erase_conversation(args.conversation)
        else:
            report = await eraser.erase_shopper(args.shopper)
    finally:
        await store.aclose()
        if console is not None:
            await console.aclose()
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    return 0 if report.found else 1


async def run_purge(settings: Settings) -> int:
    """Deletes what is past retention in the console's database now; prints the counts."""
    migrate.upgrade(settings.console.database)
    db = create_console_store(settings.console.database)
    try:
        deleted = await purge(db, settings.console, time.time())
    finally:
        await db.aclose()
    print(json.dumps(deleted, indent=2))
    return 0
