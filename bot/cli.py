"""Command line: ``python -m bot run|chat|train|parse|search|config|actions|telegram|agents|
console|erase``.

No logic here.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ROOT, Settings, describe, load_settings
from bot.errors import ConciergeError
from bot.observability.logs import configure_logging

if TYPE_CHECKING:
    from bot.action_server_process import ActionServerProcess

log = logging.getLogger("bot")


# Commands served by a module of the training/ package: name -> (module, help).
_TOOLS = {
    "train-generator": (
        "training.train_generator",
        "fine-tune the answer model (LoRA) into generator.adapter (--help for options)",
    ),
    "train-reading": (
        "training.train_reading",
        "train the act, feeling, follow-up and choice heads into nlu.reading_dir",
    ),
    "eval-answers": (
        "training.eval_answers",
        "score answers on the held-out questions (data/eval/answers.yml; --help for options)",
    ),
    "eval-dialogues": (
        "training.eval_dialogues",
        "score multi-turn conversations (data/eval/dialogues*.yml; --help for options)",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in _TOOLS:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
        configure_logging(settings.logging, verbose=args.verbose)
        if args.command == "config":
            print(describe(settings), end="")
            return 0
        if args.command == "actions":
            return _run_action_server(settings)
        if args.command in _TOOLS:
            module = importlib.import_module(_TOOLS[args.command][0])
            tool_main: Callable[[Sequence[str]], int] = module.main
            return tool_main([*extra, *args.tool_args])
        if args.command == "train":
            return _train(settings, args)
        return asyncio.run(_COMMANDS[args.command](settings, args))
    except ConciergeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Concierge shop bot")
    parser.add_argument("--config", type=Path, default=None, help="config file (config.yml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="serve the bot (and the action server) over HTTP")
    run.add_argument("--host", help="override server.host")
    run.add_argument("--port", type=int, help="override server.port")
    run.add_argument(
        "--no-actions", action="store_true", help="do not start the action server here"
    )
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--sender", default="terminal", help="conversation id")
    chat.add_argument(
        "--no-actions", action="store_true", help="use an action server that is already running"
    )
    train = sub.add_parser("train", help="train the intent classifier from data/nlu.yml")
    train.add_argument("--out", type=Path, help="model folder (default: nlu.model_dir)")
    train.add_argument(
        "--bitext",
        type=Path,
        default=ROOT.parent
        / "shared/datasets/bitext-customer-support/bitext_cs_train_v2_8b6ca3d.csv",
        help="Bitext CSV to add to the training data, read in place",
    )
    train.add_argument("--no-bitext", action="store_true", help="train on data/nlu.yml only")
    train.add_argument("--seed", type=int, default=0)
    for name, (_, help_text) in _TOOLS.items():
        # Training and evaluation live in training/, outside the runtime package: the tool
        # parses its own arguments and is imported only when its command runs.
        tool = sub.add_parser(name, help=help_text, add_help=False)
        tool.add_argument("tool_args", nargs=argparse.REMAINDER)
    parse = sub.add_parser("parse", help="print the NLU parse of a text")
    parse.add_argument("text")
    search = sub.add_parser(
        "search", help="show how the knowledge base ranks its sections for a question"
    )
    from bot.search_command import add_arguments as add_search_arguments

    add_search_arguments(search)
    telegram = sub.add_parser("telegram", help="manage the Telegram webhook (setWebhook …)")
    from bot.channels.telegram_cli import add_arguments as add_telegram_arguments

    add_telegram_arguments(telegram)
    from bot.console.cli import add_agent_arguments, add_console_arguments
    from bot.privacy.cli import add_erase_arguments

    add_agent_arguments(sub.add_parser("agents", help="support agent accounts (add, list …)"))
    add_console_arguments(sub.add_parser("console", help="the agent console's database"))
    add_erase_arguments(
        sub.add_parser("erase", help="erase a conversation or a shopper everywhere (privacy)")
    )
    sub.add_parser("config", help="print the effective settings")
    sub.add_parser("actions", help="run only the rasa-sdk action server")
    return parser


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.appkeys import EMBEDDED_ACTIONS
    from bot.composition import build_app

    host = args.host or settings.server.host
    port = args.port or settings.server.port
    action_server = None
    embedded = None
    if settings.action_server.embedded and not args.no_actions:
        action_server = _action_server(settings)
        embedded = await action_server.start()
        settings = _talking_to(settings, embedded.url)
    app = build_app(settings)
    if embedded is not None:
        app[EMBEDDED_ACTIONS] = embedded  # GET /ready names it
    runner = web.AppRunner(app, access_log=None)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info(
            "Concierge on http://%s:%d (sessions: %s, actions: %s)",
            host, port, settings.sessions.url, settings.action_server.url,
        )  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
        if action_server is not None:
            await action_server.stop()
    return 0


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.composition import build_parts
    from bot.domain import ConversationId, IncomingMessage
    from bot.pipeline import Pipeline

    logging.getLogger().setLevel(logging.WARNING)
    action_server = None
    if settings.action_server.embedded and not args.no_actions:
        action_server = _action_server(settings)
        settings = _talking_to(settings, (await action_server.start()).url)
    parts = build_parts(settings)
    pipeline = Pipeline(
        settings=settings,
        store=parts.store,
        reader=parts.reader,
        knowledge=parts.knowledge,
        actions=parts.actions,
        domain=parts.dialogue.domain,
        policy=parts.dialogue.policy,
    )
    try:
        for _, warmup in parts.lifecycle.warmups:
            await warmup()
        print(f"{settings.shop.name} assistant — type a message, /quit to leave.")
        buttons: list[str] = []
        loop = asyncio.get_running_loop()
        while True:
            try:
                text = (await loop.run_in_executor(None, input, "you> ")).strip()
            except EOFError:
                break
            if text in ("/quit", "/exit"):
                break
            if not text:
                continue
            if text.isdigit() and 0 < int(text) <= len(buttons):
                text = buttons[int(text) - 1]
            replies = await pipeline.handle(
                IncomingMessage(ConversationId(args.sender), text, "cli")
            )
            buttons = []
            for reply in replies:
                if reply.text:
                    print(f"bot> {reply.text}")
                for button in reply.buttons:
                    buttons.append(button.payload)
                    print(f"     [{len(buttons)}] {button.title}")
                if reply.custom:
                    print(f"     {json.dumps(dict(reply.custom), ensure_ascii=False)}")
    finally:
        for close in (*parts.lifecycle.closers, parts.actions.aclose, parts.store.aclose):
            await close()
        if action_server is not None:
            await action_server.stop()
    return 0


async def _parse(settings: Settings, args: argparse.Namespace) -> int:
    from bot.composition import build_parts
    from bot.dialogue_state import DialogueState

    parts = build_parts(settings)
    try:
        for _, warmup in parts.lifecycle.warmups:
            await warmup()
        reading = await parts.reader.read(args.text, DialogueState())
        print(json.dumps(reading.to_rasa(), indent=2, ensure_ascii=False))
    finally:
        for close in parts.lifecycle.closers:
            await close()
    return 0


def _train(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu.multilingual import UseEncoder
    from bot.nlu.train import train_nlu

    bitext = None if args.no_bitext or not args.bitext.exists() else args.bitext
    if bitext is None and not args.no_bitext:
        print(f"note: {args.bitext} not found; training on data/nlu.yml only", file=sys.stderr)
    report = train_nlu(
        settings.path(settings.nlu.training_data),
        args.out or settings.path(settings.nlu.model_dir),
        encoder=UseEncoder(threads=2),
        extra_bitext=bitext,
        seed=args.seed,
        progress=True,
        languages=[
            path
            for code in settings.nlu.languages
            # nlu.yml and any further files of examples beside it (nlu-2.yml, ...)
            for path in sorted((settings.language_dir / code).glob("nlu*.yml"))
        ],
    )
    print(report)
    return 0


def _action_server(settings: Settings) -> ActionServerProcess:
    from bot.action_server_process import ActionServerProcess

    return ActionServerProcess(
        settings.action_server.url,
        cwd=ROOT,
        env=settings.shop_store.environment(settings),
        pick_free_port=settings.action_server.pick_free_port,
    )


def _talking_to(settings: Settings, url: str) -> Settings:
    """``settings`` with the action client pointed at the server that was started."""
    return dataclasses.replace(
        settings, action_server=dataclasses.replace(settings.action_server, url=url)
    )


def _run_action_server(settings: Settings) -> int:
    from bot import ports

    port = settings.action_server.url.rsplit(":", 1)[-1].split("/")[0]
    if port.isdigit() and not ports.is_free("0.0.0.0", int(port)):
        print(
            f"error: port {port} is already taken by {ports.describe_holders(int(port))}",
            file=sys.stderr,
        )
        return 1
    os.chdir(ROOT)
    os.environ.update(settings.shop_store.environment(settings))
    os.execv(
        sys.executable,
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", port],
    )


async def _search(settings: Settings, args: argparse.Namespace) -> int:
    from bot.search_command import run

    await run(settings, args)
    return 0


async def _telegram(settings: Settings, args: argparse.Namespace) -> int:
    from bot.channels.telegram_cli import run

    return await run(settings, args)


async def _agents(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.cli import run_agents

    return await run_agents(settings, args)


async def _console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.cli import run_console

    return await run_console(settings, args)


async def _erase(settings: Settings, args: argparse.Namespace) -> int:
    from bot.privacy.cli import run_erase

    return await run_erase(settings, args)


_COMMANDS = {
    "run": _serve,
    "agents": _agents,
    "console": _console,
    "erase": _erase,
    "chat": _chat,
    "parse": _parse,
    "search": _search,
    "telegram": _telegram,
}

if __name__ == "__main__":
    raise SystemExit(main())
