"""The Telegram Bot API methods the bot calls, through the shared :class:`OutboundClient`.

``https://api.telegram.org/bot<token>/<method>`` with a JSON body; the answer is
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters"?}``. The URL holds the bot token, so only the method name is ever logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.channels.outbound import DeliveryFailed, OutboundClient
from bot.channels.settings import TelegramConfig
from bot.channels.telegram_render import TelegramCall
from bot.errors import ConfigError

UPDATE_TYPES = ("message", "edited_message", "callback_query")
"""The updates the channel reads; setWebhook asks for these only."""


class TelegramApi:
    """Calls Bot API methods with the configured token.

    Raises:
        ConfigError: No bot token is configured.
    """

    def __init__(self, client: OutboundClient, config: TelegramConfig) -> None:
        if not config.bot_token:
            raise ConfigError("channels.telegram.bot_token", "is not set")
        self._client = client
        self._base = f"{config.api_base_url.rstrip('/')}/bot{config.bot_token}/"
        self._config = config

    async def call(
        self, method: str, params: Mapping[str, Any], *, conversation_id: str | None = None
    ) -> Any:
        """Calls ``method`` and returns its ``result``.

        Raises:
            DeliveryFailed: The call failed for good or Telegram answered ``ok: false``.
        """
        what = f"telegram {method}"
        answer = await self._client.post_json(
            self._base + method, params, what=what, conversation_id=conversation_id
        )
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            raise DeliveryFailed(what, conversation_id, f"unexpected answer {answer!r:.200}")
        return answer.get("result")

    async def send(
        self, chat_id: int, calls: Sequence[TelegramCall], *, conversation_id: str
    ) -> None:
        """Sends the calls in order; the first that fails gives up the rest (all counted).

        Raises:
            DeliveryFailed: A call failed for good.
        """
        for index, call in enumerate(calls):
            try:
                await self.call(
                    call.method,
                    {"chat_id": chat_id, **call.params},
                    conversation_id=conversation_id,
                )
            except DeliveryFailed:
                # Sending later messages past a lost one would answer out of order.
                self._client.abandon(len(calls) - index - 1, "telegram", conversation_id)
                raise

    async def answer_callback(self, query_id: str, text: str | None, conversation_id: str) -> None:
        """Stops the pressed button's spinner, with a short notice when ``text`` is given."""
        params: dict[str, Any] = {"callback_query_id": query_id}
        if text:
            params["text"] = text[:200]
        await self.call("answerCallbackQuery", params, conversation_id=conversation_id)

    async def set_webhook(self, url: str, *, drop_pending_updates: bool = False) -> Any:
        """Registers ``url`` with the configured secret token.

        Raises:
            ConfigError: No secret token is configured.
        """
        if not self._config.secret_token:
            raise ConfigError("channels.telegram.secret_token", "is not set")
        return await self.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": self._config.secret_token,
                "allowed_updates": list(UPDATE_TYPES),
                "drop_pending_updates": drop_pending_updates,
            },
        )

    async def delete_webhook(self, *, drop_pending_updates: bool = False) -> Any:
        return await self.call("deleteWebhook", {"drop_pending_updates": drop_pending_updates})

    async def webhook_info(self) -> Any:
        return await self.call("getWebhookInfo", {})
