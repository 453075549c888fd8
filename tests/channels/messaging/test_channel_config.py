"""``channels:`` settings: off by default, credentials from config.yml or the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import ROOT, load_settings
from bot.errors import ConfigError

from .conftest import MakeBot, quick_app


def test_both_channels_are_off_by_default_and_need_no_credentials() -> None:
    settings = load_settings(ROOT / "config.yml", env={})
    assert settings.channels.telegram.enabled is False
    assert settings.channels.whatsapp.enabled is False
    assert settings.channels.telegram.api_base_url == "https://api.telegram.org"
    assert settings.channels.whatsapp.api_base_url == "https://graph.facebook.com/v21.0"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"CONCIERGE__CHANNELS__TELEGRAM__ENABLED": "true"}, "channels.telegram.bot_token"),
        (
            {
                "CONCIERGE__CHANNELS__TELEGRAM__ENABLED": "true",
                "CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN": "1:abc",
            },
            "channels.telegram.secret_token",
        ),
        ({"CONCIERGE__CHANNELS__WHATSAPP__ENABLED": "yes"}, "channels.whatsapp.access_token"),
        (
            {
                "CONCIERGE__CHANNELS__WHATSAPP__ENABLED": "true",
                "CONCIERGE__CHANNELS__WHATSAPP__ACCESS_TOKEN": "EAAG",
                "CONCIERGE__CHANNELS__WHATSAPP__APP_SECRET": "s",
                "CONCIERGE__CHANNELS__WHATSAPP__VERIFY_TOKEN": "v",
            },
            "channels.whatsapp.phone_number_id",
        ),
        (
            {"CONCIERGE__CHANNELS__TELEGRAM__SECRET_TOKEN": "has spaces!"},
            "channels.telegram.secret_token",
        ),
        ({"CONCIERGE__CHANNELS__SEND_ATTEMPTS": "0"}, "channels.send_attempts"),
        ({"CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKENN": "x"}, "channels.telegram.bot_tokenn"),
    ],
)
def test_an_enabled_channel_without_credentials_stops_the_start_naming_the_key(
    env: dict[str, str], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(ROOT / "config.yml", env=env)
    assert caught.value.key == key


def test_credentials_come_from_the_environment_exactly_as_written() -> None:
    env = {
        "CONCIERGE__CHANNELS__TELEGRAM__ENABLED": "true",
        "CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN": "0777",  # YAML would read 511
        "CONCIERGE__CHANNELS__TELEGRAM__SECRET_TOKEN": "1e5",  # ... and 100000.0
        "CONCIERGE__CHANNELS__WHATSAPP__PHONE_NUMBER_ID": "106540352242922",
        "CONCIERGE__CHANNELS__SEND_TIMEOUT_S": "2.5",
    }
    settings = load_settings(ROOT / "config.yml", env=env)
    assert settings.channels.telegram.enabled is True
    assert settings.channels.telegram.bot_token == "0777"
    assert settings.channels.telegram.secret_token == "1e5"
    assert settings.channels.whatsapp.phone_number_id == "106540352242922"
    assert settings.channels.send_timeout_s == 2.5


def test_a_config_file_section_and_an_override_merge(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(
        "channels:\n  whatsapp:\n    enabled: true\n    access_token: from-file\n"
        "    app_secret: s\n    verify_token: v\n    phone_number_id: 1065403\n",
        encoding="utf-8",
    )
    env = {"CONCIERGE__CHANNELS__WHATSAPP__ACCESS_TOKEN": "from-env"}
    whatsapp = load_settings(config, env=env).channels.whatsapp
    assert (whatsapp.enabled, whatsapp.access_token, whatsapp.phone_number_id) == (
        True,
        "from-env",
        "1065403",
    )


async def test_disabled_channels_have_no_routes(aiohttp_client: Any) -> None:
    from bot.sessions import MemorySessionStore

    settings = load_settings(ROOT / "config.yml", env={})
    client = await aiohttp_client(quick_app(settings, MemorySessionStore()))
    assert (await client.post("/webhooks/telegram/webhook", json={})).status == 404
    assert (await client.get("/webhooks/whatsapp/webhook")).status == 404
    stats = await (await client.get("/stats")).json()
    assert stats["outbound"] == {"sent": 0, "retried": 0, "failed": 0}


async def test_enabled_channels_have_their_routes(make_bot: MakeBot) -> None:
    bot = await make_bot()
    assert (await bot.client.post("/webhooks/telegram/webhook", json={})).status == 401
    assert (await bot.client.get("/webhooks/whatsapp/webhook")).status == 403


def test_python_m_bot_config_does_not_print_credentials() -> None:
    from bot.config import describe

    env = {
        "CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN": "123456:very-secret",
        "CONCIERGE__CHANNELS__WHATSAPP__APP_SECRET": "meta-app-secret",
        "CONCIERGE__SERVER__API_TOKEN": "admin-token",
    }
    shown = describe(load_settings(ROOT / "config.yml", env=env))
    for secret in env.values():
        assert secret not in shown
    assert "bot_token: <set>" in shown
    assert "access_token: ''" in shown  # unset stays visible as unset
    assert "api_base_url: https://api.telegram.org" in shown
