"""``python -m bot telegram set-webhook|delete-webhook|webhook-info``: the bot's Telegram webhook.

Paste after setting ``channels.telegram.bot_token`` and ``secret_token`` (config.yml or
``CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN`` / ``…__SECRET_TOKEN``)::

    python -m bot telegram set-webhook --url https://bot.example.com
    python -m bot telegram webhook-info
    python -m bot telegram delete-webhook

``--url`` is the public HTTPS address of the bot; a bare origin gets the channel's path
(``/webhooks/telegram/webhook``) appended. The secret token from the config is registered with
it, so Telegram sends it with every update and the bot refuses requests without it.
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit

from bot.channels.messaging import outbound_client
from bot.channels.telegram import PATH
from bot.channels.telegram_api import TelegramApi
from bot.config import Settings
from bot.errors import BadRequest


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="telegram_command", required=True)
    set_hook = sub.add_parser("set-webhook", help="point Telegram at this bot (setWebhook)")
    set_hook.add_argument("--url", required=True, help="public https URL of the bot")
    set_hook.add_argument(
        "--drop-pending", action="store_true", help="discard updates Telegram still holds"
    )
    delete = sub.add_parser("delete-webhook", help="stop deliveries (deleteWebhook)")
    delete.add_argument(
        "--drop-pending", action="store_true", help="discard updates Telegram still holds"
    )
    sub.add_parser("webhook-info", help="what Telegram knows of the webhook (getWebhookInfo)")


def webhook_url(url: str) -> str:
    """The full webhook URL: an https URL, the channel's path added to a bare origin.

    Raises:
        BadRequest: Not an https URL (Telegram delivers to https only).
    """
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise BadRequest(f"--url must be an https URL, got {url!r}")
    if parts.path in ("", "/"):
        return f"https://{parts.netloc}{PATH}"
    return url.strip()


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Runs one webhook command and prints Telegram's answer as JSON."""
    client = outbound_client(settings.channels)
    try:
        api = TelegramApi(client, settings.channels.telegram)
        if args.telegram_command == "set-webhook":
            url = webhook_url(args.url)
            await api.set_webhook(url, drop_pending_updates=args.drop_pending)
            print(f"webhook set: {url}")
            result = await api.webhook_info()
        elif args.telegram_command == "delete-webhook":
            result = await api.delete_webhook(drop_pending_updates=args.drop_pending)
        else:
            result = await api.webhook_info()
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    finally:
        await client.aclose()
