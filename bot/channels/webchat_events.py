"""Conversation events beyond Rasa's: people from the support team, feedback and CSAT.

They are stored in the session store beside the Rasa events of the conversation, so that the
widget replays them after a reload and the console and analytics read them from one place::

    {"event": "agent_joined",  "timestamp": …, "agent": {"id": "a-17", "name": "Maya"}}
    {"event": "agent_message", "timestamp": …, "agent": {"id": "a-17", "name": "Maya"},
     "text": "Hi, I'm looking at your order now."}
    {"event": "agent_left",    "timestamp": …, "agent": {"id": "a-17", "name": "Maya"}}
    {"event": "feedback",      "timestamp": …, "target": 12, "value": "up"}      # or "down"
    {"event": "csat",          "timestamp": …, "score": 4, "comment": "quick!"}  # comment optional

They are not Rasa events on purpose, and nothing reads them as one: ``TrackerView.replay``
keeps an unknown event without changing slots, the loop or the latest message; every policy
and follow-up rule looks for ``user``/``bot``/``action`` events by name, so an agent's message
is never taken for the bot's last answer; rasa-sdk's ``Tracker.applied_events`` passes unknown
events through. A ``bot`` event for an agent's message would have been read as the bot's own
words (offers, fallbacks in a row, the prompt's recent turns).

``target`` of a feedback event is the index of the ``bot`` event it rates in the same
conversation. The console issue appends the agent events (with :func:`agent_event`); the
widget appends feedback and CSAT.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, TypedDict

from bot.domain import Event

AgentEventKind = Literal["agent_joined", "agent_left", "agent_message"]
FeedbackValue = Literal["up", "down"]
AGENT_EVENTS: frozenset[str] = frozenset({"agent_joined", "agent_left", "agent_message"})
MAX_COMMENT_CHARS = 1000


class AgentRef(TypedDict):
    """Who from the support team (as stored; the widget shows ``name`` only)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Agent:
    """A person from the support team, as the console knows them."""

    id: str
    name: str

    def ref(self) -> AgentRef:
        return {"id": self.id, "name": self.name}


def agent_event(kind: AgentEventKind, agent: Agent, text: str | None = None) -> Event:
    """An ``agent_joined``, ``agent_left`` or ``agent_message`` event.

    Raises:
        ValueError: a message without text, or text on a join or leave.
    """
    if (kind == "agent_message") != bool(text and text.strip()):
        raise ValueError(f"{kind} events {'need' if kind == 'agent_message' else 'take no'} text")
    event: Event = {"event": kind, "timestamp": time.time(), "agent": agent.ref()}
    if text is not None:
        event["text"] = text
    return event


def feedback_event(target: int, value: FeedbackValue) -> Event:
    """The shopper's thumbs up or down on the bot message at event index ``target``."""
    if target < 0:
        raise ValueError(f"feedback target must be an event index, got {target}")
    return {"event": "feedback", "timestamp": time.time(), "target": target, "value": value}


def csat_event(score: int, comment: str | None = None) -> Event:
    """The shopper's answer to the closing satisfaction question (1 = very bad, 5 = great)."""
    if not 1 <= score <= 5:
        raise ValueError(f"CSAT score must be 1 to 5, got {score}")
    event: Event = {"event": "csat", "timestamp": time.time(), "score": score}
    if comment and comment.strip():
        event["comment"] = comment.strip()[:MAX_COMMENT_CHARS]
    return event
