"""the WeChat channel's outbox, residents' 48-hour windows and fetched photos

Revision ID: c001
Revises:
Create Date: 2026-11-29

Stores made before migrations existed (by the channel itself) are adopted as they are: a table that
is already there is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exists(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if not _exists("wechat_outbox"):
        op.create_table(
            "wechat_outbox",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("openid", sa.String(length=64), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("via", sa.String(length=16), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("last_error", sa.Text(), nullable=True),
            sa.Column("next_attempt_at", sa.Float(), nullable=False),
            sa.Column("claimed_until", sa.Float(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
        )
        op.create_index("ix_wechat_outbox_openid", "wechat_outbox", ["openid"])
        op.create_index("ix_wechat_outbox_status", "wechat_outbox", ["status"])
    if not _exists("wechat_contacts"):
        op.create_table(
            "wechat_contacts",
            sa.Column("openid", sa.String(length=64), primary_key=True),
            sa.Column("last_inbound_at", sa.Float(), nullable=False),
            sa.Column("pushes", sa.Integer(), nullable=False),
            sa.Column("subscribed", sa.Boolean(), nullable=False),
        )
    if not _exists("wechat_media"):
        op.create_table(
            "wechat_media",
            sa.Column("media_id", sa.String(length=128), primary_key=True),
            sa.Column("content_type", sa.String(length=64), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False),
            sa.Column("fetched_at", sa.Float(), nullable=False),
        )


def downgrade() -> None:
    op.drop_table("wechat_media")
    op.drop_table("wechat_contacts")
    op.drop_index("ix_wechat_outbox_status", table_name="wechat_outbox")
    op.drop_index("ix_wechat_outbox_openid", table_name="wechat_outbox")
    op.drop_table("wechat_outbox")
