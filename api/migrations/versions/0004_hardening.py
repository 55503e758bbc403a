"""hardening: scoped idempotency, login failures, composed outage notices, delivery state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("cause_note", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=96), nullable=True))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_state", sa.String(length=24), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"])
    op.create_index("ix_login_failures_address_at", "login_failures", ["address", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_address_at", table_name="login_failures")
    op.drop_index("ix_login_failures_username_at", table_name="login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("delivery_state")
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.drop_column("created_by")
        batch_op.drop_column("cause_note")
        batch_op.drop_column("cause_code")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_column("request_fingerprint")
