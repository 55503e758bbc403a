"""the bot's review queue: review_items (groups of near-duplicate wordings), review_occurrences; the bot's
figures of past days: bot_days

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("wording", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("predicted", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("labelled_by", sa.String(length=96), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("labelled_through", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.String(length=96), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_review_items_key"),
    )
    op.create_index("ix_review_items_status", "review_items", ["status"])
    op.create_index("ix_review_items_size", "review_items", ["size"])
    op.create_index("ix_review_items_last_seen_at", "review_items", ["last_seen_at"])
    op.create_table(
        "review_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("predicted", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("chosen", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["review_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key", name="uq_review_occurrences_message_key"),
    )
    op.create_index("ix_review_occurrences_item_id", "review_occurrences", ["item_id"])
    op.create_index("ix_review_occurrences_created_at", "review_occurrences", ["created_at"])
    op.create_table(
        "bot_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("bot_days")
    op.drop_table("review_occurrences")
    op.drop_index("ix_review_items_last_seen_at", table_name="review_items")
    op.drop_index("ix_review_items_size", table_name="review_items")
    op.drop_index("ix_review_items_status", table_name="review_items")
    op.drop_table("review_items")
