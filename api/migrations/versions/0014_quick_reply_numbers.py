"""quick replies keep their numbers (canned_replies.position: Alt+1…9 in a chat; a deleted one is kept as
deleted_at, so its number is never given again), and a fresh install ships a starter set for heating
work, which supervisors edit or delete like any other

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The starter set: words the standard backs, no fact that varies by company (no phone number, price or
# address: those stay in the operator's configuration and the bot's answers).
STARTER = [
    ("问候", "您好，我是供热服务客服，请问有什么可以帮您？"),
    ("问地址", "请告诉我您家的详细地址（小区、楼号、单元、房号），方便安排工作人员。"),
    ("问室温", "请关闭门窗30分钟以上，在房间中央离地1.5米处测量室温后告诉我读数（《威海市城镇供热服务规范》5.4.6）。"),
    ("漏水先处置", "请先关闭漏水处的阀门，用容器接水并移开怕湿的物品；漏水我们在1小时内到场处置（10.2.3）。"),
    ("已派工", "已为您派工，维修人员将在30分钟内到达，或按与您约定的时间上门（10.2.4）。"),
    ("稍等查询", "请稍等，我正在为您查询。"),
    ("回访说明", "处理完成后3日内我们会回访您对这次服务的意见（10.1.6）。"),
    ("结束语", "感谢您的耐心，如还有问题，随时在这里留言。"),
]


def upgrade() -> None:
    with op.batch_alter_table("canned_replies") as table:
        table.add_column(sa.Column("position", sa.Integer(), nullable=True))
        table.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    replies = sa.table(
        "canned_replies",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("text", sa.Text),
        sa.column("created_by", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("position", sa.Integer),
    )
    bind = op.get_bind()
    # the numbers they had (in the order of their titles) become theirs for good
    kept = bind.execute(sa.select(replies.c.id).order_by(replies.c.title)).scalars().all()
    for number, reply_id in enumerate(kept, start=1):
        bind.execute(replies.update().where(replies.c.id == reply_id).values(position=number))
    if not kept:
        now = datetime.now(UTC)
        if bind.dialect.name == "sqlite":  # stored naive in UTC there (api.db.UTCDateTime)
            now = now.replace(tzinfo=None)
        bind.execute(
            replies.insert(),
            [
                {"title": title, "text": text, "created_by": "system", "created_at": now, "position": number}
                for number, (title, text) in enumerate(STARTER, start=1)
            ],
        )
    with op.batch_alter_table("canned_replies") as table:
        table.alter_column("position", existing_type=sa.Integer(), nullable=False)
        table.create_unique_constraint("uq_canned_replies_position", ["position"])


def downgrade() -> None:
    with op.batch_alter_table("canned_replies") as table:
        table.drop_constraint("uq_canned_replies_position", type_="unique")
        table.drop_column("deleted_at")
        table.drop_column("position")
