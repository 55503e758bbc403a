"""repeat complaints matched by phone too: work_orders.phone_key

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from heating_standard.orders import phone_key

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_key", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_work_orders_phone_key"), ["phone_key"])
    orders = sa.table(
        "work_orders", sa.column("id", sa.Integer), sa.column("phone", sa.String), sa.column("phone_key", sa.String)
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(orders.c.id, orders.c.phone).where(orders.c.phone.is_not(None))):
        connection.execute(orders.update().where(orders.c.id == row.id).values(phone_key=phone_key(row.phone)))


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_phone_key"))
        batch_op.drop_column("phone_key")
