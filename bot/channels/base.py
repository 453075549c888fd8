"""The base every input channel implements (REST now; widget, Telegram, WhatsApp later)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from aiohttp import web

from bot.domain import BotMessage, IncomingMessage
from bot.pipeline import Pipeline


class InputChannel(ABC):
    """Turns a platform's requests into :class:`IncomingMessage` and replies back.

    A channel owns its routes under ``/webhooks/<name>/`` and nothing else: conversation state,
    NLU and policy live in the shared :class:`Pipeline`.
    """

    name: ClassVar[str]

    @abstractmethod
    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes of this channel."""

    async def handle(self, pipeline: Pipeline, message: IncomingMessage) -> list[BotMessage]:
        """Runs one turn; channels that stream or push override how replies leave."""
        return await pipeline.handle(message)

    async def close(self) -> None:
        """Called when the app shuts down: channels that hold connections close them here."""
        return None
