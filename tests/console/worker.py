"""One bot worker process for the multi-worker tests and the benchmark::

    python -m tests.console.worker --port 8101 --redis redis://127.0.0.1:6379/15 \\
        --prefix concierge-test --database sqlite:////tmp/console.sqlite [--cluster]

The bot of tests/console/helpers.py (scripted NLU and actions, the real widget channel, the
real console) on a Redis session store and the Redis console bus, so several such processes
are several workers of one bot (``--cluster``: ``--redis`` is a node of a Redis Cluster).
Widget limits are raised by the caller through ``CONCIERGE__WIDGET__…`` variables when it
sends many messages.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os

from aiohttp import web

from bot.sessions import RedisSessionStore
from tests.console.helpers import build, console_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--cluster", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    env = {k: v for k, v in os.environ.items() if k.startswith("CONCIERGE__")}
    settings = console_settings(args.database, env, migrate_on_start=False)
    settings = dataclasses.replace(
        settings,
        sessions=dataclasses.replace(
            settings.sessions, url=args.redis, key_prefix=args.prefix, cluster=args.cluster
        ),
    )
    store = RedisSessionStore(args.redis, key_prefix=args.prefix, cluster=args.cluster)
    web.run_app(build(settings, store), host="127.0.0.1", port=args.port, print=None,
                access_log=None)  # fmt: skip


if __name__ == "__main__":
    main()
