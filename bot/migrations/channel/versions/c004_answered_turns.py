"""the turns whose answer went out to the resident

Revision ID: c004
Revises: c003
Create Date: 2026-12-06

Rasa saves a turn before the channel answers it: a process that stops in between leaves a conversation
that says the bot answered, and a resident who heard nothing. The channel records here each turn it
answered in the push's reply once the reply is written (a pushed answer is in the outbox), so that the
backend's check of a filed order's number asks what the resident was sent, not what the bot said
(channels/delivery.py, api/services/scheduler.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c004"
down_revision: str | None = "c003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_answered",
        sa.Column("key", sa.String(length=120), primary_key=True),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("answered_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_wechat_answered_openid", "wechat_answered", ["openid"])
    op.create_index("ix_wechat_answered_answered_at", "wechat_answered", ["answered_at"])


def downgrade() -> None:
    op.drop_index("ix_wechat_answered_answered_at", table_name="wechat_answered")
    op.drop_index("ix_wechat_answered_openid", table_name="wechat_answered")
    op.drop_table("wechat_answered")
