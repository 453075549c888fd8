"""The console's relational store port: what the agent console keeps beside the conversations.

Conversations stay in the session store. Here live the agent accounts and their sign-ins,
internal notes, copies of CSAT answers, the analytics event log, the handoff queue and which
customer each conversation was with (for "earlier conversations"). Adapters:
:class:`~bot.console.sqlite_store.SQLiteConsoleStore` (an embedded file, the default) and
:class:`~bot.console.postgres_store.PostgresConsoleStore`; one contract suite
(``tests/console/test_store_contract.py``) holds both to this page. The schema is created and
changed by alembic migrations (:mod:`bot.console.migrate`), never by an adapter.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NewType

from bot.errors import ConciergeError

AgentId = NewType("AgentId", str)
Role = Literal["agent", "admin"]
ROLES: tuple[str, ...] = ("agent", "admin")
HandoffStatus = Literal["waiting", "claimed", "handed_back", "closed"]
OPEN_STATUSES: tuple[HandoffStatus, ...] = ("waiting", "claimed")


class ConsoleStoreError(ConciergeError):
    """The console's database could not be reached or refused an operation."""


class AgentExists(ConsoleStoreError):
    """An account with this email already exists."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an agent with email {email!r} already exists")
        self.email = email


@dataclass(frozen=True, slots=True)
class AgentAccount:
    """A person of the support team who may sign in to the console."""

    id: AgentId
    email: str
    name: str
    role: Role
    password_hash: str
    disabled: bool = False
    failed_logins: int = 0
    locked_until: float | None = None
    created: float = 0.0

    def locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def public(self) -> dict[str, Any]:
        """What the console may show about the account (never the hash)."""
        return {"id": self.id, "email": self.email, "name": self.name, "role": self.role,
                "disabled": self.disabled}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AgentSession:
    """One sign-in: the cookie carries a random token, the store keeps only its hash."""

    token_hash: str
    agent_id: AgentId
    csrf_token: str
    created: float
    expires: float


@dataclass(frozen=True, slots=True)
class Note:
    """An internal note on a conversation; the shopper never sees it."""

    id: int
    conversation_id: str
    agent_id: AgentId
    agent_name: str
    text: str
    created: float


@dataclass(frozen=True, slots=True)
class CsatCopy:
    """A shopper's closing rating, copied from the conversation (which expires)."""

    conversation_id: str
    score: int
    comment: str | None
    created: float
    agent_id: AgentId | None = None


@dataclass(frozen=True, slots=True)
class AnalyticsEvent:
    """One entry of the analytics log: something that happened in a conversation.

    ``kind``: conversation (a new one), user (a shopper message; ``data.intent``), handoff
    (``data.reason``), unanswered (``data.text``), recommendation_click (``data.payload``),
    agent_reply (``data.agent_id``, ``data.first``), resolved (closed by the bot or a person).
    """

    kind: str
    conversation_id: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Handoff:
    """A conversation handed to the support team: its place in the queue and what followed."""

    id: int
    conversation_id: str
    reason: str
    channel: str
    language: str | None
    status: HandoffStatus
    created: float
    agent_id: AgentId | None = None
    claimed_at: float | None = None
    first_response_at: float | None = None
    closed_at: float | None = None
    email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "reason": self.reason,
            "channel": self.channel,
            "language": self.language,
            "status": self.status,
            "created": self.created,
            "agent_id": self.agent_id,
            "claimed_at": self.claimed_at,
            "first_response_at": self.first_response_at,
            "closed_at": self.closed_at,
            "email": self.email,
        }


class ConsoleStore(abc.ABC):
    """The console's database; any number of bot workers may share one (PostgreSQL).

    Times are Unix seconds passed in by the caller, so tests and the store agree on "now".
    """

    # --- agents ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def add_agent(
        self, agent_id: AgentId, email: str, name: str, role: Role, password_hash: str, now: float
    ) -> AgentAccount:
        """Creates an account; the email is kept lower-cased.

        Raises:
            AgentExists: the email is taken.
        """

    @abc.abstractmethod
    async def get_agent(self, agent_id: AgentId) -> AgentAccount | None:
        """The account with this id, disabled ones included."""

    @abc.abstractmethod
    async def find_agent(self, email: str) -> AgentAccount | None:
        """The account with this email (any case)."""

    @abc.abstractmethod
    async def list_agents(self) -> list[AgentAccount]:
        """Every account, by name."""

    @abc.abstractmethod
    async def set_disabled(self, agent_id: AgentId, disabled: bool) -> bool:
        """Disables (and signs out everywhere) or re-enables an account; False if unknown."""

    @abc.abstractmethod
    async def set_password(self, agent_id: AgentId, password_hash: str) -> bool:
        """Replaces the password hash (a rehash with stronger parameters, or a reset)."""

    @abc.abstractmethod
    async def login_failed(
        self, agent_id: AgentId, *, max_failures: int, lock_s: float, now: float
    ) -> AgentAccount | None:
        """Counts a wrong password atomically; the ``max_failures``-th in a row locks the
        account until ``now + lock_s`` (and starts the count again)."""

    @abc.abstractmethod
    async def login_succeeded(self, agent_id: AgentId) -> None:
        """Clears the count of wrong passwords."""

    # --- sign-ins ----------------------------------------------------------------------------

    @abc.abstractmethod
    async def create_session(self, session: AgentSession) -> None:
        """Stores a sign-in."""

    @abc.abstractmethod
    async def get_session(self, token_hash: str, now: float) -> AgentSession | None:
        """The sign-in with this token hash, None when unknown or expired."""

    @abc.abstractmethod
    async def delete_session(self, token_hash: str) -> None:
        """Signs out (unknown hashes are ignored)."""

    @abc.abstractmethod
    async def delete_expired_sessions(self, now: float) -> int:
        """Forgets sign-ins past their expiry; returns how many."""

    # --- notes, CSAT, analytics ----------------------------------------------------------------

    @abc.abstractmethod
    async def add_note(
        self, conversation_id: str, agent: AgentAccount, text: str, now: float
    ) -> Note:
        """Stores an internal note."""

    @abc.abstractmethod
    async def notes(self, conversation_id: str) -> list[Note]:
        """The conversation's notes, oldest first."""

    @abc.abstractmethod
    async def add_csat(self, csat: CsatCopy) -> None:
        """Keeps a copy of a CSAT answer."""

    @abc.abstractmethod
    async def csat_since(self, since: float) -> list[CsatCopy]:
        """CSAT copies from ``since`` on, oldest first."""

    @abc.abstractmethod
    async def log_events(self, events: Sequence[AnalyticsEvent]) -> None:
        """Appends to the analytics log (one transaction)."""

    @abc.abstractmethod
    async def events_since(
        self, since: float, kinds: Sequence[str] | None = None
    ) -> list[AnalyticsEvent]:
        """Log entries from ``since`` on (of ``kinds`` only, when given), oldest first."""

    # --- customers ---------------------------------------------------------------------------

    @abc.abstractmethod
    async def link_customer(self, conversation_id: str, customer_id: str, now: float) -> None:
        """Records that the conversation is with this customer (idempotent)."""

    @abc.abstractmethod
    async def conversations_of(self, customer_id: str, limit: int = 20) -> list[tuple[str, float]]:
        """(conversation id, first seen) of the customer's conversations, newest first."""

    @abc.abstractmethod
    async def customer_of(self, conversation_id: str) -> str | None:
        """The customer the conversation was linked to, if any."""

    # --- privacy: erasure and retention ------------------------------------------------------

    @abc.abstractmethod
    async def conversations_with_email(self, email: str) -> list[str]:
        """Conversations whose handoff holds this email (any case): a waiting shopper's."""

    @abc.abstractmethod
    async def erase_conversation(self, conversation_id: str) -> dict[str, int]:
        """Deletes every row about the conversation: its handoffs (the queue entry), notes,
        CSAT copies, analytics entries and customer link. Returns the rows deleted per table
        (every table named, 0 included). Idempotent: a second call deletes nothing."""

    @abc.abstractmethod
    async def purge(
        self, *, records_before: float | None, analytics_before: float | None
    ) -> dict[str, int]:
        """Retention: deletes notes, CSAT copies, customer links and finished handoffs created
        before ``records_before``, and analytics entries before ``analytics_before`` (None:
        keep). Open handoffs are never purged. Returns the rows deleted per table."""

    # --- the handoff queue -----------------------------------------------------------------------

    @abc.abstractmethod
    async def open_handoff(
        self, conversation_id: str, reason: str, channel: str, language: str | None, now: float
    ) -> tuple[Handoff, bool]:
        """Queues the conversation; (the open handoff, True) or, when one is open already
        (waiting or claimed), (that one, False): a conversation is queued at most once."""

    @abc.abstractmethod
    async def get_handoff(self, handoff_id: int) -> Handoff | None:
        """One handoff by id."""

    @abc.abstractmethod
    async def open_handoff_of(self, conversation_id: str) -> Handoff | None:
        """The conversation's waiting or claimed handoff, if any."""

    @abc.abstractmethod
    async def handoffs(
        self, statuses: Sequence[HandoffStatus] = OPEN_STATUSES, limit: int = 200
    ) -> list[Handoff]:
        """Handoffs in these statuses, oldest first (the queue's order)."""

    @abc.abstractmethod
    async def handoffs_since(self, since: float) -> list[Handoff]:
        """Handoffs queued from ``since`` on, any status, oldest first (for analytics)."""

    @abc.abstractmethod
    async def handoffs_of(self, conversation_id: str) -> list[Handoff]:
        """Every handoff of the conversation, oldest first."""

    @abc.abstractmethod
    async def claim(self, handoff_id: int, agent_id: AgentId, now: float) -> bool:
        """Takes a waiting handoff for the agent; of concurrent claims exactly one wins."""

    @abc.abstractmethod
    async def transfer(
        self, handoff_id: int, from_agent: AgentId | None, to_agent: AgentId
    ) -> bool:
        """Moves a claimed handoff to another agent; False unless ``from_agent`` holds it
        (``None``: whoever holds it, for admins)."""

    @abc.abstractmethod
    async def first_response(self, handoff_id: int, now: float) -> bool:
        """Records the agent's first reply time; True only the first time."""

    @abc.abstractmethod
    async def finish(
        self, handoff_id: int, status: Literal["handed_back", "closed"], now: float
    ) -> bool:
        """Ends an open handoff; False when it was not open."""

    @abc.abstractmethod
    async def set_email(self, conversation_id: str, email: str) -> bool:
        """Keeps the email a waiting shopper left on their open handoff."""

    # --- life ------------------------------------------------------------------------------

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the database answers."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Closes connections; the store reconnects on next use."""
