"""The console store in SQL that SQLite and PostgreSQL both speak.

Adapters give four primitives (fetch rows, execute, execute for many rows, and which
exception a unique index raises); every query is written once here with ``:name``
parameters, which the PostgreSQL adapter turns into psycopg's ``%(name)s``. The schema is the
migrations' (bot/console/migrations/versions/).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from bot.console.store import (
    OPEN_STATUSES,
    AgentAccount,
    AgentExists,
    AgentId,
    AgentSession,
    AnalyticsEvent,
    ConsoleStore,
    CsatCopy,
    Handoff,
    HandoffStatus,
    Note,
    Role,
)

Row = Mapping[str, Any]
_AGENT_COLUMNS = (
    "id, email, name, role, password_hash, disabled, failed_logins, locked_until, created"
)
_HANDOFF_COLUMNS = (
    "id, conversation_id, reason, channel, language, status, created, agent_id, claimed_at, "
    "first_response_at, closed_at, email"
)

_CONVERSATION_TABLES = ("handoffs", "notes", "csat", "analytics_events", "customer_conversations")
"""Every table with rows about one conversation (all keyed by ``conversation_id``)."""


class SqlConsoleStore(ConsoleStore):
    """Everything but the connection; see the module docstring."""

    @abc.abstractmethod
    async def _fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Runs a query and returns its rows as mappings."""

    @abc.abstractmethod
    async def _execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Runs a statement in its own transaction; returns the rows it changed."""

    @abc.abstractmethod
    async def _execute_many(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Runs a statement once per row, all in one transaction."""

    @abc.abstractmethod
    def _is_unique_violation(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the database refusing a duplicate in a unique index."""

    # --- agents ------------------------------------------------------------------------------

    async def add_agent(
        self, agent_id: AgentId, email: str, name: str, role: Role, password_hash: str, now: float
    ) -> AgentAccount:
        email = email.strip().lower()
        try:
            await self._execute(
                "INSERT INTO agents (id, email, name, role, password_hash, disabled, "
                "failed_logins, created) VALUES (:id, :email, :name, :role, :hash, :off, 0, :now)",
                {"id": agent_id, "email": email, "name": name, "role": role,
                 "hash": password_hash, "off": False, "now": now},
            )  # fmt: skip
        except Exception as exc:
            if self._is_unique_violation(exc):
                raise AgentExists(email) from exc
            raise
        return AgentAccount(agent_id, email, name, role, password_hash, created=now)

    async def get_agent(self, agent_id: AgentId) -> AgentAccount | None:
        rows = await self._fetch(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE id = :id", {"id": agent_id}
        )
        return _agent(rows[0]) if rows else None

    async def find_agent(self, email: str) -> AgentAccount | None:
        rows = await self._fetch(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE email = :email",
            {"email": email.strip().lower()},
        )
        return _agent(rows[0]) if rows else None

    async def list_agents(self) -> list[AgentAccount]:
        rows = await self._fetch(f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY name, email")
        return [_agent(row) for row in rows]

    async def set_disabled(self, agent_id: AgentId, disabled: bool) -> bool:
        changed = await self._execute(
            "UPDATE agents SET disabled = :off WHERE id = :id", {"off": disabled, "id": agent_id}
        )
        if disabled:
            await self._execute("DELETE FROM agent_sessions WHERE agent_id = :id", {"id": agent_id})
        return changed > 0

    async def set_password(self, agent_id: AgentId, password_hash: str) -> bool:
        changed = await self._execute(
            "UPDATE agents SET password_hash = :hash WHERE id = :id",
            {"hash": password_hash, "id": agent_id},
        )
        return changed > 0

    async def login_failed(
        self, agent_id: AgentId, *, max_failures: int, lock_s: float, now: float
    ) -> AgentAccount | None:
        # One statement, so concurrent wrong passwords are all counted (SET reads old values).
        await self._execute(
            "UPDATE agents SET "
            "locked_until = CASE WHEN failed_logins + 1 >= :max THEN :until ELSE locked_until END,"
            " failed_logins = CASE WHEN failed_logins + 1 >= :max THEN 0 ELSE failed_logins + 1 "
            "END WHERE id = :id",
            {"max": max_failures, "until": now + lock_s, "id": agent_id},
        )
        return await self.get_agent(agent_id)

    async def login_succeeded(self, agent_id: AgentId) -> None:
        await self._execute(
            "UPDATE agents SET failed_logins = 0, locked_until = NULL WHERE id = :id",
            {"id": agent_id},
        )

    # --- sign-ins ----------------------------------------------------------------------------

    async def create_session(self, session: AgentSession) -> None:
        await self._execute(
            "INSERT INTO agent_sessions (token_hash, agent_id, csrf_token, created, expires) "
            "VALUES (:token, :agent, :csrf, :created, :expires)",
            {"token": session.token_hash, "agent": session.agent_id, "csrf": session.csrf_token,
             "created": session.created, "expires": session.expires},
        )  # fmt: skip

    async def get_session(self, token_hash: str, now: float) -> AgentSession | None:
        rows = await self._fetch(
            "SELECT token_hash, agent_id, csrf_token, created, expires FROM agent_sessions "
            "WHERE token_hash = :token AND expires > :now",
            {"token": token_hash, "now": now},
        )
        if not rows:
            return None
        row = rows[0]
        return AgentSession(
            row["token_hash"], AgentId(row["agent_id"]), row["csrf_token"],
            float(row["created"]), float(row["expires"]),
        )  # fmt: skip

    async def delete_session(self, token_hash: str) -> None:
        await self._execute(
            "DELETE FROM agent_sessions WHERE token_hash = :token", {"token": token_hash}
        )

    async def delete_expired_sessions(self, now: float) -> int:
        return await self._execute("DELETE FROM agent_sessions WHERE expires <= :now", {"now": now})

    # --- notes, CSAT, analytics ----------------------------------------------------------------

    async def add_note(
        self, conversation_id: str, agent: AgentAccount, text: str, now: float
    ) -> Note:
        rows = await self._fetch(
            "INSERT INTO notes (conversation_id, agent_id, agent_name, text, created) "
            "VALUES (:cid, :agent, :name, :text, :now) RETURNING id",
            {"cid": conversation_id, "agent": agent.id, "name": agent.name, "text": text,
             "now": now},
        )  # fmt: skip
        return Note(int(rows[0]["id"]), conversation_id, agent.id, agent.name, text, now)

    async def notes(self, conversation_id: str) -> list[Note]:
        rows = await self._fetch(
            "SELECT id, conversation_id, agent_id, agent_name, text, created FROM notes "
            "WHERE conversation_id = :cid ORDER BY created, id",
            {"cid": conversation_id},
        )
        return [
            Note(int(r["id"]), r["conversation_id"], AgentId(r["agent_id"]), r["agent_name"],
                 r["text"], float(r["created"]))
            for r in rows
        ]  # fmt: skip

    async def add_csat(self, csat: CsatCopy) -> None:
        await self._execute(
            "INSERT INTO csat (conversation_id, score, comment, created, agent_id) "
            "VALUES (:cid, :score, :comment, :created, :agent)",
            {"cid": csat.conversation_id, "score": csat.score, "comment": csat.comment,
             "created": csat.created, "agent": csat.agent_id},
        )  # fmt: skip

    async def csat_since(self, since: float) -> list[CsatCopy]:
        rows = await self._fetch(
            "SELECT conversation_id, score, comment, created, agent_id FROM csat "
            "WHERE created >= :since ORDER BY created, id",
            {"since": since},
        )
        return [
            CsatCopy(r["conversation_id"], int(r["score"]), r["comment"], float(r["created"]),
                     AgentId(r["agent_id"]) if r["agent_id"] else None)
            for r in rows
        ]  # fmt: skip

    async def log_events(self, events: Sequence[AnalyticsEvent]) -> None:
        if not events:
            return
        await self._execute_many(
            "INSERT INTO analytics_events (kind, conversation_id, at, data) "
            "VALUES (:kind, :cid, :at, :data)",
            [
                {"kind": e.kind, "cid": e.conversation_id, "at": e.at,
                 "data": json.dumps(e.data, ensure_ascii=False, separators=(",", ":"))}
                for e in events
            ],
        )  # fmt: skip

    async def events_since(
        self, since: float, kinds: Sequence[str] | None = None
    ) -> list[AnalyticsEvent]:
        params: dict[str, Any] = {"since": since}
        where = ""
        if kinds is not None:
            if not kinds:
                return []
            names = [f"k{i}" for i in range(len(kinds))]
            params |= dict(zip(names, kinds, strict=True))
            where = f" AND kind IN ({', '.join(':' + n for n in names)})"
        rows = await self._fetch(
            "SELECT kind, conversation_id, at, data FROM analytics_events "
            f"WHERE at >= :since{where} ORDER BY at, id",
            params,
        )
        return [
            AnalyticsEvent(r["kind"], r["conversation_id"], float(r["at"]), json.loads(r["data"]))
            for r in rows
        ]

    # --- customers ---------------------------------------------------------------------------

    async def link_customer(self, conversation_id: str, customer_id: str, now: float) -> None:
        try:
            await self._execute(
                "INSERT INTO customer_conversations (conversation_id, customer_id, first_seen) "
                "VALUES (:cid, :customer, :now)",
                {"cid": conversation_id, "customer": customer_id, "now": now},
            )
        except Exception as exc:
            if not self._is_unique_violation(exc):
                raise

    async def conversations_of(self, customer_id: str, limit: int = 20) -> list[tuple[str, float]]:
        rows = await self._fetch(
            "SELECT conversation_id, first_seen FROM customer_conversations "
            "WHERE customer_id = :customer ORDER BY first_seen DESC LIMIT :limit",
            {"customer": customer_id, "limit": limit},
        )
        return [(r["conversation_id"], float(r["first_seen"])) for r in rows]

    async def customer_of(self, conversation_id: str) -> str | None:
        rows = await self._fetch(
            "SELECT customer_id FROM customer_conversations WHERE conversation_id = :cid",
            {"cid": conversation_id},
        )
        return str(rows[0]["customer_id"]) if rows else None

    # --- privacy: erasure and retention ------------------------------------------------------

    async def conversations_with_email(self, email: str) -> list[str]:
        rows = await self._fetch(
            "SELECT DISTINCT conversation_id FROM handoffs WHERE LOWER(email) = :email "
            "ORDER BY conversation_id",
            {"email": email.strip().lower()},
        )
        return [str(r["conversation_id"]) for r in rows]

    async def erase_conversation(self, conversation_id: str) -> dict[str, int]:
        # One statement per table, each in its own transaction: a failure half way leaves
        # the rest for the retry, which is safe because every statement is idempotent.
        return {
            table: await self._execute(
                f"DELETE FROM {table} WHERE conversation_id = :cid", {"cid": conversation_id}
            )
            for table in _CONVERSATION_TABLES
        }

    async def purge(
        self, *, records_before: float | None, analytics_before: float | None
    ) -> dict[str, int]:
        deleted: dict[str, int] = {}
        if records_before is not None:
            cutoff = {"before": records_before}
            deleted["notes"] = await self._execute(
                "DELETE FROM notes WHERE created < :before", cutoff
            )
            deleted["csat"] = await self._execute(
                "DELETE FROM csat WHERE created < :before", cutoff
            )
            deleted["handoffs"] = await self._execute(
                "DELETE FROM handoffs WHERE created < :before "
                "AND status NOT IN ('waiting', 'claimed')",
                cutoff,
            )
            deleted["customer_conversations"] = await self._execute(
                "DELETE FROM customer_conversations WHERE first_seen < :before", cutoff
            )
        if analytics_before is not None:
            deleted["analytics_events"] = await self._execute(
                "DELETE FROM analytics_events WHERE at < :before", {"before": analytics_before}
            )
        return deleted

    # --- the handoff queue -----------------------------------------------------------------------

    async def open_handoff(
        self, conversation_id: str, reason: str, channel: str, language: str | None, now: float
    ) -> tuple[Handoff, bool]:
        try:
            rows = await self._fetch(
                "INSERT INTO handoffs (conversation_id, reason, channel, language, status, "
                "created) VALUES (:cid, :reason, :channel, :language, 'waiting', :now) "
                f"RETURNING {_HANDOFF_COLUMNS}",
                {"cid": conversation_id, "reason": reason, "channel": channel,
                 "language": language, "now": now},
            )  # fmt: skip
            return _handoff(rows[0]), True
        except Exception as exc:
            # The partial unique index allows one open handoff per conversation.
            if not self._is_unique_violation(exc):
                raise
        existing = await self.open_handoff_of(conversation_id)
        if existing is None:  # closed between the two statements: queue it again
            return await self.open_handoff(conversation_id, reason, channel, language, now)
        return existing, False

    async def get_handoff(self, handoff_id: int) -> Handoff | None:
        rows = await self._fetch(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE id = :id", {"id": handoff_id}
        )
        return _handoff(rows[0]) if rows else None

    async def open_handoff_of(self, conversation_id: str) -> Handoff | None:
        rows = await self._fetch(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = :cid "
            "AND status IN ('waiting', 'claimed')",
            {"cid": conversation_id},
        )
        return _handoff(rows[0]) if rows else None

    async def handoffs(
        self, statuses: Sequence[HandoffStatus] = OPEN_STATUSES, limit: int = 200
    ) -> list[Handoff]:
        names = [f"s{i}" for i in range(len(statuses))]
        params: dict[str, Any] = dict(zip(names, statuses, strict=True))
        params["limit"] = limit
        rows = await self._fetch(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE status IN "
            f"({', '.join(':' + n for n in names)}) ORDER BY created, id LIMIT :limit",
            params,
        )
        return [_handoff(row) for row in rows]

    async def handoffs_since(self, since: float) -> list[Handoff]:
        rows = await self._fetch(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE created >= :since ORDER BY created, id",
            {"since": since},
        )
        return [_handoff(row) for row in rows]

    async def handoffs_of(self, conversation_id: str) -> list[Handoff]:
        rows = await self._fetch(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = :cid "
            "ORDER BY created, id",
            {"cid": conversation_id},
        )
        return [_handoff(row) for row in rows]

    async def claim(self, handoff_id: int, agent_id: AgentId, now: float) -> bool:
        # The WHERE makes it atomic: the second of two concurrent claims changes no row.
        changed = await self._execute(
            "UPDATE handoffs SET status = 'claimed', agent_id = :agent, claimed_at = :now "
            "WHERE id = :id AND status = 'waiting'",
            {"agent": agent_id, "now": now, "id": handoff_id},
        )
        return changed == 1

    async def transfer(
        self, handoff_id: int, from_agent: AgentId | None, to_agent: AgentId
    ) -> bool:
        holder = "" if from_agent is None else " AND agent_id = :from_agent"
        changed = await self._execute(
            "UPDATE handoffs SET agent_id = :to_agent WHERE id = :id AND status = 'claimed'"
            + holder,
            {"to_agent": to_agent, "id": handoff_id, "from_agent": from_agent},
        )
        return changed == 1

    async def first_response(self, handoff_id: int, now: float) -> bool:
        changed = await self._execute(
            "UPDATE handoffs SET first_response_at = :now "
            "WHERE id = :id AND first_response_at IS NULL",
            {"now": now, "id": handoff_id},
        )
        return changed == 1

    async def finish(
        self, handoff_id: int, status: Literal["handed_back", "closed"], now: float
    ) -> bool:
        changed = await self._execute(
            "UPDATE handoffs SET status = :status, closed_at = :now "
            "WHERE id = :id AND status IN ('waiting', 'claimed')",
            {"status": status, "now": now, "id": handoff_id},
        )
        return changed == 1

    async def set_email(self, conversation_id: str, email: str) -> bool:
        changed = await self._execute(
            "UPDATE handoffs SET email = :email WHERE conversation_id = :cid "
            "AND status IN ('waiting', 'claimed')",
            {"email": email, "cid": conversation_id},
        )
        return changed > 0

    async def ping(self) -> bool:
        try:
            await self._fetch("SELECT 1 AS one")
        except Exception:
            return False
        return True


def _agent(row: Row) -> AgentAccount:
    return AgentAccount(
        id=AgentId(row["id"]),
        email=row["email"],
        name=row["name"],
        role=cast(Role, row["role"]),
        password_hash=row["password_hash"],
        disabled=bool(row["disabled"]),
        failed_logins=int(row["failed_logins"]),
        locked_until=None if row["locked_until"] is None else float(row["locked_until"]),
        created=float(row["created"]),
    )


def _handoff(row: Row) -> Handoff:
    def maybe(key: str) -> float | None:
        return None if row[key] is None else float(row[key])

    return Handoff(
        id=int(row["id"]),
        conversation_id=row["conversation_id"],
        reason=row["reason"],
        channel=row["channel"],
        language=row["language"],
        status=cast(HandoffStatus, row["status"]),
        created=float(row["created"]),
        agent_id=AgentId(row["agent_id"]) if row["agent_id"] else None,
        claimed_at=maybe("claimed_at"),
        first_response_at=maybe("first_response_at"),
        closed_at=maybe("closed_at"),
        email=row["email"],
    )
