"""Which messaging-app channels the application installs (from ``channels:`` in config.yml)."""

from __future__ import annotations

from bot.channels.base import InputChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Settings


def messaging_channels(settings: Settings) -> list[InputChannel]:
    """The enabled messaging-app channels; none by default."""
    channels: list[InputChannel] = []
    if settings.channels.telegram.enabled:
        channels.append(TelegramChannel())
    if settings.channels.whatsapp.enabled:
        channels.append(WhatsAppChannel())
    return channels
