"""Announcements to every follower by the platform's mass-send, at most once per announcement
(channels/announcements.py): a retry after a lost answer sends nothing again, and a sending the platform
may have got is "unknown" until a person checks."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from sanic import Sanic

from channels.announcements import MassSender, mass_sends_table
from channels.delivery import Outbox, PlatformClient, PlatformUnavailable, TokenCache
from channels.state import MemoryState
from fake_wechat.platform import FakePlatform
from tests.channels.conftest import APP_ID, APP_SECRET, Clock, served
from tests.channels.test_answered import ADMIN, Served
from tests.channels.test_turns import Bot
from tests.channels.test_wechat import make_webhook

NOTICE = "【供热公告】本采暖期自11月15日起供热。"


def sender(outbox: Outbox, client: PlatformClient, clock: Clock) -> MassSender:
    return MassSender(outbox.engine, client, TokenCache(MemoryState(), client, APP_ID, APP_SECRET), clock=clock)


async def test_an_announcement_reaches_every_follower_once_whatever_the_retries(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient, clock: Clock
) -> None:
    fake, _ = platform
    for openid in ("o1", "o2"):
        fake.resident_wrote(openid)
    mass = sender(outbox, client, clock)
    assert await mass.followers() == 2
    first = await mass.send("announcement:1", NOTICE)
    assert first.status == "sent" and first.msg_id
    again = await mass.send("announcement:1", NOTICE)  # the backend did not hear the answer
    assert again == first
    assert [m.text for m in fake.inbox("o1")] == [NOTICE] and len(fake.mass_sends) == 1


async def test_the_months_fifth_is_refused_and_remembered_as_refused(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient, clock: Clock
) -> None:
    fake, _ = platform
    fake.resident_wrote("o1")
    mass = sender(outbox, client, clock)
    results = [await mass.send(f"announcement:{n}", NOTICE) for n in range(5)]
    assert [r.status for r in results] == ["sent"] * 4 + ["refused"]
    assert results[4].errcode == 45028
    assert (await mass.send("announcement:4", NOTICE)).status == "refused"  # not tried again


async def test_a_busy_platform_releases_the_announcement_for_a_later_try(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient, clock: Clock
) -> None:
    fake, _ = platform
    fake.resident_wrote("o1")
    mass = sender(outbox, client, clock)
    await mass.followers()  # takes a token
    fake.failures_left = 1
    with pytest.raises(PlatformUnavailable):
        await mass.send("announcement:1", NOTICE)
    assert (await mass.send("announcement:1", NOTICE)).status == "sent"  # the platform never got the first


async def test_a_sending_that_may_have_reached_the_platform_is_unknown_and_never_repeated(
    outbox: Outbox, clock: Clock
) -> None:
    """The platform took the call and its answer never came (a timeout): it may have sent it to everyone."""
    calls = []

    async def slow(request: web.Request) -> web.Response:
        if request.path.endswith("/token"):
            return web.json_response({"access_token": "T", "expires_in": 7200})
        calls.append(request.path)
        await asyncio.sleep(5)
        return web.json_response({"errcode": 0, "msg_id": 1})

    async with served(slow) as base_url:
        client = PlatformClient(base_url, timeout=0.5)
        try:
            mass = sender(outbox, client, clock)
            first = await mass.send("announcement:1", NOTICE)
            again = await mass.send("announcement:1", NOTICE)
        finally:
            await client.close()
    assert first.status == again.status == "unknown" and "Timeout" in (first.detail or "")
    assert calls == ["/cgi-bin/message/mass/sendall"]  # asked once, never again


async def test_a_platform_that_cannot_be_reached_sends_nothing_and_keeps_nothing(outbox: Outbox, clock: Clock) -> None:
    client = PlatformClient("http://127.0.0.1:9", timeout=0.5)  # nothing listens on the discard port
    mass = MassSender(outbox.engine, client, TokenCache(MemoryState(), client, APP_ID, APP_SECRET), clock=clock)
    try:
        with pytest.raises(PlatformUnavailable):
            await mass.send("announcement:1", NOTICE)
    finally:
        await client.close()
    with outbox.engine.connect() as db:
        assert db.execute(mass_sends_table.select()).all() == []


# --- the backend's endpoints ----------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)


async def test_the_backend_counts_followers_and_announces_through_the_channel(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient, clock: Clock
) -> None:
    fake, _ = platform
    fake.resident_wrote("o1")
    server = Served(make_webhook(clock, outbox, client=client), Bot())
    await server.start()
    bearer = {"Authorization": f"Bearer {ADMIN}"}
    try:
        async with aiohttp.ClientSession() as http:
            counted = await http.get(server.url + "/followers", headers=bearer)
            assert counted.status == 200 and await counted.json() == {"total": 1}
            assert (await http.get(server.url + "/followers")).status == 401
            body = {"key": "announcement:7", "text": NOTICE}
            sent = await http.post(server.url + "/announcements", json=body, headers=bearer)
            assert sent.status == 201 and (await sent.json())["status"] == "sent"
            again = await http.post(server.url + "/announcements", json=body, headers=bearer)
            assert again.status == 201 and (await again.json())["msg_id"] == (await sent.json())["msg_id"]
            empty = await http.post(server.url + "/announcements", json={"key": "k", "text": " "}, headers=bearer)
            assert empty.status == 422
    finally:
        await server.stop()
    assert [m.text for m in fake.inbox("o1")] == [NOTICE]
