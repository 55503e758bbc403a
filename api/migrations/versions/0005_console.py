"""console: photos, grid-worker binding, technician, hotline contact and number, chat assignment, notes, replies, audit

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("grid_workers", schema=None) as batch_op:
        batch_op.alter_column("openid", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("bind_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("bind_code_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("bound_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_grid_workers_bind_code_hash", ["bind_code_hash"])
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("technician", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("contact_name", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_work_orders_source_external_reference", ["source", "external_reference"])
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column("work_order_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_handoffs_work_order_id", "work_orders", ["work_order_id"], ["id"])
    op.create_table(
        "media_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("media_id"),
    )
    op.create_index(op.f("ix_media_files_order_id"), "media_files", ["order_id"])
    op.create_index(op.f("ix_media_files_state"), "media_files", ["state"])
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=96), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_handoff_notes_handoff_id"), "handoff_notes", ["handoff_id"])
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("title"),
    )
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=96), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_staff_audit_at"), "staff_audit", ["at"])
    op.create_index(op.f("ix_staff_audit_actor"), "staff_audit", ["actor"])


def downgrade() -> None:
    with op.batch_alter_table("grid_workers", schema=None) as batch_op:
        batch_op.drop_constraint("uq_grid_workers_bind_code_hash", type_="unique")
        batch_op.drop_column("bound_at")
        batch_op.drop_column("bind_code_expires_at")
        batch_op.drop_column("bind_code_hash")
        batch_op.alter_column("openid", existing_type=sa.String(length=64), nullable=False)
    op.drop_index(op.f("ix_staff_audit_actor"), table_name="staff_audit")
    op.drop_index(op.f("ix_staff_audit_at"), table_name="staff_audit")
    op.drop_table("staff_audit")
    op.drop_table("canned_replies")
    op.drop_index(op.f("ix_media_files_state"), table_name="media_files")
    op.drop_index(op.f("ix_media_files_order_id"), table_name="media_files")
    op.drop_table("media_files")
    op.drop_index(op.f("ix_handoff_notes_handoff_id"), table_name="handoff_notes")
    op.drop_table("handoff_notes")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_handoffs_work_order_id", type_="foreignkey")
        batch_op.drop_column("work_order_id")
        batch_op.drop_column("assigned_to")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_work_orders_source_external_reference", type_="unique")
        batch_op.drop_column("contact_name")
        batch_op.drop_column("technician")
