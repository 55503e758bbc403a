"""residents, deadlines, notifications, call-backs, handoffs, outages, staff

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:14:23.825799
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grid_workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("communities", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("openid"),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_openid", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_by", sa.String(length=96), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoffs_resident_openid"), ["resident_openid"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoffs_status"), ["status"], unique=False)

    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("communities", sa.JSON(), nullable=False),
        sa.Column("heated_area_m2", sa.Float(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_restoration_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("repair_location", sa.String(length=255), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_restoration_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outages_started_at"), ["started_at"], unique=False)

    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("openid"),
    )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_residents_phone"), ["phone"], unique=False)

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=255), nullable=False),
        sa.Column("community", sa.String(length=64), nullable=True),
        sa.Column("building", sa.String(length=16), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("room", sa.String(length=16), nullable=True),
        sa.Column("account_number", sa.String(length=32), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_community"), ["community"], unique=False)
        batch_op.create_index(batch_op.f("ix_addresses_resident_id"), ["resident_id"], unique=False)

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "callback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("face_to_face_required", sa.Boolean(), nullable=False),
        sa.Column("survey_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("process_satisfied", sa.Boolean(), nullable=True),
        sa.Column("result_satisfied", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=96), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id"),
    )
    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_tasks_due_at"), ["due_at"], unique=False)

    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "name", name="uq_deadlines_order_name"),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index("ix_deadlines_open_due", ["met_at", "breached_at", "due_at"], unique=False)
        batch_op.create_index("ix_deadlines_open_remind", ["met_at", "reminded_at", "remind_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadlines_order_id"), ["order_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient_openid", sa.String(length=64), nullable=True),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("deadline_name", sa.String(length=32), nullable=True),
        sa.Column("dedup_key", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outage_id"], ["outages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_outage_id"), ["outage_id"], unique=False)

    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=96), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_order_events_order_id"), ["order_id"], unique=False)

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resident_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("community", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("building", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("unit", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("room", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("season", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("repeat_complaint", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("calendar_uncertain", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("forwarded_by_grid_worker_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("external_reference", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("handle_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("arrival_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("return_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reply_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completion_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("callback_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("extended", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("extension_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("quote_items", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("quote_total", sa.Numeric(precision=10, scale=2), nullable=True))
        batch_op.add_column(sa.Column("quote_confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("result", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("measured_temperature", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f("ix_work_orders_status_response_due"))
        batch_op.create_index(batch_op.f("ix_work_orders_community"), ["community"], unique=False)
        batch_op.create_index("ix_work_orders_next_due_at", ["next_due_at"], unique=False)
        batch_op.create_index("ix_work_orders_repeat_lookup", ["resident_id", "category", "season"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_resident_id"), ["resident_id"], unique=False)
        batch_op.create_index("ix_work_orders_status", ["status"], unique=False)
        batch_op.create_foreign_key("fk_work_orders_resident_id", "residents", ["resident_id"], ["id"])
        batch_op.create_foreign_key(
            "fk_work_orders_forwarded_by", "grid_workers", ["forwarded_by_grid_worker_id"], ["id"]
        )

    # Orders filed before this revision: their response deadline is the next one due.
    op.execute("UPDATE work_orders SET next_due_at = response_due_at WHERE status = 'accepted'")


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint("fk_work_orders_forwarded_by", type_="foreignkey")
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint("fk_work_orders_resident_id", type_="foreignkey")
        batch_op.drop_index("ix_work_orders_status")
        batch_op.drop_index(batch_op.f("ix_work_orders_resident_id"))
        batch_op.drop_index("ix_work_orders_repeat_lookup")
        batch_op.drop_index("ix_work_orders_next_due_at")
        batch_op.drop_index(batch_op.f("ix_work_orders_community"))
        batch_op.create_index(
            batch_op.f("ix_work_orders_status_response_due"), ["status", "response_due_at"], unique=False
        )
        batch_op.drop_column("next_due_at")
        batch_op.drop_column("measured_temperature")
        batch_op.drop_column("result")
        batch_op.drop_column("quote_confirmed_at")
        batch_op.drop_column("quote_total")
        batch_op.drop_column("quote_items")
        batch_op.drop_column("extension_reason")
        batch_op.drop_column("extended")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("arrived_at")
        batch_op.drop_column("responded_at")
        batch_op.drop_column("callback_due_at")
        batch_op.drop_column("completion_due_at")
        batch_op.drop_column("reply_due_at")
        batch_op.drop_column("return_due_at")
        batch_op.drop_column("arrival_due_at")
        batch_op.drop_column("handle_due_at")
        batch_op.drop_column("appointment_at")
        batch_op.drop_column("external_reference")
        batch_op.drop_column("forwarded_by_grid_worker_id")
        batch_op.drop_column("calendar_uncertain")
        batch_op.drop_column("repeat_complaint")
        batch_op.drop_column("season")
        batch_op.drop_column("room")
        batch_op.drop_column("unit")
        batch_op.drop_column("building")
        batch_op.drop_column("community")
        batch_op.drop_column("resident_id")

    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_events_order_id"))

    op.drop_table("work_order_events")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_outage_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_order_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_notifications_created_at"))

    op.drop_table("notifications")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadlines_order_id"))
        batch_op.drop_index("ix_deadlines_open_remind")
        batch_op.drop_index("ix_deadlines_open_due")

    op.drop_table("deadlines")
    with op.batch_alter_table("callback_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_tasks_due_at"))

    op.drop_table("callback_tasks")
    op.drop_table("staff_sessions")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addresses_resident_id"))
        batch_op.drop_index(batch_op.f("ix_addresses_community"))

    op.drop_table("addresses")
    op.drop_table("staff_users")
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_phone"))

    op.drop_table("residents")
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outages_started_at"))

    op.drop_table("outages")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoffs_status"))
        batch_op.drop_index(batch_op.f("ix_handoffs_resident_openid"))

    op.drop_table("handoffs")
    op.drop_table("grid_workers")
