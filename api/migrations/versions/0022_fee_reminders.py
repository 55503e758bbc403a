"""fee reminders (9.2.2): each household reminded of unpaid fees, with the reminder's proof — the WeChat
notification and what the channel made of it, or the phone call that replaced it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fee_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.Column("recipient_openid", sa.String(length=64), nullable=True),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("phoned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phoned_by", sa.String(length=96), nullable=True),
        sa.Column("phone_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fee_reminders") as table:
        table.create_index(table.f("ix_fee_reminders_batch"), ["batch"])
        table.create_index(table.f("ix_fee_reminders_recipient_openid"), ["recipient_openid"])


def downgrade() -> None:
    op.drop_table("fee_reminders")
