"""room-temperature sampling: households, sampling plans, and the plan that drew a visit

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=False),
        sa.Column("position", sa.String(length=16), nullable=True),
        sa.Column("orientation", sa.String(length=16), nullable=True),
        sa.Column("floor_level", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_households_key"),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_community"), ["community"])
    op.create_table(
        "sampling_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("season", sa.String(length=16), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("collector", sa.String(length=64), nullable=False),
        sa.Column("spread", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sampling_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sampling_plans_season"), ["season"])
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sampling_plan_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_work_orders_sampling_plan_id"), ["sampling_plan_id"])
        batch_op.create_foreign_key(
            "fk_work_orders_sampling_plan_id_sampling_plans", "sampling_plans", ["sampling_plan_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_work_orders_sampling_plan_id_sampling_plans", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_work_orders_sampling_plan_id"))
        batch_op.drop_column("sampling_plan_id")
    op.drop_table("sampling_plans")
    op.drop_table("households")
