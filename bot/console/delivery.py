"""Getting an agent's words to the shopper on their channel.

The widget needs nothing here: it follows the conversation's feed in the session store and
shows ``agent_message`` events as they are appended, on whichever worker holds its socket.
Telegram and WhatsApp have no such feed: their conversations (``telegram:<chat id>``,
``whatsapp:<wa id>``) get the text through the application's one outbound client, with its
retries; REST and other channels read the history.
"""

from __future__ import annotations

import logging

from bot.channels.outbound import DeliveryFailed, OutboundClient
from bot.channels.settings import ChannelsConfig
from bot.channels.telegram_api import TelegramApi
from bot.channels.telegram_render import TelegramCall
from bot.channels.whatsapp_api import WhatsAppApi
from bot.channels.whatsapp_render import WhatsAppBody

log = logging.getLogger(__name__)


class ChannelDelivery:
    """Sends agents' texts to messaging apps; the widget and REST read the store instead."""

    def __init__(self, config: ChannelsConfig, outbound: OutboundClient) -> None:
        self._config = config
        self._outbound = outbound

    def pushes(self, conversation_id: str) -> bool:
        """Whether a text for this conversation must be sent out (a messaging app)."""
        kind = conversation_id.split(":", 1)[0]
        return (kind == "telegram" and self._config.telegram.enabled) or (
            kind == "whatsapp" and self._config.whatsapp.enabled
        )

    async def send(self, conversation_id: str, text: str) -> bool:
        """Sends ``text`` if the conversation is on a messaging app; False when it failed
        (logged and counted in /stats by the outbound client)."""
        if not self.pushes(conversation_id):
            return True
        kind, _, address = conversation_id.partition(":")
        try:
            if kind == "telegram":
                api = TelegramApi(self._outbound, self._config.telegram)
                call = TelegramCall("sendMessage", {"text": text})
                await api.send(int(address), [call], conversation_id=conversation_id)
            else:
                whatsapp = WhatsAppApi(self._outbound, self._config.whatsapp)
                body: WhatsAppBody = {"type": "text", "text": {"body": text}}
                await whatsapp.send(address, [body], conversation_id=conversation_id)
        except (DeliveryFailed, ValueError) as exc:
            log.warning("agent message to %s not delivered: %s", conversation_id, exc)
            return False
        return True
