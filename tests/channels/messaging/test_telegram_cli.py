"""``python -m bot telegram …`` as an operator runs it: a real process, the Bot API in this one."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from bot.channels.telegram_api import UPDATE_TYPES
from bot.config import ROOT

from .conftest import BOT_TOKEN, SECRET_TOKEN
from .fake_platforms import FakeTelegram


async def run_cli(*args: str, **env: str) -> tuple[int, str, str]:
    """Runs the CLI without blocking this loop (the fake Bot API answers from it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def credentials(api: FakeTelegram, **more: str) -> dict[str, str]:
    return {
        "CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN": BOT_TOKEN,
        "CONCIERGE__CHANNELS__TELEGRAM__SECRET_TOKEN": SECRET_TOKEN,
        "CONCIERGE__CHANNELS__TELEGRAM__API_BASE_URL": api.url,
        **more,
    }


async def test_set_webhook_registers_the_url_and_the_secret(telegram_api: FakeTelegram) -> None:
    code, out, err = await run_cli(
        "telegram", "set-webhook", "--url", "https://bot.shop.example", **credentials(telegram_api)
    )
    assert code == 0, err
    [call] = telegram_api.ok("setWebhook")
    assert call.body == {
        "url": "https://bot.shop.example/webhooks/telegram/webhook",
        "secret_token": SECRET_TOKEN,
        "allowed_updates": list(UPDATE_TYPES),
        "drop_pending_updates": False,
    }
    assert "webhook set: https://bot.shop.example/webhooks/telegram/webhook" in out
    assert BOT_TOKEN not in out + err

    code, out, err = await run_cli("telegram", "webhook-info", **credentials(telegram_api))
    assert code == 0, err
    info = json.loads(out)
    assert info["url"] == "https://bot.shop.example/webhooks/telegram/webhook"

    code, out, err = await run_cli(
        "telegram", "delete-webhook", "--drop-pending", **credentials(telegram_api)
    )
    assert code == 0, err
    assert telegram_api.ok("deleteWebhook")[0].body == {"drop_pending_updates": True}
    assert telegram_api.webhook == {}


async def test_a_full_url_is_kept_and_http_is_refused(telegram_api: FakeTelegram) -> None:
    url = "https://shop.example/concierge/webhooks/telegram/webhook"
    code, _, err = await run_cli(
        "telegram", "set-webhook", "--url", url, **credentials(telegram_api)
    )
    assert code == 0, err
    assert telegram_api.ok("setWebhook")[0].body["url"] == url
    code, _, err = await run_cli(
        "telegram", "set-webhook", "--url", "http://shop.example", **credentials(telegram_api)
    )
    assert code == 1
    assert "https" in err
    assert "Traceback" not in err


async def test_missing_credentials_or_a_refusal_exit_1_with_the_reason(
    telegram_api: FakeTelegram,
) -> None:
    code, _, err = await run_cli(
        "telegram",
        "set-webhook",
        "--url",
        "https://bot.shop.example",
        CONCIERGE__CHANNELS__TELEGRAM__API_BASE_URL=telegram_api.url,
    )
    assert code == 1
    assert "channels.telegram.bot_token" in err
    wrong = credentials(telegram_api, CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN="1:wrong")
    code, _, err = await run_cli("telegram", "webhook-info", **wrong)
    assert code == 1
    assert "Unauthorized" in err
    assert "1:wrong" not in err
    assert "Traceback" not in err
