"""The conversation side's own databases, their engines and their migrations.

Three stores, each with its own Alembic history (``bot/migrations/<store>/``) and its own version table,
so that each may live in its own database or share one:

- ``channel``: the WeChat channel's outbox, residents' 48-hour windows and fetched photos
  (``WECHAT_OUTBOX_DB``, used by every Rasa process);
- ``spool``: conversations whose order waits for the backend (``ACTION_SPOOL_DB``, used by every action
  server);
- ``tracker``: Rasa's SQL tracker store (the ``events`` table of Rasa 3.6), at the database named by
  the endpoints file Rasa reads (``RASA_ENDPOINTS``), so that Rasa finds its table made.

SQLite files under ``var/`` by default; one PostgreSQL database for the scaled configuration (created
here when missing). Schemas are created and changed only by these migrations: ``make setup``/``make
run`` (scripts/stack/) run ``python -m bot.stores upgrade``, and a process that opens the channel's or
the spool's store behind its newest migration stops with a message that says so (``require_current``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import sqlalchemy as sa

from policies import revisions

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
STORES = ("channel", "spool", "tracker")
DEFAULT_URLS = {
    "channel": "sqlite:///var/wechat.sqlite3",
    "spool": "sqlite:///var/filing_spool.sqlite3",
}
URL_VARIABLES = {"channel": "WECHAT_OUTBOX_DB", "spool": "ACTION_SPOOL_DB"}


class StoreNotMigrated(RuntimeError):
    """A store's schema is older than the code (or absent): its migrations have not been run."""


def url_from_env(store: str) -> str:
    if store == "tracker":
        return tracker_url()
    return os.environ.get(URL_VARIABLES[store]) or DEFAULT_URLS[store]


def tracker_url() -> str:
    """Rasa's tracker store database, read from the endpoints file Rasa reads, as Rasa builds it."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    path = Path(os.environ.get("RASA_ENDPOINTS") or "endpoints.yml")
    config = read_endpoint_config(str(path if path.is_absolute() else ROOT / path), "tracker_store")
    if config is None or str(config.type).lower() != "sql":
        raise ValueError(f"{path} names no SQL tracker store")
    options = config.kwargs
    url = SQLTrackerStore.get_db_url(
        str(options.get("dialect") or "sqlite"),
        config.url,
        options.get("port"),
        str(options.get("db") or "rasa.db"),
        options.get("username"),
        options.get("password"),
    )
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


def create_database(url: str) -> bool:
    """Create a PostgreSQL database that is missing (True when made); SQLite files make themselves."""
    parsed = sa.engine.make_url(_absolute(url))
    if not parsed.drivername.startswith("postgresql") or not parsed.database:
        return False
    server = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with server.connect() as connection:
            known = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
            if connection.execute(known, {"name": parsed.database}).first():
                return False
            quoted = server.dialect.identifier_preparer.quote(parsed.database)
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        server.dispose()


def _absolute(url: str) -> str:
    """A relative SQLite path is taken from the project root, whatever the working directory."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(ROOT / url.removeprefix("sqlite:///"))
    return url


def make_engine(url: str) -> sa.engine.Engine:
    """An engine for a store: SQLite's folder made and WAL on (several processes share the file)."""
    url = _absolute(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, future=True, connect_args={"timeout": 30}, hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return sa.create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)


def _config(store: str, url: str) -> object:
    from alembic.config import Config

    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; one of {', '.join(STORES)}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / store))
    config.set_main_option("sqlalchemy.url", _absolute(url).replace("%", "%%"))
    config.attributes["store"] = store
    return config


def version_table(store: str) -> str:
    return f"alembic_version_{store}"


def upgrade(store: str, url: str) -> None:
    """Bring ``store`` at ``url`` to its newest migration (creating a missing PostgreSQL database)."""
    from alembic import command

    create_database(url)
    command.upgrade(_config(store, url), "head")  # type: ignore[arg-type]


def current_and_head(store: str, engine: sa.engine.Engine) -> tuple[str | None, str | None]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(store, str(engine.url))).get_current_head()  # type: ignore[arg-type]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": version_table(store)})
        return context.get_current_revision(), head


def require_current(store: str, engine: sa.engine.Engine) -> None:
    """Stop a process whose store is not at the newest migration, saying what to run. A store at a later
    revision of its own line is taken: that release only added to it (a rolling upgrade,
    policies/revisions.py)."""
    current, head = current_and_head(store, engine)
    if current != head and not revisions.is_later(current, head):
        raise StoreNotMigrated(
            f"the {store} store at {engine.url!r} is at migration {current or 'none'}, the code needs {head}: "
            f"run `make setup` (or `python -m bot.stores upgrade {store}`)"
        )


def run_migrations(context: object) -> None:
    """The body of each store's Alembic env.py."""
    from alembic import context as alembic_context

    assert context is alembic_context
    config = alembic_context.config
    store = config.attributes["store"]
    url = config.get_main_option("sqlalchemy.url")
    assert url, "the store's Alembic configuration names its database"
    engine = make_engine(url)
    with engine.connect() as connection:
        alembic_context.configure(
            connection=connection,
            version_table=version_table(store),
            render_as_batch=True,
        )
        with alembic_context.begin_transaction():
            alembic_context.run_migrations()
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Migrate the conversation side's stores.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="bring stores to their newest migration")
    up.add_argument("stores", nargs="*", help=f"any of {', '.join(STORES)} (default: all)")
    up.add_argument("--url", help="the store's database (default: its variable, the endpoints file, or SQLite)")
    args = parser.parse_args(argv)
    unknown = set(args.stores) - set(STORES)
    if unknown:
        parser.error(f"unknown store {', '.join(sorted(unknown))}; choose from {', '.join(STORES)}")
    for store in args.stores or STORES:
        url = args.url or url_from_env(store)
        upgrade(store, url)
        print(f"[stores] {store}: migrated {sa.engine.make_url(_absolute(url)).render_as_string(hide_password=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
