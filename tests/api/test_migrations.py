"""The migrations build the schema the models describe, and can be undone, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.orm import Session

from api.db import Base, upgrade_database
from api.models import Deadline
from api.settings import ROOT


def config_for(url: str) -> Config:
    config = Config(str(ROOT / "api" / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def test_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_nothing_and_up_again(database_url: str) -> None:
    command.downgrade(config_for(database_url), "base")
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(database_url)
    assert {"work_orders", "deadlines", "notifications", "callback_tasks"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_due_times_kept_only_in_the_old_columns_become_deadline_rows_and_come_back(database_url: str) -> None:
    """0018: an order's due times move from eight columns to its deadline rows without losing one."""
    config = config_for(database_url)
    command.downgrade(config, "0017")
    engine = create_engine(database_url)
    accepted = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    due = {"response": accepted + timedelta(minutes=30), "reply": accepted + timedelta(days=7)}
    with engine.begin() as conn:
        for order_id, status in ((1, "accepted"), (2, "closed")):
            conn.execute(
                text(
                    "INSERT INTO work_orders (id, kind, category, source, status, description, accepted_at,"
                    " response_due_at, reply_due_at, created_at, updated_at, urgent, repeat_complaint,"
                    " calendar_uncertain, extended, rescheduled_late, reasonable)"
                    " VALUES (:id, 'complaint', 'room_temperature', 'hotline_12345', :status, 'x', :at,"
                    " :response, :reply, :at, :at, false, false, false, false, false, true)"
                ),
                {"id": order_id, "status": status, "at": _stored(accepted, engine)}
                | {name: _stored(at, engine) for name, at in due.items()},
            )
        # SQLite drops a column by copying the table: the rows that refer to an order survive the copy
        conn.execute(
            text(
                "INSERT INTO work_order_events (order_id, action, to_status, actor, at, recorded_at)"
                " VALUES (1, 'accept', 'accepted', 'test', :at, :at)"
            ),
            {"at": _stored(accepted, engine)},
        )
        # the response deadline of order 1 has its row already (with a reminder of its own): it is kept
        conn.execute(
            text(
                "INSERT INTO deadlines (order_id, name, starts_at, due_at, remind_at)"
                " VALUES (1, 'response', :at, :due, :due)"
            ),
            {"at": _stored(accepted, engine), "due": _stored(due["response"], engine)},
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM work_order_events")).scalar() == 1
    assert not {f"{name}_due_at" for name in due} & {c["name"] for c in inspect(engine).get_columns("work_orders")}
    with Session(engine) as session:
        rows = {(d.order_id, d.name): d for d in session.scalars(select(Deadline))}
        assert set(rows) == {(1, "response"), (1, "reply"), (2, "response"), (2, "reply")}
        assert rows[1, "response"].remind_at == due["response"]  # the existing row, untouched
        assert rows[1, "reply"].due_at == due["reply"] and rows[1, "reply"].met_at is None  # still watched
        assert rows[1, "reply"].remind_at == accepted + (due["reply"] - accepted) * 0.8
        assert rows[2, "reply"].met_at == accepted  # a closed order's recovered deadline is not watched
    command.downgrade(config, "0017")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT response_due_at, reply_due_at FROM work_orders WHERE id = 2")).one()
        assert [_read(v) for v in back] == [due["response"], due["reply"]]
        assert conn.execute(text("SELECT count(*) FROM work_order_events")).scalar() == 1
    engine.dispose()


def _stored(moment: datetime, engine: Engine) -> datetime:
    """A UTC time as the UTCDateTime column stores it on this database."""
    return moment.replace(tzinfo=None) if engine.dialect.name == "sqlite" else moment


def _read(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
