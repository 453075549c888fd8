"""What the policy can decide for a turn; the pipeline carries the decisions out in order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Respond:
    """Send a response defined in the domain."""

    response: str


@dataclass(frozen=True, slots=True)
class Answer:
    """Answer from the shop's knowledge; when nothing relevant is found, carry out
    ``otherwise`` (a question about an action: start it), or say it was not understood.
    ``offer_action`` names a response offering that action, said after an answer."""

    query: str
    intent: str
    offer_handoff: bool = False
    min_score: float | None = None
    otherwise: tuple[Decision, ...] = ()
    offer_action: str | None = None


@dataclass(frozen=True, slots=True)
class RunForm:
    """Activate or continue a form: validate slots, ask for the next one, or run ``then``."""

    form: str
    then: str


@dataclass(frozen=True, slots=True)
class RunAction:
    """Run one action on the action server (a flow with ``then`` and no form)."""

    action: str


@dataclass(frozen=True, slots=True)
class StopForm:
    """Deactivate the active form, keeping the slots it filled."""


@dataclass(frozen=True, slots=True)
class Handoff:
    """Hand the conversation to a person: the session's mode becomes ``human``.

    ``reason`` is recorded with the handoff (the console shows it and analytics count it):
    ``asked`` (the shopper asked for a person), ``offer_accepted``, ``frustration``.
    """

    reason: str = "asked"


@dataclass(frozen=True, slots=True)
class Empathize:
    """Acknowledge that the shopper is frustrated or angry, before handling the request."""


@dataclass(frozen=True, slots=True)
class OfferHandoff:
    """Ask whether the shopper wants a person."""


@dataclass(frozen=True, slots=True)
class Fallback:
    """Say that the message was not understood (counted for the handoff offer)."""


Decision = (
    Respond
    | Answer
    | RunForm
    | RunAction
    | StopForm
    | Handoff
    | Empathize
    | OfferHandoff
    | Fallback
)
