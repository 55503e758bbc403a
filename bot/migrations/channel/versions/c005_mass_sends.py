"""announcements mass-sent to every follower, one row per announcement key (channels/announcements.py)

Revision ID: c005
Revises: c004
Create Date: 2026-12-07

A service account has four mass-sends a natural month, and a second sending of one announcement tells every
resident twice: the key is recorded before the platform is called, and a key asked for again is answered
from its row instead of being sent.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c005"
down_revision: str | None = "c004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_mass_sends",
        sa.Column("key", sa.String(length=120), primary_key=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=True),
        sa.Column("errcode", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wechat_mass_sends")
