"""The conversation side's stores and their migrations (bot/stores.py): Rasa's tracker store included."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import stores


def test_the_tracker_store_is_found_where_rasa_finds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RASA_ENDPOINTS", raising=False)
    monkeypatch.setenv("RASA_TRACKER_DB", "var/rasa_tracker.sqlite3")
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055")  # the file names these too
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "t")
    for name in ("API_URL", "API_TOKEN", "RASA_MODEL_PULL_SECONDS", "RASA_PROCESS"):  # the model server's
        monkeypatch.setenv(name, "1")
    assert stores.url_from_env("tracker") == "sqlite:///var/rasa_tracker.sqlite3"
    monkeypatch.setenv("RASA_ENDPOINTS", "deploy/endpoints.scaled.yml")
    for name, value in {
        "RASA_TRACKER_HOST": "db.internal",
        "RASA_TRACKER_PORT": "5433",
        "RASA_TRACKER_USER": "bot",
        "RASA_TRACKER_PASSWORD": "s3cret",
        "RASA_TRACKER_DB": "heating_bot",
        "RASA_LOCK_REDIS_HOST": "127.0.0.1",
        "RASA_LOCK_REDIS_PORT": "6379",
        "RASA_LOCK_REDIS_DB": "1",
    }.items():
        monkeypatch.setenv(name, value)
    assert stores.url_from_env("tracker") == "postgresql://bot:s3cret@db.internal:5433/heating_bot"


def _tracker(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(UserUttered("暖气不热", {"name": "complain_cold", "confidence": 1.0}))
    return tracker


async def test_rasa_keeps_conversations_in_the_table_the_migration_made(tmp_path: Path) -> None:
    path = tmp_path / "tracker.sqlite3"
    stores.upgrade("tracker", f"sqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as db:
        assert db.execute(sa.text("SELECT version_num FROM alembic_version_tracker")).scalar() == "t002"
    rasa = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    await rasa.save(_tracker("oTRACKER"))
    kept = await rasa.retrieve("oTRACKER")
    assert kept is not None
    [event] = [e for e in kept.events if isinstance(e, UserUttered)]
    assert event.text == "暖气不热"


async def test_a_tracker_store_rasa_made_before_is_adopted_with_its_conversations(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    await SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)).save(_tracker("oOLD"))  # Rasa's table
    stores.upgrade("tracker", f"sqlite:///{path}")
    kept = await SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path)).retrieve("oOLD")
    assert kept is not None and any(isinstance(e, UserUttered) for e in kept.events)


def test_a_missing_postgresql_database_is_made_when_a_store_is_migrated() -> None:
    base = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"stores_{uuid.uuid4().hex[:10]}"
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        stores.upgrade("spool", url)
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable: {exc}")
        pytest.skip("PostgreSQL not reachable")
    try:
        assert stores.current_and_head("spool", stores.make_engine(url)) == ("s001", "s001")
        assert not stores.create_database(url)  # there now
    finally:
        server = sa.create_engine(sa.engine.make_url(base), isolation_level="AUTOCOMMIT")
        with server.connect() as db:
            db.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


def test_the_command_refuses_an_unknown_store(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        stores.main(["upgrade", "outbox"])
    assert "choose from channel, spool, tracker" in capsys.readouterr().err


def test_a_process_starts_on_its_own_revision_or_a_later_releases_and_refuses_an_older_one(tmp_path: Path) -> None:
    """During a rolling upgrade the next release's migration (an expand step) runs while this release's
    processes still run and may restart: they take a later revision of their store's line. A store behind
    the code is a migration not run, and a revision of another line is not theirs: refused, saying what
    to run."""
    url = f"sqlite:///{tmp_path}/spool.sqlite3"
    stores.upgrade("spool", url)
    engine = stores.make_engine(url)
    stores.require_current("spool", engine)  # its own head
    table = stores.version_table("spool")

    def at(revision: str | None) -> None:
        with engine.begin() as db:
            db.execute(sa.text(f"DELETE FROM {table}"))
            if revision is not None:
                db.execute(sa.text(f"INSERT INTO {table} (version_num) VALUES (:r)"), {"r": revision})

    at("s099")
    stores.require_current("spool", engine)
    for other in (None, "garbage", "c099", "t002", "s000", "s0099"):
        at(other)
        with pytest.raises(stores.StoreNotMigrated, match="make setup"):
            stores.require_current("spool", engine)
