"""promises and judgements: business type, completion moved late, reasonable complaints, several call-backs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The unique constraint on callback_tasks.order_id was created without a name: PostgreSQL named it
# itself; SQLite's copy is found through this convention.
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique_name() -> str:
    return "callback_tasks_order_id_key" if op.get_bind().dialect.name == "postgresql" else "uq_callback_tasks_order_id"


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("business_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rescheduled_late", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("reasonable", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("unreasonable_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("callback_tasks", schema=None, naming_convention=CONVENTION) as batch_op:
        batch_op.drop_constraint(_old_unique_name(), type_="unique")
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(batch_op.f("ix_callback_tasks_order_id"), ["order_id"])
        batch_op.create_unique_constraint("uq_callback_tasks_order_sequence", ["order_id", "sequence"])


def downgrade() -> None:
    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_callback_tasks_order_sequence", type_="unique")
        batch_op.drop_index(batch_op.f("ix_callback_tasks_order_id"))
        batch_op.drop_column("sequence")
    op.execute("DELETE FROM callback_tasks WHERE id NOT IN (SELECT MIN(id) FROM callback_tasks GROUP BY order_id)")
    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.create_unique_constraint(_old_unique_name(), ["order_id"])
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_column("unreasonable_reason")
        batch_op.drop_column("reasonable")
        batch_op.drop_column("rescheduled_late")
        batch_op.drop_column("business_type")
