"""the key of the backend's notification an outbox message delivers, kept unique

Revision ID: c002
Revises: c001
Create Date: 2026-11-29

The backend hands a resident's notification to the bot at least once: when it does not hear the answer
of a hand-over (a restart in between), it hands the notification over again under the same key. The
outbox keeps one message per key and part, so the resident is told once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c002"
down_revision: str | None = "c001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("wechat_outbox", sa.Column("handover_key", sa.String(length=120), nullable=True))
    # NULLs do not collide: messages said in a resident's turn carry no key
    op.create_index("uq_wechat_outbox_handover_key", "wechat_outbox", ["handover_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_wechat_outbox_handover_key", table_name="wechat_outbox")
    with op.batch_alter_table("wechat_outbox") as batch:
        batch.drop_column("handover_key")
