"""damage claims (13.3–13.8: the loss, the insurer's visit with the resident, the adjuster's sum, the sum
agreed and paid within 30 working days, or why the company does not pay) and what a room-temperature test
found (10.3 第1条 c–e, 10.4: the cause, who answers for it, the fee reduction and its refund or offset)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("damage", sa.Text(), nullable=False),
        sa.Column("injured", sa.Boolean(), nullable=False),
        sa.Column("insurer_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("surveyed_with_resident_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("photos_kept", sa.Boolean(), nullable=False),
        sa.Column("adjusted_sum", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("adjusted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agreed_sum", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exclusion", sa.String(length=32), nullable=True),
        sa.Column("exclusion_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )
    with op.batch_alter_table("room_temperature_tests") as table:
        table.add_column(sa.Column("cause", sa.Text(), nullable=True))
        table.add_column(sa.Column("responsibility", sa.String(length=16), nullable=True))
        table.add_column(sa.Column("fee_reduction", sa.Numeric(precision=10, scale=2), nullable=True))
        table.add_column(sa.Column("offset_next_season", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("found_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("room_temperature_tests") as table:
        for column in ("found_at", "refunded_at", "offset_next_season", "fee_reduction", "responsibility", "cause"):
            table.drop_column(column)
    op.drop_table("claims")
