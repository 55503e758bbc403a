"""deadlines in one place: an order's due times are its ``deadlines`` rows only; the eight
``work_orders.*_due_at`` columns that repeated them are dropped (``next_due_at`` stays: the index of the
soonest open one). A due time kept only in a column (an order filed before the rows existed) becomes a row
first, so nothing is lost; undone, the columns are filled again from the rows.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.db import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = ("response", "handle", "arrival", "return", "reply", "completion", "decision", "callback")
# The sample operator file's reminder share; a row made here is reminded like one the service made.
REMINDER_SHARE = 0.8
# An order in one of these states has nothing left to watch: a due time recovered for it is met.
FINISHED = ("closed", "cancelled", "returned")
BATCH = 2000

orders = sa.table(
    "work_orders",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("accepted_at", UTCDateTime),
    sa.column("completed_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
    *(sa.column(f"{name}_due_at", UTCDateTime) for name in NAMES),
)
deadlines = sa.table(
    "deadlines",
    sa.column("id", sa.Integer),
    sa.column("order_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("starts_at", UTCDateTime),
    sa.column("due_at", UTCDateTime),
    sa.column("remind_at", UTCDateTime),
    sa.column("met_at", UTCDateTime),
)


def _rows_for_columns_alone(bind: sa.Connection) -> None:
    """A ``deadlines`` row for every due time a column holds and no row does."""
    last = 0
    while True:
        batch = bind.execute(sa.select(orders).where(orders.c.id > last).order_by(orders.c.id).limit(BATCH)).all()
        if not batch:
            return
        ids = [row.id for row in batch]
        have = set(bind.execute(sa.select(deadlines.c.order_id, deadlines.c.name).where(deadlines.c.order_id.in_(ids))))
        new = []
        for row in batch:
            for name in NAMES:
                due = getattr(row, f"{name}_due_at")
                if due is None or (row.id, name) in have:
                    continue
                starts = (row.completed_at if name == "callback" else None) or row.accepted_at
                remind = starts + (due - starts) * REMINDER_SHARE if due > starts else due
                met = row.updated_at if row.status in FINISHED else None
                new.append(dict(order_id=row.id, name=name, starts_at=starts, due_at=due, remind_at=remind, met_at=met))
        if new:
            bind.execute(deadlines.insert(), new)
        last = ids[-1]


def upgrade() -> None:
    _rows_for_columns_alone(op.get_bind())
    with op.batch_alter_table("work_orders") as table:
        for name in NAMES:
            table.drop_column(f"{name}_due_at")


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as table:
        for name in NAMES:
            table.add_column(sa.Column(f"{name}_due_at", sa.DateTime(timezone=True), nullable=True))
    for name in NAMES:
        due = (
            sa.select(deadlines.c.due_at)
            .where(deadlines.c.order_id == orders.c.id, deadlines.c.name == name)
            .scalar_subquery()
        )
        op.execute(orders.update().values({f"{name}_due_at": due}))
