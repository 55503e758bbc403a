"""Rasa's tracker store: the events table of Rasa 3.6's SQLTrackerStore

Revision ID: t001
Revises:
Create Date: 2026-11-29

The table Rasa 3.6.21 would create itself (``rasa.core.tracker_store.SQLTrackerStore.SQLEvent``), made
here first so that every store's schema comes from a migration; Rasa then finds it and creates
nothing. A table Rasa made before is adopted as it is. A Rasa upgrade that changes the table needs a
migration here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("events"):
        return
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("type_name", sa.String(length=255), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=True),
        sa.Column("intent_name", sa.String(length=255), nullable=True),
        sa.Column("action_name", sa.String(length=255), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
    )
    op.create_index("ix_events_sender_id", "events", ["sender_id"])


def downgrade() -> None:
    op.drop_index("ix_events_sender_id", table_name="events")
    op.drop_table("events")
