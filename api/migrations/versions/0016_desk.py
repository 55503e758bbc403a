"""the chat desk for a shift: who is where (staff_presence), the round robin's settings (desk_settings)
and when and by whom a chat was assigned (handoffs.assigned_at, assigned_by), macros
(canned_replies.action) and each member of staff's own quick replies (personal_replies)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_presence",
        sa.Column("staff", sa.String(length=96), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("typing_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("staff", "handoff_id"),
    )
    op.create_index(op.f("ix_staff_presence_seen_at"), "staff_presence", ["seen_at"])
    op.create_table(
        "desk_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auto_assign", sa.Boolean(), nullable=False),
        sa.Column("chat_limit", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=96), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "personal_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=96), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "title", name="uq_personal_replies_owner_title"),
    )
    op.create_index(op.f("ix_personal_replies_owner"), "personal_replies", ["owner"])
    with op.batch_alter_table("handoffs") as table:
        table.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("assigned_by", sa.String(length=96), nullable=True))
        table.create_index(op.f("ix_handoffs_assigned_to"), ["assigned_to"])
    with op.batch_alter_table("canned_replies") as table:
        table.add_column(sa.Column("action", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("canned_replies") as table:
        table.drop_column("action")
    with op.batch_alter_table("handoffs") as table:
        table.drop_index(op.f("ix_handoffs_assigned_to"))
        table.drop_column("assigned_by")
        table.drop_column("assigned_at")
    op.drop_index(op.f("ix_personal_replies_owner"), table_name="personal_replies")
    op.drop_table("personal_replies")
    op.drop_table("desk_settings")
    op.drop_index(op.f("ix_staff_presence_seen_at"), table_name="staff_presence")
    op.drop_table("staff_presence")
