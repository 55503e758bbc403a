"""What the resident was sent, not what the bot said: the channel records a turn as answered once its
reply is written to the platform (or its answer is kept for a push), and says so to the backend, which
otherwise sends a filed order's number again (api/services/scheduler.py).

Through the channel's Sanic blueprint on a real socket; delays are induced (a turn held at a gate the
test opens), never left to the machine's speed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sanic import Sanic

from channels.delivery import Outbox
from channels.wechat import WeChatInput, WeChatWebhook
from tests.channels.conftest import Clock, platform_args
from tests.channels.test_turns import Bot, says
from tests.channels.test_wechat import content, make_webhook

ADMIN = "channel-admin-token"
OPENID = "oANSWERED_0001"


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic rewrites some of its methods when an app starts, from the originals only in its test mode;
    these tests start one app each in one process."""
    monkeypatch.setattr(Sanic, "test_mode", True)


class Served:
    """The channel's blueprint served by Sanic on a free local port."""

    def __init__(self, webhook: WeChatWebhook, bot: Bot) -> None:
        channel = WeChatInput.__new__(WeChatInput)
        channel.webhook, channel.admin_token = webhook, ADMIN
        self.app = Sanic(f"answered_{id(self)}")
        self.app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/wechat")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/webhooks/wechat"
        self.server: Any = None

    async def start(self) -> None:
        self.server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()

    async def stop(self) -> None:
        await self.server.before_stop()
        await self.server.close()
        await self.server.after_stop()


@pytest_asyncio.fixture
async def served(clock: Clock, outbox: Outbox) -> AsyncIterator[tuple[Served, Bot]]:
    bot = Bot()
    server = Served(make_webhook(clock, outbox, reply_budget_seconds=0.5), bot)
    await server.start()
    try:
        yield server, bot
    finally:
        await server.stop()


async def push(server: Served, msg_id: int, text: str, timeout: float = 20.0) -> str:
    async with aiohttp.ClientSession() as http:
        answer = await http.post(
            server.url + "/webhook",
            params=platform_args(),
            data=says(OPENID, msg_id, text),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        return await answer.text()


async def asked(server: Served, token: str = ADMIN, **params: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        answer = await http.get(server.url + "/answered", params=params, headers={"Authorization": f"Bearer {token}"})
        return answer.status, await answer.json()


async def answered_as(server: Served, key: str) -> dict[str, Any]:
    status, body = await asked(server, openid=OPENID, message_id=key)
    assert status == 200, body
    return body


async def recorded(server: Served, key: str) -> dict[str, Any]:
    """What the channel says of ``key`` once it has recorded it (the record follows the reply's write,
    so the resident may read the reply a moment before)."""
    for _ in range(1000):
        body = await answered_as(server, key)
        if body["answered"]:
            return body
        await asyncio.sleep(0.02)
    return body


async def test_an_answer_in_the_reply_counts_as_sent_once_written(served: tuple[Served, Bot]) -> None:
    server, _bot = served
    assert await answered_as(server, f"msg:{OPENID}:501") == {"answered": False, "how": None}
    reply = await push(server, 501, "暖气不热")
    assert content(reply) == "答：暖气不热"
    assert await recorded(server, f"msg:{OPENID}:501") == {"answered": True, "how": "reply"}
    assert await answered_as(server, f"msg:{OPENID}:502") == {"answered": False, "how": None}


async def test_an_answer_kept_for_a_push_counts_as_sent(served: tuple[Served, Bot], outbox: Outbox) -> None:
    server, bot = served
    bot.gate = asyncio.Event()
    reply = await push(server, 601, "我家漏水了")  # past the reply budget: "success", the answer comes later
    assert reply == "success"
    bot.gate.set()
    for _ in range(500):  # the turn ends once the gate opens; its answer goes into the outbox
        if outbox.list(openid=OPENID):
            break
        await asyncio.sleep(0.02)
    assert [m.text for m in outbox.list(openid=OPENID)] == ["答：我家漏水了"]
    assert await answered_as(server, f"msg:{OPENID}:601") == {"answered": True, "how": "outbox"}


async def test_a_turn_whose_reply_never_went_out_is_not_counted(clock: Clock, outbox: Outbox) -> None:
    """The connection is gone before the bot has answered (as when the process stops, or the platform
    hangs up): the bot answered, and the resident was sent nothing. The resident's next message runs
    after that turn has ended, and is counted."""
    bot = Bot()
    server = Served(make_webhook(clock, outbox, reply_budget_seconds=30), bot)
    await server.start()
    try:
        bot.gate = asyncio.Event()
        with pytest.raises(asyncio.TimeoutError):
            await push(server, 701, "暖气不热", timeout=0.5)
        await asyncio.wait_for(bot.entered.wait(), timeout=20)
        bot.gate.set()
        assert content(await push(server, 702, "还是不热")) == "答：还是不热"
        assert bot.received == ["暖气不热", "还是不热"]
        assert await recorded(server, f"msg:{OPENID}:702") == {"answered": True, "how": "reply"}
        assert await answered_as(server, f"msg:{OPENID}:701") == {"answered": False, "how": None}
    finally:
        await server.stop()


async def test_only_the_backend_may_ask_and_it_must_name_the_message(served: tuple[Served, Bot]) -> None:
    server, _bot = served
    assert (await asked(server, token="wrong", openid=OPENID, message_id="msg:x:1"))[0] == 401
    assert (await asked(server, openid=OPENID))[0] == 400


async def test_the_console_learns_when_the_residents_of_its_chats_last_wrote(
    served: tuple[Served, Bot], clock: Clock
) -> None:
    server, _bot = served
    await push(server, 801, "在吗")
    async with aiohttp.ClientSession() as http:
        answer = await http.get(
            server.url + "/last-written",
            params=[("openid", OPENID), ("openid", "oNEVER_WROTE")],
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert answer.status == 200
        assert await answer.json() == {"last_written": {OPENID: clock()}}
        refused = await http.get(server.url + "/last-written", params={"openid": OPENID})
        assert refused.status == 401
