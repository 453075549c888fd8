"""What the messaging-app channels share: the outbound client and how a queued turn runs.

A webhook handler only checks, claims and queues (see :mod:`bot.channels.background`); the
queued job runs the turn with :func:`run_turn` and sends the replies through the one
:class:`~bot.channels.outbound.OutboundClient` of the application.
"""

from __future__ import annotations

import logging

from bot.channels.notices import TURN_FAILED
from bot.channels.outbound import OutboundClient
from bot.channels.settings import ChannelsConfig
from bot.domain import BotMessage, IncomingMessage
from bot.pipeline import Pipeline
from bot.retry import Backoff

log = logging.getLogger(__name__)


def outbound_client(config: ChannelsConfig) -> OutboundClient:
    """The client every reply to a messaging platform goes through; no I/O until used."""
    return OutboundClient(
        timeout_s=config.send_timeout_s,
        backoff=Backoff(
            attempts=config.send_attempts,
            base_s=config.send_backoff_base_s,
            factor=2.0,
            cap_s=8.0,
            jitter=0.5,
        ),
        max_retry_after_s=config.max_retry_after_s,
    )


async def run_turn(pipeline: Pipeline, message: IncomingMessage) -> list[BotMessage]:
    """One turn of a background job; a failure becomes an apology instead of silence.

    A webhook acknowledged the delivery before the turn ran, so there is no HTTP answer left to
    carry an error: the shopper is told, and the error is logged with the conversation id.
    """
    try:
        return await pipeline.handle(message)
    except Exception:
        log.exception("turn of conversation %s failed", message.sender)
        return [BotMessage(text=TURN_FAILED)]
