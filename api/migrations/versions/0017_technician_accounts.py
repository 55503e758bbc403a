"""technicians' own view of their orders: the technician's account an order was dispatched to
(work_orders.technician_id) and the resident's satisfaction recorded on site (work_orders.site_satisfaction,
10.2.5). The role itself ("technician") is a value of staff_users.role and needs no change.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders") as batch_op:
        batch_op.add_column(sa.Column("technician_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("site_satisfaction", sa.String(length=24), nullable=True))
        batch_op.create_index(batch_op.f("ix_work_orders_technician_id"), ["technician_id"])
        batch_op.create_foreign_key(
            "fk_work_orders_technician_id_staff_users", "staff_users", ["technician_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch_op:
        batch_op.drop_constraint("fk_work_orders_technician_id_staff_users", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_work_orders_technician_id"))
        batch_op.drop_column("site_satisfaction")
        batch_op.drop_column("technician_id")
