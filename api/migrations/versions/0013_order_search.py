"""order search: work_orders.search_text (what staff see of the community, address and contact name,
folded) and phone_tail (the phone's last four digits), written by the model whenever an order is saved;
filled here for the orders already kept

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.views import search

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("work_orders") as table:
        table.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        table.add_column(sa.Column("phone_tail", sa.String(length=4), nullable=True))
        table.create_index("ix_work_orders_phone_tail", ["phone_tail"])
    orders = sa.table(
        "work_orders",
        sa.column("id", sa.Integer),
        sa.column("community", sa.String),
        sa.column("address", sa.String),
        sa.column("building", sa.String),
        sa.column("contact_name", sa.String),
        sa.column("phone", sa.String),
        sa.column("search_text", sa.Text),
        sa.column("phone_tail", sa.String),
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(orders.c.id, orders.c.community, orders.c.address, orders.c.building)
            .add_columns(orders.c.contact_name, orders.c.phone)
            .where(orders.c.id > last)
            .order_by(orders.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            bind.execute(
                orders.update()
                .where(orders.c.id == row.id)
                .values(
                    search_text=search.searched(row.community, row.address, row.building, row.contact_name),
                    phone_tail=search.phone_tail(row.phone),
                )
            )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as table:
        table.drop_index("ix_work_orders_phone_tail")
        table.drop_column("phone_tail")
        table.drop_column("search_text")
