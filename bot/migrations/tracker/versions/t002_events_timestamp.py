"""Rasa's tracker store: events indexed by time, for the retention prune (12.1) and the bot's figures per
day (channels/figures.py), which read events by time across every conversation

Revision ID: t002
Revises: t001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "t002"
down_revision: str | None = "t001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_timestamp", "events", ["timestamp"])


def downgrade() -> None:
    op.drop_index("ix_events_timestamp", table_name="events")
