"""The migrations build the schema the models describe, and can be undone, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from api.db import Base, upgrade_database
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
