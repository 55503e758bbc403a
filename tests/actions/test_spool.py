"""Orders kept while the backend is down: stored on disk, retried with backoff, through Rasa."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from actions.server import retry_waiting
from actions.spool import BACKOFF_SECONDS, FilingSpool


def test_kept_orders_survive_a_new_spool_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    FilingSpool(path).keep("k1", "oA", now=1000.0)
    FilingSpool(path).keep("k1", "oA", now=1001.0)  # the same order is kept once
    reopened = FilingSpool(path)  # e.g. after a restart of the action server
    assert reopened.due(now=1000.0) == []
    [waiting] = reopened.due(now=1000.0 + BACKOFF_SECONDS[0])
    assert (waiting.key, waiting.sender_id, waiting.attempts) == ("k1", "oA", 0)


def test_each_attempt_waits_longer_up_to_fifteen_minutes(tmp_path: Path) -> None:
    spool = FilingSpool(tmp_path / "spool.sqlite3")
    spool.keep("k1", "oA", now=0.0)
    now = 0.0
    for expected in (120, 300, 600, 900, 900):
        spool.postpone("k1", now=now)
        assert spool.due(now=now + expected - 1) == []
        assert len(spool.due(now=now + expected)) == 1
        now += expected
    spool.done("k1")
    assert spool.due(now=10**9) == []


async def test_the_loop_asks_rasa_to_retry_in_each_waiting_conversation(tmp_path: Path) -> None:
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
    spool = FilingSpool(tmp_path / "spool.sqlite3")
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


async def test_rasa_down_keeps_the_order_waiting(tmp_path: Path) -> None:
    spool = FilingSpool(tmp_path / "spool.sqlite3")
    spool.keep("k1", "oA", now=0.0)
    async with aiohttp.ClientSession() as session:
        assert await retry_waiting(spool, "http://127.0.0.1:9", "tok", session) == 0
    assert [w.key for w in spool.due(now=10**12)] == ["k1"]
