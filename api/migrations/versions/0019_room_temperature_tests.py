"""room-temperature test records: 5.4.6's three readings, the instrument (5.4.5), the room and
surroundings, why a test does not count in C (5.1's conditions, 5.4.6's method) and the resident's signature
or WeChat confirmation (10.3 第1条 a). Tests completed before this revision keep their one temperature on the
order and have no record.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "room_temperature_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("readings", sa.JSON(), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("resolution", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("outdoor_temperature", sa.Float(), nullable=True),
        sa.Column("excluded", sa.String(length=32), nullable=True),
        sa.Column("signature", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("resident_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resident_disputed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("room_temperature_tests")
