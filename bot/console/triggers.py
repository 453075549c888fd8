"""Handoff triggers: what each one does (``handoff.on_*``), the shop's rules, and whether a
person is connected to a conversation. Pure functions the pipeline calls; no I/O.

Reasons recorded with a handoff (the ``handoff_reason`` metadata of its bot event, the
``dialogue_state`` slot, the queue and analytics): ``asked``, ``offer_accepted``,
``frustration``, ``misunderstood``, ``unanswerable``, ``action_failed``, or a rule's own name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from bot.config import HandoffConfig
from bot.console.settings import HandoffRule, TriggerMode
from bot.domain import ConversationId, Event

# Reasons the shopper chose: always a handoff, whatever the triggers say.
CHOSEN = frozenset({"asked", "offer_accepted"})
_CONFIGURED = {
    "misunderstood": "on_misunderstood",
    "frustration": "on_frustration",
    "unanswerable": "on_unanswerable",
    "action_failed": "on_action_failure",
}
# "$250", "250 €", "250.00 dollars", "EUR 1,200": amounts a shopper names.
_MONEY = re.compile(
    r"(?:[$€£]|\b(?:usd|eur|gbp)\s?)\s?(\d{1,3}(?:[,\s]\d{3})+|\d+)(?:[.,](\d{1,2}))?\b"
    r"|\b(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s?(?:[$€£]|dollars?|euros?|pounds?|usd|eur)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}")


def trigger_mode(config: HandoffConfig, reason: str) -> TriggerMode:
    """What a trigger does: ``handoff``, ``offer`` (ask first) or ``off``."""
    if reason in CHOSEN or reason not in _CONFIGURED:
        return "handoff"  # the shopper's choice, or a shop rule
    mode = getattr(config, _CONFIGURED[reason])
    return "offer" if mode == "offer" else "off" if mode == "off" else "handoff"


def amounts(text: str) -> list[float]:
    """Money amounts named in a message ("$1,250.50", "300 euros")."""
    found = []
    for match in _MONEY.finditer(text):
        whole = match.group(1) or match.group(3)
        cents = match.group(2) or match.group(4)
        value = float(re.sub(r"[,\s]", "", whole))
        found.append(value + (float(f"0.{cents}") if cents else 0.0))
    return found


def matching_rule(config: HandoffConfig, intent: str, text: str) -> HandoffRule | None:
    """The first shop rule the message falls under, if any."""
    for rule in config.rules:
        if intent not in rule.intents:
            continue
        if rule.amount_above is None or any(a > rule.amount_above for a in amounts(text)):
            return rule
    return None


def agent_connected(events: Sequence[Event]) -> bool:
    """Whether a person from the team is in the conversation now (joined and not left)."""
    for event in reversed(events):
        kind = event.get("event")
        if kind == "agent_joined":
            return True
        if kind == "agent_left":
            return False
    return False


def email_in(text: str) -> str | None:
    """The first email address in a message (a waiting shopper leaving theirs)."""
    match = _EMAIL.search(text)
    return match.group(0) if match else None


class HandoffDesk(Protocol):
    """The support team's side of a handoff, as the pipeline needs it (bot/console/desk.py)."""

    async def away_notice(self, language: str | None) -> str | None:
        """What to tell a shopper just handed off when no one can answer soon (outside
        support hours, or no agent online), None when someone can."""

    async def queued(
        self, cid: ConversationId, *, reason: str, channel: str, language: str | None
    ) -> None:
        """Puts the conversation in the team's queue (never raises: it logs)."""
