"""Settings of the messaging-app channels: the ``channels:`` section of ``config.yml``.

Kept beside the channels rather than in :mod:`bot.config` (which includes it as
``Settings.channels``) so that file stays readable; the style is the same: frozen dataclasses
with help text, validated in ``__post_init__`` with the dotted key named. Credentials come only
from ``config.yml`` or the environment (``CONCIERGE__CHANNELS__TELEGRAM__BOT_TOKEN`` …), and a
channel that is enabled without them stops the bot at start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.errors import ConfigError

# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as the webhook secret.
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _require(section: str, enabled: bool, **values: str) -> None:
    if not enabled:
        return
    for key, value in values.items():
        if not value.strip():
            raise ConfigError(
                f"channels.{section}.{key}",
                f"required when channels.{section}.enabled is true (set it in config.yml or "
                f"CONCIERGE__CHANNELS__{section.upper()}__{key.upper()})",
            )


def _check_url(key: str, url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(key, f"{url!r} is not an http(s) URL")


@dataclass(frozen=True)
class TelegramConfig:
    """The Telegram Bot API channel (``bot/channels/telegram.py``)."""

    enabled: bool = field(default=False, metadata={"help": "serve /webhooks/telegram/webhook"})
    bot_token: str = field(default="", metadata={"help": "the token @BotFather gave the bot"})
    secret_token: str = field(
        default="",
        metadata={
            "help": "sent by Telegram in X-Telegram-Bot-Api-Secret-Token with every update "
            "(1-256 of A-Z a-z 0-9 _ -); `python -m bot telegram set-webhook` registers it"
        },
    )
    api_base_url: str = field(
        default="https://api.telegram.org", metadata={"help": "Bot API server"}
    )

    def __post_init__(self) -> None:
        _require("telegram", self.enabled, bot_token=self.bot_token, secret_token=self.secret_token)
        if self.secret_token and not _TELEGRAM_SECRET.fullmatch(self.secret_token):
            raise ConfigError(
                "channels.telegram.secret_token", "use 1 to 256 of A-Z, a-z, 0-9, _ and -"
            )
        _check_url("channels.telegram.api_base_url", self.api_base_url)


@dataclass(frozen=True)
class WhatsAppConfig:
    """The WhatsApp Cloud API channel (``bot/channels/whatsapp.py``)."""

    enabled: bool = field(default=False, metadata={"help": "serve /webhooks/whatsapp/webhook"})
    access_token: str = field(
        default="", metadata={"help": "system-user access token that may send messages"}
    )
    app_secret: str = field(
        default="", metadata={"help": "the Meta app's secret: checks X-Hub-Signature-256"}
    )
    verify_token: str = field(
        default="", metadata={"help": "any secret string, also typed into the webhook set-up"}
    )
    phone_number_id: str = field(
        default="", metadata={"help": "the business phone number's id (not the number)"}
    )
    api_base_url: str = field(
        default="https://graph.facebook.com/v21.0", metadata={"help": "Graph API, versioned"}
    )

    def __post_init__(self) -> None:
        _require(
            "whatsapp",
            self.enabled,
            access_token=self.access_token,
            app_secret=self.app_secret,
            verify_token=self.verify_token,
            phone_number_id=self.phone_number_id,
        )
        _check_url("channels.whatsapp.api_base_url", self.api_base_url)


@dataclass(frozen=True)
class ChannelsConfig:
    """Messaging apps, and how replies are sent to them."""

    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    whatsapp: WhatsAppConfig = field(default_factory=WhatsAppConfig)
    send_timeout_s: float = field(
        default=10.0, metadata={"help": "one call to a platform's API, connecting included"}
    )
    send_attempts: int = field(
        default=4,
        metadata={"help": "tries of a failing call (5xx, 429, timeouts) before giving up"},
    )
    send_backoff_base_s: float = field(
        default=0.5, metadata={"help": "first retry delay; doubles per retry, at most 8 s"}
    )
    max_retry_after_s: float = field(
        default=60.0,
        metadata={"help": "a 429 asking to wait longer than this gives the reply up"},
    )
    max_pending_turns: int = field(
        default=1000,
        metadata={"help": "acknowledged deliveries waiting to run; more are refused with 503"},
    )

    def __post_init__(self) -> None:
        if self.send_timeout_s <= 0:
            raise ConfigError("channels.send_timeout_s", "must be positive")
        if self.send_attempts < 1:
            raise ConfigError("channels.send_attempts", "must be at least 1")
        if self.send_backoff_base_s < 0 or self.max_retry_after_s < 0:
            raise ConfigError("channels.send_backoff_base_s", "delays must be >= 0")
        if self.max_pending_turns < 1:
            raise ConfigError("channels.max_pending_turns", "must be at least 1")
