"""bot_model_pulls.given_at: when a Rasa process was first given the model it was last given, so that one
that keeps failing to load it holds up the other processes' switch no longer than SWITCH_SECONDS

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bot_model_pulls") as table:
        table.add_column(sa.Column("given_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE bot_model_pulls SET given_at = pulled_at")
    with op.batch_alter_table("bot_model_pulls") as table:
        table.alter_column("given_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("bot_model_pulls") as table:
        table.drop_column("given_at")
