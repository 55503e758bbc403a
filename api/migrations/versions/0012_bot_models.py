"""the bot's models: bot_models (the repository's build and candidates, their progress and figures),
bot_model_rollouts (who put which model in force, and why), bot_model_pulls (what each Rasa process runs)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("base_digest", sa.String(length=64), nullable=False),
        sa.Column("repository_digest", sa.String(length=64), nullable=True),
        sa.Column("training_slot", sa.Integer(), nullable=True),
        sa.Column("file", sa.String(length=500), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("progress", sa.String(length=255), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("training_data", sa.Text(), nullable=False),
        sa.Column("held_out_data", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("compared_with_id", sa.Integer(), nullable=True),
        sa.Column("training_seconds", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["compared_with_id"], ["bot_models.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("training_slot", name="uq_bot_models_training_slot"),
        sa.UniqueConstraint("repository_digest", name="uq_bot_models_repository_digest"),
    )
    op.create_index("ix_bot_models_status", "bot_models", ["status"])
    op.create_table(
        "bot_model_rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("previous_model_id", sa.Integer(), nullable=True),
        sa.Column("follows", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("by", sa.String(length=96), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["bot_models.id"]),
        sa.ForeignKeyConstraint(["previous_model_id"], ["bot_models.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("follows", name="uq_bot_model_rollouts_follows"),
    )
    op.create_index("ix_bot_model_rollouts_model_id", "bot_model_rollouts", ["model_id"])
    op.create_table(
        "bot_model_pulls",
        sa.Column("process", sa.String(length=64), nullable=False),
        sa.Column("running", sa.String(length=64), nullable=False),
        sa.Column("served", sa.String(length=64), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("process"),
    )


def downgrade() -> None:
    op.drop_table("bot_model_pulls")
    op.drop_index("ix_bot_model_rollouts_model_id", table_name="bot_model_rollouts")
    op.drop_table("bot_model_rollouts")
    op.drop_index("ix_bot_models_status", table_name="bot_models")
    op.drop_table("bot_models")
