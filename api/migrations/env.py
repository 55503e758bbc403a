"""Alembic environment: migrates the database named by DATABASE_URL (or a given connection)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from api import models  # noqa: F401  (registers the tables on Base.metadata)
from api.db import Base, UTCDateTime, make_engine
from api.settings import get_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations() -> None:
    """Migrate through a connection handed in by a caller (tests), or one to DATABASE_URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or get_settings().sqlalchemy_url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            _migrate_sqlite(conn)
        else:
            _migrate(conn)
    engine.dispose()


def _migrate_sqlite(conn: Connection) -> None:
    """SQLite alters a table by copying it and dropping the old one; with foreign keys on, that drop deletes
    every row referring to it through ON DELETE CASCADE (an order's events, deadlines, call-backs, …). So
    foreign keys are off while migrating (SQLite ignores the switch inside a transaction, hence the commit
    first), and checked after: a migration that left a dangling reference fails."""
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.commit()
    try:
        _migrate(conn)
        dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise RuntimeError(f"the migration left references to missing rows: {dangling[:5]}")
    finally:
        conn.rollback()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Migrations stay free of app imports: UTCDateTime is written as a plain timestamptz."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_item=_render_item,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
