"""a resident's message the WeChat channel could not deliver, told by phone instead: notifications.phoned_at,
phoned_by, phone_note

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.add_column(sa.Column("phoned_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("phoned_by", sa.String(length=96), nullable=True))
        table.add_column(sa.Column("phone_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.drop_column("phone_note")
        table.drop_column("phoned_by")
        table.drop_column("phoned_at")
