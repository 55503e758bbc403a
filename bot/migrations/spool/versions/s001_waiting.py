"""conversations whose order waits for the backend

Revision ID: s001
Revises:
Create Date: 2026-11-29

A spool made before migrations existed (by the action server itself) is adopted as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("waiting"):
        return
    op.create_table(
        "waiting",
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_waiting_next_attempt_at", "waiting", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_waiting_next_attempt_at", table_name="waiting")
    op.drop_table("waiting")
