"""The support desk: the queue and what an agent does with a conversation.

A handoff is queued by the pipeline (:meth:`Desk.queued`); an agent claims it (atomic in the
console store: of two agents at once exactly one wins), which appends ``agent_joined`` to the
conversation, so the widget shows the person and the pipeline stops answering. Replies are
``agent_message`` events (the widget follows the store's feed; messaging apps also get the
text through :class:`~bot.console.delivery.ChannelDelivery`). Hand back and close append
``agent_left`` and give the conversation back to the bot, which then reads it whole.
Every change to the queue is published on the console bus, so every console on every worker
sees it at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Literal

from bot.channels.webchat_events import Agent, agent_event
from bot.config import Settings
from bot.console import notices
from bot.console.bus import ConsoleBus
from bot.console.delivery import ChannelDelivery
from bot.console.store import AgentAccount, AgentId, ConsoleStore, Handoff, Note
from bot.domain import ConversationId
from bot.errors import BadRequest, ConciergeError
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)

MAX_TEXT = 4000


class Desk:
    """Implements :class:`~bot.console.triggers.HandoffDesk` and the agents' actions."""

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: SessionStore,
        db: ConsoleStore,
        bus: ConsoleBus,
        delivery: ChannelDelivery,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._db = db
        self._bus = bus
        self._delivery = delivery
        self._clock = clock

    # --- the pipeline's side -------------------------------------------------------------------

    async def away_notice(self, language: str | None) -> str | None:
        hours = self._settings.handoff.hours
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        if not hours.is_open(now):
            return notices.away(hours.next_opening(now), language)
        try:
            online = await self._bus.online()
        except ConciergeError as exc:
            log.warning("agent presence unknown: %s", exc)
            return None
        return None if online else notices.nobody_online(language)

    async def queued(
        self, cid: ConversationId, *, reason: str, channel: str, language: str | None
    ) -> None:
        try:
            handoff, new = await self._db.open_handoff(
                cid, reason, channel, language, self._clock()
            )
            if new:
                await self._publish("queued", handoff)
        except ConciergeError:
            # The conversation is in "human" mode and kept in the session store; the queue
            # record is what failed, and an operator sees it in the log.
            log.exception("handoff of %s could not be queued", cid)

    # --- the agents' side ----------------------------------------------------------------------

    async def handoff(self, handoff_id: int) -> Handoff:
        """The handoff, or 404."""
        found = await self._db.get_handoff(handoff_id)
        if found is None:
            raise BadRequest(f"no handoff {handoff_id}", status=404)
        return found

    async def claim(self, agent: AgentAccount, handoff_id: int) -> Handoff:
        """Takes a waiting conversation.

        Raises:
            BadRequest: 404 unknown; 409 someone else was first (or it is no longer waiting).
        """
        handoff = await self.handoff(handoff_id)
        if not await self._db.claim(handoff_id, agent.id, self._clock()):
            raise BadRequest("someone else has taken this conversation", status=409)
        await self._sessions.set_mode(ConversationId(handoff.conversation_id), "human")
        await self._join(handoff.conversation_id, agent)
        claimed = await self.handoff(handoff_id)
        await self._publish("claimed", claimed)
        return claimed

    async def reply(self, agent: AgentAccount, handoff_id: int, text: str) -> Handoff:
        """Sends the agent's words to the shopper (the holder, or an admin)."""
        handoff = await self._held(agent, handoff_id)
        text = _text(text)
        cid = ConversationId(handoff.conversation_id)
        await self._sessions.append(cid, [agent_event("agent_message", _who(agent), text)])
        await self._delivery.send(cid, f"{agent.name}: {text}")
        if await self._db.first_response(handoff_id, self._clock()):
            handoff = await self.handoff(handoff_id)
            await self._publish("answered", handoff)
        return handoff

    async def note(self, agent: AgentAccount, conversation_id: str, text: str) -> Note:
        """An internal note; every console showing the conversation gets it."""
        note = await self._db.add_note(conversation_id, agent, _text(text), self._clock())
        await self._bus.publish(
            {"type": "note", "conversation_id": conversation_id,
             "note": {"id": note.id, "agent": note.agent_name, "text": note.text,
                      "created": note.created}}
        )  # fmt: skip
        return note

    async def transfer(self, agent: AgentAccount, handoff_id: int, to: AgentAccount) -> Handoff:
        """Gives a held conversation to another (enabled) agent."""
        handoff = await self._held(agent, handoff_id)
        if to.disabled:
            raise BadRequest("that account is disabled", status=409)
        holder = None if agent.role == "admin" else agent.id
        if not await self._db.transfer(handoff_id, holder, to.id):
            raise BadRequest("the conversation changed hands meanwhile", status=409)
        previous = await self._db.get_agent(handoff.agent_id) if handoff.agent_id else None
        cid = ConversationId(handoff.conversation_id)
        events = []
        if previous is not None:
            events.append(agent_event("agent_left", _who(previous)))
        events.append(agent_event("agent_joined", _who(to)))
        await self._sessions.append(cid, events)
        await self._delivery.send(cid, f"{to.name} from our team is with you now.")
        moved = await self.handoff(handoff_id)
        await self._publish("transferred", moved)
        return moved

    async def hand_back(self, agent: AgentAccount, handoff_id: int) -> Handoff:
        """The bot answers again, reading the whole conversation (the agent's part included)."""
        return await self._finish(agent, handoff_id, "handed_back")

    async def close(self, agent: AgentAccount, handoff_id: int) -> Handoff:
        """The conversation is resolved; a later message starts with the bot."""
        return await self._finish(agent, handoff_id, "closed")

    async def _finish(
        self, agent: AgentAccount, handoff_id: int, status: Literal["handed_back", "closed"]
    ) -> Handoff:
        handoff = await self._held(agent, handoff_id, waiting_ok=True)
        if not await self._db.finish(handoff_id, status, self._clock()):
            raise BadRequest("the conversation is no longer open", status=409)
        cid = ConversationId(handoff.conversation_id)
        if handoff.status == "claimed":
            holder = await self._db.get_agent(handoff.agent_id) if handoff.agent_id else None
            await self._sessions.append(cid, [agent_event("agent_left", _who(holder or agent))])
        await self._sessions.set_mode(cid, "bot")
        done = await self.handoff(handoff_id)
        await self._publish(status, done)
        return done

    async def _join(self, conversation_id: str, agent: AgentAccount) -> None:
        cid = ConversationId(conversation_id)
        await self._sessions.append(cid, [agent_event("agent_joined", _who(agent))])
        await self._delivery.send(cid, f"{agent.name} from our team has joined the chat.")

    async def _held(
        self, agent: AgentAccount, handoff_id: int, *, waiting_ok: bool = False
    ) -> Handoff:
        """The handoff if this agent may act on it: its holder, or an admin.

        Raises:
            BadRequest: 404 unknown, 409 not open, 403 held by someone else.
        """
        handoff = await self.handoff(handoff_id)
        if handoff.status not in ("claimed", "waiting") or (
            handoff.status == "waiting" and not waiting_ok
        ):
            raise BadRequest(f"the conversation is {handoff.status.replace('_', ' ')}", 409)
        if handoff.status == "claimed" and handoff.agent_id != agent.id and agent.role != "admin":
            raise BadRequest("another agent has this conversation", status=403)
        if handoff.status == "waiting" and agent.role != "admin":
            raise BadRequest("claim the conversation first", status=403)
        return handoff

    async def _publish(self, change: str, handoff: Handoff) -> None:
        try:
            await self._bus.publish({"type": "queue", "change": change,
                                     "handoff": handoff.to_dict()})  # fmt: skip
        except ConciergeError as exc:
            # Consoles reload the queue on their next refresh; the change itself is stored.
            log.warning("queue change %s of %s not broadcast: %s", change, handoff.id, exc)


def _who(agent: AgentAccount) -> Agent:
    return Agent(agent.id, agent.name)


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise BadRequest("the text is empty")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"the text is longer than {MAX_TEXT} characters", status=413)
    return text


__all__ = ["AgentId", "Desk"]
