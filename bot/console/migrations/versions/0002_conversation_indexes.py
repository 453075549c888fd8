"""Indexes by conversation, so erasing one conversation (and a shopper's email lookup) does not
scan the analytics log, the CSAT copies or the handoffs.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXES = (
    ("analytics_events_conversation", "analytics_events", ["conversation_id"]),
    ("csat_conversation", "csat", ["conversation_id"]),
    ("handoffs_conversation", "handoffs", ["conversation_id"]),
    ("customer_conversations_first_seen", "customer_conversations", ["first_seen"]),
    ("notes_created", "notes", ["created"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
