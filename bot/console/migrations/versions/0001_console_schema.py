"""The console's first schema: agents, sign-ins, notes, CSAT, analytics, handoffs, customers.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('waiting', 'claimed')")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Float, nullable=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.CheckConstraint("role IN ('agent', 'admin')", name="agents_role"),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("token_hash", sa.String(128), primary_key=True),
        sa.Column(
            "agent_id",
            sa.String(64),
            sa.ForeignKey("agents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(128), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_index("agent_sessions_agent", "agent_sessions", ["agent_id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("agent_name", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("notes_conversation", "notes", ["conversation_id"])
    op.create_table(
        "csat",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="csat_score"),
    )
    op.create_index("csat_created", "csat", ["created"])
    op.create_table(
        "analytics_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("analytics_events_at", "analytics_events", ["at"])
    op.create_index("analytics_events_kind_at", "analytics_events", ["kind", "at"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(300), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.Float, nullable=True),
        sa.Column("first_response_at", sa.Float, nullable=True),
        sa.Column("closed_at", sa.Float, nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'claimed', 'handed_back', 'closed')", name="handoffs_status"
        ),
    )
    # One open handoff per conversation: a second handoff while queued is the same one.
    op.create_index(
        "handoffs_one_open",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index("handoffs_status_created", "handoffs", ["status", "created"])
    op.create_table(
        "customer_conversations",
        sa.Column("conversation_id", sa.String(300), primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
    )
    op.create_index(
        "customer_conversations_customer", "customer_conversations", ["customer_id", "first_seen"]
    )


def downgrade() -> None:
    for table in (
        "customer_conversations",
        "handoffs",
        "analytics_events",
        "csat",
        "notes",
        "agent_sessions",
        "agents",
    ):
        op.drop_table(table)
