"""residents' messages kept while their turn could not run, to be run again later

Revision ID: c003
Revises: c002
Create Date: 2026-12-06

When the action server stays unreachable through a turn, Rasa saves nothing of it; the channel keeps
the message here and runs the same turn again later, in the platform's order (channels/held.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c003"
down_revision: str | None = "c002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_held_turns",
        sa.Column("key", sa.String(length=120), primary_key=True),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("claimed_until", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_wechat_held_turns_openid", "wechat_held_turns", ["openid"])


def downgrade() -> None:
    op.drop_index("ix_wechat_held_turns_openid", table_name="wechat_held_turns")
    op.drop_table("wechat_held_turns")
