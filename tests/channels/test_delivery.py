"""Delivery outside the passive reply: the outbox, the platform's quota and window, the template
fallback, the shared access token, retries when the platform is down, and the menu installer."""

from __future__ import annotations

import asyncio

import pytest

from channels import menu as menu_command
from channels.delivery import Courier, Outbox, PlatformClient, TokenCache
from channels.state import MemoryState, State
from channels.wechat import Options, WeChatOutput, load_menu, menu_intents
from fake_wechat.platform import FakePlatform
from tests import domain
from tests.channels.conftest import APP_ID, APP_SECRET, Clock, served

RESIDENT = "oRESIDENT0001"


def courier(outbox: Outbox, client: PlatformClient, state: State | None = None, template_id: str = "") -> Courier:
    tokens = TokenCache(state or MemoryState(), client, APP_ID, APP_SECRET)
    return Courier(outbox, client, tokens, template_id, retry_delay=10)


def wrote(fake: FakePlatform, outbox: Outbox, openid: str = RESIDENT) -> None:
    """The resident sends a message: the platform and the channel both open the window."""
    fake.resident_wrote(openid)
    outbox.inbound(openid)


async def test_five_pushes_per_window_then_kept_for_staff(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    wrote(fake, outbox)
    await courier(outbox, client).push(RESIDENT, [f"消息{i}" for i in range(1, 8)])
    assert [m.text for m in fake.inbox(RESIDENT)] == [f"消息{i}" for i in range(1, 6)]
    statuses = {m.text: (m.status, m.via) for m in outbox.list()}
    assert statuses["消息5"] == ("sent", "custom")
    assert statuses["消息6"][0] == statuses["消息7"][0] == "undelivered"
    assert "5-message quota" in (outbox.list(status="undelivered")[0].last_error or "")


async def test_over_the_quota_a_template_message_is_used_when_configured(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    wrote(fake, outbox)
    await courier(outbox, client, template_id="TPL_SERVICE_NOTICE").push(RESIDENT, [f"消息{i}" for i in range(1, 7)])
    kinds = [m.kind for m in fake.inbox(RESIDENT)]
    assert kinds == ["custom"] * 5 + ["template"]
    assert outbox.list()[0].via == "template"


async def test_a_new_message_from_the_resident_opens_a_new_window(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient, clock: Clock
) -> None:
    fake, _ = platform
    wrote(fake, outbox)
    post = courier(outbox, client)
    clock.now += 49 * 3600  # the 48-hour window has closed
    await post.push(RESIDENT, ["窗口外"])
    assert outbox.list()[0].status == "undelivered" and fake.inbox(RESIDENT) == []
    wrote(fake, outbox)
    await post.push(RESIDENT, ["窗口内"])
    assert [m.text for m in fake.inbox(RESIDENT)] == ["窗口内"]


async def test_the_platform_saying_the_quota_is_gone_is_believed(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    """Our count can lag the platform's (e.g. another system pushed too): its 45047 wins."""
    fake, _ = platform
    wrote(fake, outbox)
    for _ in range(5):
        fake.custom_send(
            fake.token("client_credential", APP_ID, APP_SECRET)["access_token"],
            {"touser": RESIDENT, "msgtype": "text", "text": {"content": "别处发的"}},
        )
    await courier(outbox, client).push(RESIDENT, ["我们的"])
    [message] = outbox.list()
    assert message.status == "undelivered"


async def test_a_platform_that_is_down_keeps_the_message_pending_and_retries(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient, clock: Clock
) -> None:
    fake, _ = platform
    wrote(fake, outbox)
    post = courier(outbox, client)
    await post.push(RESIDENT, ["预热"])  # takes a token
    fake.failures_left = 2
    await post.push(RESIDENT, ["停电后的消息"])
    pending = outbox.list(status="pending")
    assert [m.text for m in pending] == ["停电后的消息"] and "busy" in (pending[0].last_error or "")
    assert await post.retry_due() == 0  # not before its backoff
    clock.now += 11
    await post.retry_due()  # the second failure
    clock.now += 21
    await post.retry_due()
    assert [m.text for m in fake.inbox(RESIDENT)] == ["预热", "停电后的消息"]
    assert outbox.list(status="pending") == []
    # the failed tries gave their quota back: 2 pushes used of 5
    assert outbox.reserve_push(RESIDENT) and outbox.reserve_push(RESIDENT) and outbox.reserve_push(RESIDENT)
    assert not outbox.reserve_push(RESIDENT)


async def test_an_expired_token_is_refreshed_once_and_the_message_sent(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    wrote(fake, outbox)
    post = courier(outbox, client)
    await post.push(RESIDENT, ["一"])
    fake.expire_tokens()
    await post.push(RESIDENT, ["二"])
    assert [m.text for m in fake.inbox(RESIDENT)] == ["一", "二"]
    assert fake.token_fetches == 2


async def test_one_token_is_shared_and_fetched_once(
    state: State, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    # several "processes": separate caches over one shared state
    caches = [TokenCache(state, client, APP_ID, APP_SECRET) for _ in range(4)]
    tokens = await asyncio.gather(*(cache.get() for cache in caches for _ in range(5)))
    assert len(set(tokens)) == 1 and fake.token_fetches == 1
    await caches[0].invalidate(tokens[0])
    await caches[1].invalidate(tokens[0])  # a second process refusing the same old token: no second refresh
    renewed = await asyncio.gather(*(cache.get() for cache in caches))
    assert len(set(renewed)) == 1 and renewed[0] != tokens[0] and fake.token_fetches == 2


async def test_an_unsubscribed_resident_gets_nothing_and_staff_see_why(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    wrote(fake, outbox)
    outbox.unsubscribed(RESIDENT)
    await courier(outbox, client).push(RESIDENT, ["回访"])
    [message] = outbox.list()
    assert message.status == "undelivered" and "unsubscribed" in (message.last_error or "")
    assert fake.inbox(RESIDENT) == []


async def test_proactive_messages_go_through_the_outbox(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    wrote(fake, outbox)
    state = MemoryState()
    output = WeChatOutput(courier(outbox, client, state), Options(state))
    await output.send_response(
        RESIDENT, {"text": "请为本次服务打分", "buttons": [{"title": "满意", "payload": "/rate_satisfaction"}]}
    )
    assert [m.text for m in fake.inbox(RESIDENT)] == ["请为本次服务打分\n回复 1 满意"]
    assert await Options(state).resolve(RESIDENT, "1") == "/rate_satisfaction"


async def test_a_notification_handed_over_again_is_sent_once(
    outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    """The backend hands a notification over again when it did not hear the first hand-over's answer;
    the key the action passes on keeps the second from reaching the resident (c002)."""
    fake, _ = platform
    wrote(fake, outbox)
    state = MemoryState()
    output = WeChatOutput(courier(outbox, client, state), Options(state))
    notice = {"text": "【停热通知】3号楼明天停热", "handover": "notification:41"}
    await output.send_response(RESIDENT, notice)
    await output.send_response(RESIDENT, dict(notice))
    # another notification with the same words is another message; so is a message without a key
    await output.send_response(RESIDENT, {**notice, "handover": "notification:42"})
    await output.send_response(RESIDENT, {"text": "【停热通知】3号楼明天停热"})
    assert [m.text for m in fake.inbox(RESIDENT)] == ["【停热通知】3号楼明天停热"] * 3
    assert len(outbox.list(openid=RESIDENT)) == 3


async def test_each_part_of_a_handed_over_message_is_kept_once(outbox: Outbox, client: PlatformClient) -> None:
    post = courier(outbox, client)
    assert outbox.add(RESIDENT, "甲", "notification:7#0") is not None
    ids = await post.push(RESIDENT, ["甲", "乙"], "notification:7")  # the first part is kept already
    assert [outbox.get(i).text for i in ids if outbox.get(i)] == ["乙"]
    assert await post.push(RESIDENT, ["甲", "乙"], "notification:7") == []
    assert sorted(m.text for m in outbox.list(openid=RESIDENT)) == ["乙", "甲"]


def test_the_shipped_menu_maps_every_click_to_a_known_intent() -> None:
    keys = menu_intents(load_menu("config/wechat_menu.yml"))
    assert keys and set(keys.values()) <= domain.intents()


async def test_the_menu_command_installs_the_platform_fields_only(
    platform: tuple[FakePlatform, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, base_url = platform
    monkeypatch.setenv("WECHAT_APP_ID", APP_ID)
    monkeypatch.setenv("WECHAT_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("WECHAT_API_BASE_URL", base_url)
    code = await asyncio.to_thread(menu_command.main, ["--file", "config/wechat_menu.yml"])
    assert code == 0 and "installed" in capsys.readouterr().out
    assert fake.menu is not None
    first = fake.menu["button"][0]["sub_button"][0]
    assert first["type"] == "click" and first["key"] == "REPAIR" and "intent" not in first
    monkeypatch.setenv("WECHAT_APP_SECRET", "wrong")
    assert await asyncio.to_thread(menu_command.main, []) == 1


@pytest.mark.parametrize("failure", ["http-502", "timeout"])
async def test_a_platform_answering_5xx_or_nothing_keeps_the_message_for_a_retry(outbox: Outbox, failure: str) -> None:
    """A gateway error or a platform that never answers (the client gives up after its timeout)."""
    from aiohttp import web

    async def failing(request: web.Request) -> web.Response:
        if request.path.endswith("/token"):
            return web.json_response({"access_token": "T", "expires_in": 7200})
        if failure == "timeout":
            await asyncio.sleep(5)
        return web.Response(status=502, text="bad gateway")

    async with served(failing) as base_url:
        client = PlatformClient(base_url, timeout=0.5)
        try:
            outbox.inbound(RESIDENT)
            await courier(outbox, client).push(RESIDENT, ["您的工单已受理"])
        finally:
            await client.close()
    [kept] = outbox.list(status="pending")
    assert kept.text == "您的工单已受理" and kept.attempts == 1
    assert ("502" if failure == "http-502" else "Timeout") in (kept.last_error or "")
