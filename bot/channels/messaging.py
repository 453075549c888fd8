"""What the messaging-app channels share: the outbound client and how a queued turn runs.

A webhook handler only checks and queues (see :mod:`bot.channels.background`); the queued
job runs the turn with :func:`run_turn` and sends the replies through the one
:class:`~bot.channels.outbound.OutboundClient` of the application.

A platform delivers again when it missed the acknowledgement. Each turn carries the
platform's id for the message (``IncomingMessage.message_id``), stored on the user event in
the same atomic append as the replies, and the pipeline reads it under the conversation's
lock (bot/deliveries.py): a redelivery of a stored message runs nothing and sends nothing.
No claim is written before the turn, so one that the store applied late, or one left by a
killed worker, cannot make an unhandled message look handled.
"""

from __future__ import annotations

import asyncio
import logging

from bot.channels.notices import TURN_FAILED
from bot.channels.outbound import OutboundClient
from bot.channels.settings import ChannelsConfig
from bot.domain import BotMessage, ConversationId, IncomingMessage
from bot.errors import ConversationBusy, SessionStoreError
from bot.pipeline import Pipeline
from bot.retry import Backoff
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)

STORE_RETRY_DELAYS_S: tuple[float, ...] = (1.0, 3.0, 9.0)
"""Waits before a turn that the store refused (unreachable, or the conversation stayed
locked) runs again: its delivery was acknowledged, so the platform will not send it again."""


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
    """One turn of a background job: the replies to send, none for a redelivery.

    A webhook acknowledged the delivery before the turn ran, so nobody else will retry it. A
    turn that the store refused runs again after each of :data:`STORE_RETRY_DELAYS_S`; a retry
    that finds the message stored (an append whose answer was lost had been applied) sends the
    replies stored for it, which no attempt sent. When every attempt failed, or the turn
    failed otherwise, the shopper gets an apology and the message is logged as an error with
    its conversation and id.
    """
    delays = STORE_RETRY_DELAYS_S
    appended_maybe = False  # a refused attempt may have stored the turn all the same
    for attempt in range(len(delays) + 1):
        ran = False

        async def taken() -> None:
            nonlocal ran
            ran = True

        try:
            replies = await pipeline.handle(message, taken=taken)
        except (SessionStoreError, ConversationBusy) as exc:
            # A busy conversation ran none of this turn; a store error may follow its append.
            appended_maybe = appended_maybe or (ran and isinstance(exc, SessionStoreError))
            if attempt == len(delays):
                log.error(
                    "message %s of conversation %s was acknowledged and not handled: %s",
                    message.message_id, message.sender, exc,
                )  # fmt: skip
                return [BotMessage(text=TURN_FAILED)]
            log.warning(
                "turn of conversation %s (message %s) refused, again in %.0f s: %s",
                message.sender, message.message_id, delays[attempt], exc,
            )  # fmt: skip
            await asyncio.sleep(delays[attempt])
            continue
        except asyncio.CancelledError:
            log.warning(
                "shutting down: message %s of conversation %s may not have been handled",
                message.message_id, message.sender,
            )  # fmt: skip
            raise
        except Exception:
            log.exception("turn of conversation %s failed", message.sender)
            return [BotMessage(text=TURN_FAILED)]
        if ran or appended_maybe:
            return replies
        log.info("message %s of %s was handled already", message.message_id, message.sender)
        return []
    raise AssertionError("unreachable: the last attempt returns")


async def first_notice(store: SessionStore, cid: ConversationId, delivery_id: str) -> bool:
    """Whether to send the notice that answers a delivery no turn runs for (a sticker, an edit).

    Nothing is stored for such a delivery, so a claim (:meth:`SessionStore.claim_delivery`)
    keeps a redelivery from repeating the notice. No message of the shopper's is lost to a
    claim here: nothing in it could be run. An unreachable store sends the notice anyway.
    """
    try:
        return await store.claim_delivery(cid, delivery_id)
    except SessionStoreError as exc:
        log.warning("notice for %s in %s sent unclaimed: %s", delivery_id, cid, exc)
        return True
