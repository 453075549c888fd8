"""Sending WhatsApp messages: ``POST {api_base_url}/{phone_number_id}/messages``.

The body is ``{"messaging_product": "whatsapp", "recipient_type": "individual", "to": <wa_id>,
"type": ..., <type>: {...}}`` with the access token as a bearer token; the answer names the
new message's id (``{"messages": [{"id": "wamid…"}]}``). Calls go through the shared
:class:`OutboundClient` (timeouts, retries, counters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.channels.outbound import DeliveryFailed, OutboundClient
from bot.channels.settings import WhatsAppConfig
from bot.channels.whatsapp_render import WhatsAppBody


class WhatsAppApi:
    def __init__(self, client: OutboundClient, config: WhatsAppConfig) -> None:
        self._client = client
        self._url = f"{config.api_base_url.rstrip('/')}/{config.phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {config.access_token}"}

    async def send_one(self, wa_id: str, body: WhatsAppBody, *, conversation_id: str) -> Any:
        """Sends one message object to ``wa_id``.

        Raises:
            DeliveryFailed: The call failed for good.
        """
        full = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id}
        return await self._client.post_json(
            self._url,
            {**full, **body},
            what=f"whatsapp {body.get('type', 'message')}",
            conversation_id=conversation_id,
            headers=self._headers,
        )

    async def send(
        self, wa_id: str, bodies: Sequence[WhatsAppBody], *, conversation_id: str
    ) -> None:
        """Sends the messages in order; the first that fails gives up the rest (all counted).

        Raises:
            DeliveryFailed: A message could not be sent.
        """
        for index, body in enumerate(bodies):
            try:
                await self.send_one(wa_id, body, conversation_id=conversation_id)
            except DeliveryFailed:
                # Sending later messages past a lost one would answer out of order.
                self._client.abandon(len(bodies) - index - 1, "whatsapp", conversation_id)
                raise
