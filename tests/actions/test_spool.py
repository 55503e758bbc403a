"""Orders kept while the backend is down: stored in a database, retried with backoff, through Rasa."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from actions.server import retry_waiting
from actions.spool import BACKOFF_SECONDS, FilingSpool, Waiting, delay_after
from bot.stores import StoreNotMigrated, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def spool(request: pytest.FixtureRequest, spool_url: str) -> Iterator[FilingSpool]:
    """The spool on the embedded default and on the scaled configuration's PostgreSQL."""
    if request.param == "sqlite":
        yield FilingSpool(spool_url)
        return
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        upgrade("spool", url)
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and not reachable: {exc}")
        pytest.skip("PostgreSQL not reachable")
    spool = FilingSpool(url)
    with spool.engine.begin() as db:
        db.execute(sa.text("DELETE FROM waiting"))
    yield spool


def test_kept_orders_survive_a_new_spool_on_the_same_database(spool: FilingSpool) -> None:
    spool.keep("k1", "oA", now=1000.0)
    spool.keep("k1", "oA", now=1001.0)  # the same order is kept once
    reopened = FilingSpool(str(spool.engine.url.render_as_string(hide_password=False)))  # a restart
    assert reopened.due(now=1000.0) == []
    [waiting] = reopened.due(now=1000.0 + BACKOFF_SECONDS[0])
    assert (waiting.key, waiting.sender_id, waiting.attempts) == ("k1", "oA", 0)


def test_each_attempt_waits_longer_up_to_fifteen_minutes(spool: FilingSpool) -> None:
    spool.keep("k1", "oA", now=0.0)
    now = 0.0
    for expected in (120, 300, 600, 900, 900):
        [waiting] = spool.due(now=10**9)
        assert spool.claim(waiting, now=now)
        assert spool.due(now=now + expected - 1) == []
        assert len(spool.due(now=now + expected)) == 1
        now += expected
    spool.done("k1")
    assert spool.due(now=10**9) == []


def test_two_action_servers_never_take_the_same_attempt(spool: FilingSpool) -> None:
    """Both see the order due; one conditional UPDATE decides which one asks Rasa to retry it."""
    other = FilingSpool(str(spool.engine.url.render_as_string(hide_password=False)))
    spool.keep("k1", "oA", now=0.0)
    [seen_here] = spool.due(now=100.0)
    [seen_there] = other.due(now=100.0)
    assert spool.claim(seen_here, now=100.0)
    assert not other.claim(seen_there, now=100.0)
    [again] = other.due(now=100.0 + delay_after(1))
    assert again.attempts == 1


def test_a_spool_behind_its_migrations_stops_the_process_with_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(StoreNotMigrated, match="make setup"):
        FilingSpool(f"sqlite:///{tmp_path / 'never_migrated.sqlite3'}")


def test_a_spool_made_before_migrations_is_adopted_with_its_orders(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as db:  # the table as the action server made it itself before
        db.execute(
            sa.text(
                "CREATE TABLE waiting (key TEXT PRIMARY KEY, sender_id TEXT NOT NULL, "
                "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, created_at REAL NOT NULL)"
            )
        )
        db.execute(sa.text("INSERT INTO waiting VALUES ('k0', 'oOLD', 2, 5.0, 1.0)"))
    upgrade("spool", f"sqlite:///{path}")
    assert FilingSpool(f"sqlite:///{path}").due(now=10.0) == [Waiting("k0", "oOLD", 2)]


async def test_the_loop_asks_rasa_to_retry_in_each_waiting_conversation(spool_url: str) -> None:
    calls: list[tuple[str, dict, dict]] = []

    async def trigger(request: web.Request) -> web.Response:
        calls.append((request.match_info["sender"], dict(request.query), await request.json()))
        return web.json_response({"messages": []})

    app = web.Application()
    app.router.add_post("/conversations/{sender}/trigger_intent", trigger)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    spool = FilingSpool(spool_url)
    spool.keep("k1", "oA", now=0.0)
    spool.keep("k2", "oB", now=10**12)  # not due yet
    try:
        async with aiohttp.ClientSession() as session:
            assert await retry_waiting(spool, f"http://127.0.0.1:{port}", "tok", session) == 1
            assert await retry_waiting(spool, f"http://127.0.0.1:{port}", "tok", session) == 0  # backing off
    finally:
        await runner.cleanup()
    assert calls == [
        ("oA", {"output_channel": "latest", "token": "tok"}, {"name": "EXTERNAL_retry_filing", "entities": {}})
    ]


async def test_rasa_down_keeps_the_order_waiting(spool_url: str) -> None:
    spool = FilingSpool(spool_url)
    spool.keep("k1", "oA", now=0.0)
    async with aiohttp.ClientSession() as session:
        assert await retry_waiting(spool, "http://127.0.0.1:9", "tok", session) == 0
    assert [w.key for w in spool.due(now=10**12)] == ["k1"]
