"""The WeChat webhook: signatures, safe mode, replays, hostile XML, message kinds, the 5-second rule,
retries, numbered options and delivery through the customer-service API."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET  # parses our own replies, not untrusted input
from typing import Any

import pytest
from wechatpy.crypto import PrpCrypto

from bot.settings import ConfigurationError
from channels import wechat
from channels.delivery import Outbox, PlatformClient
from channels.protocol import VOICE_UNRECOGNISED, WeChatConfig
from channels.state import MemoryState, State
from channels.wechat import NO_REPLY, WeChatInput, WeChatOutput, WeChatWebhook, answer_to
from fake_wechat.envelope import AesEnvelope, signature
from fake_wechat.platform import FakePlatform
from tests.channels.conftest import (
    APP_ID,
    APP_SECRET,
    FIXTURES,
    NOW,
    TOKEN,
    Clock,
    FakeBot,
    fixture,
    migrated_channel_store,
    platform_args,
)

VECTOR = json.loads((FIXTURES / "safe_mode_vector.json").read_text(encoding="utf-8"))
AES_KEY = VECTOR["encoding_aes_key"]


def make_webhook(
    clock: Clock,
    outbox: Outbox,
    state: State | None = None,
    client: PlatformClient | None = None,
    **config: Any,
) -> WeChatWebhook:
    settings = {"token": TOKEN, "app_id": APP_ID, "app_secret": APP_SECRET, **config}
    return WeChatWebhook(
        WeChatConfig(**settings), clock=clock, state=state or MemoryState(), outbox=outbox, client=client
    )


@pytest.fixture
def webhook(clock: Clock, outbox: Outbox) -> WeChatWebhook:
    return make_webhook(clock, outbox)


def content(reply_body: str) -> str:
    return ET.fromstring(reply_body).findtext("Content") or ""


# --- URL verification and signatures ------------------------------------------------------------
async def test_url_verification_echoes_echostr(webhook: WeChatWebhook) -> None:
    reply = webhook.verify({**platform_args(), "echostr": "5837397520983"})
    assert (reply.status, reply.body) == (200, "5837397520983")


async def test_url_verification_with_wrong_token_is_refused(webhook: WeChatWebhook) -> None:
    reply = webhook.verify({**platform_args(token="other"), "echostr": "x"})
    assert reply.status == 403


async def test_forged_signature_is_refused_before_the_bot_runs(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive({**platform_args(), "signature": "0" * 40}, fixture("text"), bot)
    assert reply.status == 403 and bot.received == []


async def test_stale_timestamp_is_a_replay_even_when_signed(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(timestamp=NOW - 301), fixture("text"), bot)
    assert reply.status == 403 and bot.received == []


async def test_the_replay_window_is_configurable(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, replay_window_seconds=30)
    reply = await webhook.receive(platform_args(timestamp=NOW - 60), fixture("text"), FakeBot(["x"]))
    assert reply.status == 403


# --- the passive reply ---------------------------------------------------------------------------
async def test_text_message_reaches_the_bot_and_the_answer_is_a_passive_reply(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["已为您登记工单，单号 GD20261210000001。", "还有什么可以帮您？"])
    reply = await webhook.receive(platform_args(), fixture("text"), bot)
    assert reply.status == 200
    [message] = bot.received
    assert (message.text, message.sender_id, message.input_channel) == (
        "我家暖气不热，屋里才15度",
        "oRESIDENT0001",
        "wechat",
    )
    assert message.metadata["wechat"]["msg_id"] == "24000000000000001"
    xml = ET.fromstring(reply.body)
    assert (xml.findtext("ToUserName"), xml.findtext("FromUserName")) == ("oRESIDENT0001", "gh_heating_account")
    # one passive reply carries one message: the turn's texts are joined
    assert xml.findtext("Content") == "已为您登记工单，单号 GD20261210000001。\n\n还有什么可以帮您？"


async def test_a_turn_with_nothing_to_say_answers_success(webhook: WeChatWebhook) -> None:
    bot = FakeBot([])
    reply = await webhook.receive(platform_args(), fixture("text"), bot)
    assert (reply.status, reply.body) == (200, "success") and len(bot.received) == 1


# --- hostile input ---------------------------------------------------------------------------------
HOSTILE = {
    "entity bomb": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
    b"<xml><ToUserName>t</ToUserName><FromUserName>f</FromUserName><MsgType>text</MsgType>"
    b"<Content>&b;</Content></xml>",
    "external entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<xml><ToUserName>t</ToUserName><FromUserName>f</FromUserName><MsgType>text</MsgType>"
    b"<Content>&e;</Content></xml>",
    "deep nesting": b"<xml><ToUserName>t</ToUserName><FromUserName>f</FromUserName><MsgType>text</MsgType>"
    + b"<a>" * 50
    + b"x"
    + b"</a>" * 50
    + b"</xml>",
    "not xml": b"hello",
    "empty": b"",
    "truncated": b"<xml><ToUserName>t</ToUserName><FromUser",
    "wrong root": b"<msg><ToUserName>t</ToUserName></msg>",
    "missing sender": b"<xml><ToUserName>t</ToUserName><MsgType>text</MsgType></xml>",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
async def test_malformed_or_hostile_xml_gets_400_and_never_reaches_the_bot(webhook: WeChatWebhook, body: bytes) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(), body, bot)
    assert reply.status == 400 and bot.received == []
    # the service keeps running: the next good push is answered
    good = await webhook.receive(platform_args(), fixture("text"), bot)
    assert good.status == 200 and len(bot.received) == 1


async def test_huge_body_is_refused(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(), b"<xml><Content>" + b"a" * 70_000 + b"</Content></xml>", bot)
    assert reply.status == 413 and bot.received == []


# --- message kinds -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "to_bot"),
    [
        ("voice", "我家暖气漏水了"),
        ("image", '/share_image{"media_id": "media_id_1", "pic_url": "http://mmbiz.qpic.cn/example.jpg"}'),
        ("subscribe", "/subscribe"),
        ("click", "/ask_fee_standard"),
    ],
)
async def test_what_reaches_the_bot_for_each_kind(webhook: WeChatWebhook, name: str, to_bot: str) -> None:
    bot = FakeBot(["好的"])
    reply = await webhook.receive(platform_args(), fixture(name), bot)
    assert [m.text for m in bot.received] == [to_bot]
    assert content(reply.body) == "好的"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("voice_unrecognised", VOICE_UNRECOGNISED),
        ("location", "山东省威海市环翠区文化西路阳光小区"),
        ("link", "无法处理"),
        ("video", "无法处理"),
        ("shortvideo", "无法处理"),
        ("click_unknown", "菜单暂时不可用"),
    ],
)
async def test_kinds_answered_without_the_bot(webhook: WeChatWebhook, name: str, expected: str) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(), fixture(name), bot)
    assert expected in content(reply.body) and bot.received == []


@pytest.mark.parametrize("name", ["unsubscribe", "view", "location_event", "scan"])
async def test_events_with_nothing_to_say(webhook: WeChatWebhook, name: str) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(), fixture(name), bot)
    assert (reply.status, reply.body) == (200, "success") and bot.received == []


# --- safe and compatible modes ---------------------------------------------------------------------
def test_the_fixed_vector_is_the_published_algorithm() -> None:
    """Two implementations agree with the pinned ciphertext: the simulator's and wechatpy's."""
    plain = (FIXTURES / VECTOR["plaintext_file"]).read_text(encoding="utf-8")
    prefix = VECTOR["random_prefix"].encode()
    ours = AesEnvelope(AES_KEY, APP_ID)
    assert ours.encrypt(plain, prefix=prefix) == VECTOR["encrypt"]
    crypto = PrpCrypto(ours.key)
    crypto.get_random_string = lambda: VECTOR["random_prefix"]  # type: ignore[method-assign]
    assert crypto.encrypt(plain, APP_ID).decode() == VECTOR["encrypt"]
    assert ours.decrypt(VECTOR["encrypt"]) == plain


def encrypted_push(encrypt: str, timestamp: int = NOW, nonce: str = "8412093") -> tuple[dict[str, str], bytes]:
    args = {
        **platform_args(timestamp, nonce),
        "encrypt_type": "aes",
        "msg_signature": signature(TOKEN, str(timestamp), nonce, encrypt),
    }
    body = f"<xml><ToUserName><![CDATA[gh_heating_account]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return args, body.encode()


@pytest.mark.parametrize("mode", ["safe", "compatible"])
async def test_an_encrypted_push_is_decrypted_and_the_reply_encrypted(clock: Clock, outbox: Outbox, mode: str) -> None:
    webhook = make_webhook(clock, outbox, encoding_aes_key=AES_KEY, mode=mode)
    bot = FakeBot(["收到"])
    args, body = encrypted_push(VECTOR["encrypt"])
    reply = await webhook.receive(args, body, bot)
    assert [m.text for m in bot.received] == ["我家暖气不热，屋里才15度"]
    outer = ET.fromstring(reply.body)
    assert "收到" not in reply.body
    expected = signature(
        TOKEN, outer.findtext("TimeStamp") or "", outer.findtext("Nonce") or "", outer.findtext("Encrypt") or ""
    )
    assert outer.findtext("MsgSignature") == expected
    assert content(AesEnvelope(AES_KEY, APP_ID).decrypt(outer.findtext("Encrypt") or "")) == "收到"


async def test_safe_mode_refuses_plaintext_and_compatible_mode_takes_it(clock: Clock, outbox: Outbox) -> None:
    safe = make_webhook(clock, outbox, encoding_aes_key=AES_KEY, mode="safe")
    assert (await safe.receive(platform_args(), fixture("text"), FakeBot(["x"]))).status == 403
    compatible = make_webhook(clock, outbox, encoding_aes_key=AES_KEY, mode="compatible")
    reply = await compatible.receive(platform_args(), fixture("text"), FakeBot(["明文"]))
    assert content(reply.body) == "明文"


async def test_a_wrong_message_signature_or_app_id_is_refused(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, encoding_aes_key=AES_KEY, mode="safe")
    bot = FakeBot(["x"])
    args, body = encrypted_push(VECTOR["encrypt"])
    assert (await webhook.receive({**args, "msg_signature": "0" * 40}, body, bot)).status == 403
    other = AesEnvelope(AES_KEY, "wxOTHERACCOUNT00").encrypt(fixture("text").decode())
    assert (await webhook.receive(*encrypted_push(other), bot)).status == 403
    garbage = encrypted_push("bm90IGEgY2lwaGVydGV4dA==")
    assert (await webhook.receive(*garbage, bot)).status == 400
    assert bot.received == []


def test_settings_refuse_an_incomplete_safe_mode() -> None:
    with pytest.raises(ValueError, match="43-character"):
        WeChatConfig.from_credentials({"token": "t", "app_id": "wx1", "encoding_aes_key": "short"})
    with pytest.raises(ValueError, match="WECHAT_MODE"):
        WeChatConfig.from_credentials({"token": "t", "mode": "loud"})
    assert WeChatConfig.from_credentials({"token": "t", "app_id": "wx1", "encoding_aes_key": AES_KEY}).mode == "safe"


# --- retries and the 5-second rule -------------------------------------------------------------------
async def test_a_retried_push_never_runs_the_bot_again(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["已登记"])
    first = await webhook.receive(platform_args(), fixture("text"), bot)
    again = await webhook.receive(platform_args(nonce="1111"), fixture("text"), bot)
    third = await webhook.receive(platform_args(nonce="2222"), fixture("text"), bot)
    assert len(bot.received) == 1
    assert content(first.body) == content(again.body) == content(third.body) == "已登记"


async def test_event_retries_are_recognised_by_sender_and_time(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["欢迎关注"])
    await webhook.receive(platform_args(), fixture("subscribe"), bot)
    await webhook.receive(platform_args(nonce="9"), fixture("subscribe"), bot)
    assert len(bot.received) == 1


async def test_a_slow_bot_answers_success_and_the_answer_is_pushed(
    clock: Clock, outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    fake.resident_wrote("oRESIDENT0001")
    webhook = make_webhook(clock, outbox, client=client, reply_budget_seconds=0.2)
    bot = FakeBot(["工单已登记：GD1"], delay=0.6)
    reply = await webhook.receive(platform_args(), fixture("text"), bot)
    assert (reply.status, reply.body) == (200, "success")
    # the platform's retry while the bot is still working: still one run, answered "success"
    retry = await webhook.receive(platform_args(nonce="5"), fixture("text"), bot)
    assert retry.body == "success" and len(bot.received) == 1
    await webhook.drain()
    assert [m.text for m in fake.inbox("oRESIDENT0001")] == ["工单已登记：GD1"]
    [sent] = outbox.list()
    assert (sent.status, sent.via) == ("sent", "custom")


class OneTurnAtATime:
    """Stands in for Rasa with its lock store: one turn at a time per conversation, in arrival order."""

    def __init__(self, seconds_per_turn: float):
        self.lock = asyncio.Lock()  # first come, first served
        self.seconds = seconds_per_turn
        self.received: list[str] = []

    async def __call__(self, message: Any) -> None:
        async with self.lock:
            self.received.append(message.text)
            await asyncio.sleep(self.seconds)
            await message.output_channel.send_text_message(message.sender_id, f"答：{message.text}")


@pytest.mark.parametrize("budget", [0.05, 2.0])
async def test_a_burst_of_messages_is_answered_in_order_each_once_on_the_push_path(
    clock: Clock, outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient, budget: float
) -> None:
    """#12, #22: "你好" / "暖气阀门坏了" / an address, all arriving before the first is answered, and in
    reverse. With a budget shorter than a turn every answer is pushed; with a longer one answers are
    passive until the budget runs out, then pushed. Either way each is answered once, in the order sent."""
    fake, _ = platform
    fake.resident_wrote("oRESIDENT0001")
    webhook = make_webhook(clock, outbox, client=client, reply_budget_seconds=budget)
    bot = OneTurnAtATime(seconds_per_turn=0.15)
    sent = ["你好", "暖气阀门坏了", "阳光小区3号楼2单元501"]

    async def send(n: int) -> Any:
        return await webhook.receive(platform_args(), text_push(sent[n], str(24000000000000100 + n)), bot)

    # all three arrive before the first is answered; the order is the platform's (MsgId), not luck
    replies = await asyncio.gather(*(send(n) for n in reversed(range(len(sent)))))
    await webhook.drain()
    passive = [content(r.body) for r in reversed(replies) if r.body != "success"]
    pushed = [m.text for m in fake.inbox("oRESIDENT0001")]
    assert bot.received == sent
    assert passive + pushed == [f"答：{text}" for text in sent]
    if budget < 0.15:  # shorter than any turn: every answer is pushed
        assert len(pushed) == 3
    assert [m.status for m in outbox.list()] == ["sent"] * len(pushed)


async def test_a_retry_gets_the_first_answer_when_it_is_ready_in_time(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["慢一点的回答"], delay=0.3)
    first, retry = await asyncio.gather(
        webhook.receive(platform_args(), fixture("text"), bot),
        webhook.receive(platform_args(nonce="7"), fixture("text"), bot),
    )
    assert content(first.body) == content(retry.body) == "慢一点的回答"
    assert len(bot.received) == 1


# --- numbered options ---------------------------------------------------------------------------
async def test_buttons_become_numbered_options_and_a_number_maps_back(webhook: WeChatWebhook) -> None:
    offer = {
        "text": "需要转人工吗？",
        "buttons": [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}],
    }
    bot = FakeBot([offer])
    reply = await webhook.receive(platform_args(), fixture("text"), bot)
    assert content(reply.body) == "需要转人工吗？\n回复 1 是\n回复 2 否"
    answer = (
        fixture("text")
        .replace("我家暖气不热，屋里才15度".encode(), "２".encode())
        .replace(b"0001</MsgId>", b"0099</MsgId>")
    )
    await webhook.receive(platform_args(nonce="2"), answer, bot)
    assert bot.received[-1].text == "/deny"
    # the options answered one message: a later "2" is just "2"
    bot2 = FakeBot([])
    await webhook.receive(platform_args(nonce="3"), answer.replace(b"0099</MsgId>", b"0101</MsgId>"), bot2)
    assert bot2.received[-1].text == "２"


# --- registration -------------------------------------------------------------------------------
async def test_channel_reads_its_credentials(tmp_path: Any) -> None:
    channel = WeChatInput.from_credentials(
        {
            "token": "abc",
            "app_id": "wx1",
            "api_base_url": "",
            "outbox_url": migrated_channel_store(f"sqlite:///{tmp_path / 'o.sqlite3'}"),
            "admin_token": "rasa-token",
        }
    )
    assert isinstance(channel, WeChatInput) and WeChatInput.name() == "wechat"
    assert channel.webhook.config.token == "abc"
    assert channel.webhook.config.api_base_url == "https://api.weixin.qq.com"
    assert channel.webhook.config.reply_budget_seconds == 4.5
    assert isinstance(channel.get_output_channel(), WeChatOutput)


async def test_channel_without_token_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="WECHAT_TOKEN"):
        WeChatInput.from_credentials({"token": ""})


# --- failures ------------------------------------------------------------------------------------
class BrokenState(MemoryState):
    """A shared state whose server is down."""

    async def get(self, key: str) -> Any:
        raise ConnectionError("redis is down")

    async def set(self, key: str, value: Any, ttl: float) -> None:
        raise ConnectionError("redis is down")

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        raise ConnectionError("redis is down")

    async def incr(self, key: str, ttl: float) -> int:
        raise ConnectionError("redis is down")

    async def enqueue(self, key: str, member: str, ttl: float) -> None:
        raise ConnectionError("redis is down")

    async def queue(self, key: str) -> list[str]:
        raise ConnectionError("redis is down")

    async def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        raise ConnectionError("redis is down")

    async def delete_if(self, key: str, value: Any) -> bool:
        raise ConnectionError("redis is down")


async def test_a_shared_state_that_is_down_still_gets_the_resident_an_answer(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, state=BrokenState())
    reply = await webhook.receive(platform_args(), fixture("text"), FakeBot(["照常回答"]))
    assert content(reply.body) == "照常回答"


class DiesMidTurn:
    """The shared state as a process sees it that is killed (kill -9) while its bot runs: from then on
    nothing it would write arrives (its lease is no longer renewed, nor released)."""

    def __init__(self, inner: State) -> None:
        self.inner, self.dead = inner, False

    async def get(self, key: str) -> Any:
        return await self.inner.get(key)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        if not self.dead:
            await self.inner.set(key, value, ttl)

    async def add(self, key: str, value: Any, ttl: float) -> bool:
        return await self.inner.add(key, value, ttl)

    async def delete(self, key: str) -> None:
        if not self.dead:
            await self.inner.delete(key)

    async def incr(self, key: str, ttl: float) -> int:
        return await self.inner.incr(key, ttl)

    async def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        return False if self.dead else await self.inner.renew_if(key, value, ttl)

    async def delete_if(self, key: str, value: Any) -> bool:
        return False if self.dead else await self.inner.delete_if(key, value)

    async def enqueue(self, key: str, member: str, ttl: float) -> None:
        if not self.dead:
            await self.inner.enqueue(key, member, ttl)

    async def queue(self, key: str) -> list[str]:
        return await self.inner.queue(key)

    async def dequeue(self, key: str, member: str) -> None:
        if not self.dead:
            await self.inner.dequeue(key, member)

    async def close(self) -> None:
        pass


async def test_a_push_whose_process_died_is_taken_over_by_the_other(
    clock: Clock, outbox: Outbox, state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The balancer replays the push on the other Rasa process, which answers once the lease lapses."""
    monkeypatch.setattr(wechat, "TURN_LEASE_SECONDS", 0.4)
    monkeypatch.setattr(wechat, "LEASE_RENEW_SECONDS", 0.1)
    dying = DiesMidTurn(state)
    first = make_webhook(clock, outbox, state=dying)  # type: ignore[arg-type]
    second = make_webhook(clock, outbox, state=state)
    hung = asyncio.Event()

    async def killed(message: Any) -> None:
        dying.dead = True
        hung.set()
        await asyncio.sleep(3600)

    lost = asyncio.ensure_future(first.receive(platform_args(), from_resident("oKILLED", 1), killed))
    await hung.wait()
    await asyncio.sleep(0.25)  # past a renewal that no longer arrives
    bot = FakeBot(["已为您处理"])
    reply = await second.receive(platform_args(), from_resident("oKILLED", 1), bot)
    assert content(reply.body) == "已为您处理"
    assert [m.text for m in bot.received] == ["第1条"]
    lost.cancel()
    await first.stop()


async def test_a_replay_while_the_first_process_is_alive_waits_for_its_answer(
    clock: Clock, outbox: Outbox, state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wechat, "TURN_LEASE_SECONDS", 0.4)
    monkeypatch.setattr(wechat, "LEASE_RENEW_SECONDS", 0.1)
    first, second = make_webhook(clock, outbox, state=state), make_webhook(clock, outbox, state=state)
    slow, replayed = FakeBot(["第一次的回答"], delay=1.0), FakeBot(["不该出现"])
    running = asyncio.ensure_future(first.receive(platform_args(), from_resident("oSLOW", 1), slow))
    await asyncio.sleep(0.2)
    reply = await second.receive(platform_args(), from_resident("oSLOW", 1), replayed)
    assert content(reply.body) == "第一次的回答"  # the lease was renewed past its 0.4 s: never taken over
    assert content((await running).body) == "第一次的回答"
    assert replayed.received == []


async def test_a_shared_state_that_is_down_limits_no_one(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, state=BrokenState(), rate_limit=1)
    for n in range(3):
        reply = await webhook.receive(platform_args(), from_resident("oRATE", n), FakeBot(["照常回答"]))
        assert content(reply.body) == "照常回答"


# --- rate limit per resident, shared by every Rasa process -------------------------------------------
def from_resident(openid: str, n: int) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{NOW}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[第{n}条]]></Content><MsgId>{8_000_000 + n}</MsgId></xml>"
    ).encode()


async def test_one_resident_over_the_limit_is_told_once_and_others_are_still_answered(
    clock: Clock, outbox: Outbox, state: State
) -> None:
    """Two webhooks on one shared state stand for two Rasa processes behind the balancer."""
    first, second = (make_webhook(clock, outbox, state=state, rate_limit=3) for _ in range(2))
    bot = FakeBot(["好的"])
    replies = [
        (await (first, second)[n % 2].receive(platform_args(), from_resident("oFLOOD", n), bot)).body for n in range(6)
    ]
    assert [content(body) for body in replies[:3]] == ["好的"] * 3
    assert "太快" in content(replies[3])  # the first one over the limit is told why
    assert replies[4:] == [NO_REPLY, NO_REPLY]  # later ones get nothing, and the bot never sees them
    assert [m.text for m in bot.received] == ["第0条", "第1条", "第2条"]

    other = await second.receive(platform_args(), from_resident("oNEIGHBOUR", 100), FakeBot(["您好"]))
    assert content(other.body) == "您好"

    clock.now += 61  # the next minute
    again = await first.receive(platform_args(), from_resident("oFLOOD", 9), FakeBot(["好的"]))
    assert content(again.body) == "好的"


async def test_a_platform_retry_is_not_counted_twice(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, rate_limit=1)
    bot = FakeBot(["好的"])
    for _ in range(3):  # the platform pushes the same message again when it gets no answer in time
        reply = await webhook.receive(platform_args(), from_resident("oRETRY", 1), bot)
        assert content(reply.body) == "好的"
    assert len(bot.received) == 1


async def test_the_limit_and_its_sentence_are_configurable(clock: Clock, outbox: Outbox) -> None:
    told = make_webhook(clock, outbox, rate_limit=1, rate_limit_text="请一分钟后再试")
    await told.receive(platform_args(), from_resident("oA", 1), FakeBot(["好的"]))
    reply = await told.receive(platform_args(), from_resident("oA", 2), FakeBot(["好的"]))
    assert content(reply.body) == "请一分钟后再试"
    unlimited = make_webhook(clock, outbox, rate_limit=0)
    bot = FakeBot(["好的"])
    for n in range(30):
        await unlimited.receive(platform_args(), from_resident("oB", n), bot)
    assert len(bot.received) == 30


def test_the_channel_reads_the_limit_from_its_credentials() -> None:
    config = WeChatConfig.from_credentials(
        {"token": "t", "rate_limit": "5", "rate_limit_window_seconds": "30", "rate_limit_text": "慢一点"}
    )
    assert (config.rate_limit, config.rate_limit_window_seconds, config.rate_limit_text) == (5, 30, "慢一点")
    assert WeChatConfig.from_credentials({"token": "t", "rate_limit": "0"}).rate_limit == 0
    assert WeChatConfig.from_credentials({"token": "t"}).rate_limit == 20


async def test_a_bot_that_fails_gets_the_resident_an_apology(webhook: WeChatWebhook) -> None:
    async def broken(message: Any) -> None:
        raise RuntimeError("tracker store unavailable")

    reply = await webhook.receive(platform_args(), fixture("text"), broken)
    assert "没有处理成功" in content(reply.body)


# --- a resident's text: bounded, never an intent, safe in the reply ----------------------------------
def text_push(content: str, msg_id: str = "7000000000000001") -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[oRESIDENT0001]]></FromUserName>"
        f"<CreateTime>{NOW}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


@pytest.mark.parametrize(
    "typed",
    [
        '/EXTERNAL_callback_survey{"order_id": 707}',
        '  /EXTERNAL_callback_survey{"order_id": 707}',
        '\u3000/share_image{"pic_url": "http://evil.example/x.jpg"}',
        "/restart",
    ],
)
async def test_a_resident_cannot_name_an_intent(webhook: WeChatWebhook, typed: str) -> None:
    bot = FakeBot(["好的"])
    await webhook.receive(platform_args(), text_push(typed), bot)
    given = bot.received[0].text
    assert not given.lstrip().startswith("/")
    assert given.lstrip().startswith("／") and given.lstrip()[1:] == typed.lstrip()[1:]


async def test_menu_clicks_and_photos_still_name_their_intents(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["好的"])
    await webhook.receive(platform_args(), fixture("click"), bot)
    assert bot.received[0].text == "/ask_fee_standard"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("绑定 K7MX-Q4PA", "K7MXQ4PA"), ("绑定：k7mxq4pa", "K7MXQ4PA"), ("  绑定K7MX－Q4PA ", "K7MXQ4PA")],
)
async def test_a_grid_workers_binding_code_is_read_by_the_channel(
    webhook: WeChatWebhook, typed: str, code: str
) -> None:
    bot = FakeBot(["绑定成功"])
    await webhook.receive(platform_args(), text_push(typed), bot)
    assert bot.received[0].text == f'/bind_grid_worker{{"bind_code": "{code}"}}'


@pytest.mark.parametrize("typed", ["绑定银行卡怎么弄", "绑定 K7MX", '绑定 K7MXQ4PA"}', "我要绑定 K7MX-Q4PA"])
async def test_other_words_about_binding_stay_the_residents_words(webhook: WeChatWebhook, typed: str) -> None:
    bot = FakeBot(["好的"])
    await webhook.receive(platform_args(), text_push(typed), bot)
    assert bot.received[0].text == typed


async def test_a_text_over_the_limit_is_answered_without_the_bot(clock: Clock, outbox: Outbox) -> None:
    webhook = make_webhook(clock, outbox, max_text_chars=50)
    bot = FakeBot(["不该出现"])
    reply = await webhook.receive(platform_args(), text_push("暖" * 51), bot)
    assert bot.received == []
    assert "51个字" in content(reply.body) and "50字" in content(reply.body)
    at_limit = await webhook.receive(platform_args(), text_push("暖" * 50, "7000000000000002"), bot)
    assert content(at_limit.body) == "不该出现" and len(bot.received) == 1


async def test_a_reply_containing_the_cdata_end_stays_well_formed(webhook: WeChatWebhook) -> None:
    echoed = "您描述的是：暖气片]]><Content>伪造</Content>漏水\x07，对吗？"
    reply = await webhook.receive(platform_args(), fixture("text"), FakeBot([echoed]))
    assert content(reply.body) == "您描述的是：暖气片]]><Content>伪造</Content>漏水，对吗？"
    assert ET.fromstring(reply.body).findtext("MsgType") == "text"


HOSTILE_EDGES = {
    "nesting 5000 deep": b"<xml>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</xml>",
    "unknown encoding": b'<?xml version="1.0" encoding="x-no-such-encoding"?><xml><MsgType>text</MsgType></xml>',
    "utf-16 declared on utf-8 bytes": b'<?xml version="1.0" encoding="utf-16"?><xml><MsgType>t</MsgType></xml>',
}


@pytest.mark.parametrize("body", HOSTILE_EDGES.values(), ids=HOSTILE_EDGES.keys())
async def test_hostile_xml_at_the_edges_is_a_400(webhook: WeChatWebhook, body: bytes) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(), body, bot)
    assert reply.status == 400 and bot.received == []


@pytest.mark.parametrize("timestamp", ["²³", "١٢٣", "12.5", "-1", "9" * 40, "", " 1796000000"])
async def test_a_malformed_timestamp_is_refused_not_a_crash(webhook: WeChatWebhook, timestamp: str) -> None:
    args = {**platform_args(), "timestamp": timestamp}
    args["signature"] = signature(TOKEN, timestamp, args["nonce"])
    reply = await webhook.receive(args, fixture("text"), FakeBot(["x"]))
    assert reply.status == 403


def test_the_channel_refuses_an_open_rasa_api_outside_tests() -> None:
    with pytest.raises(ConfigurationError, match="RASA_AUTH_TOKEN"):
        WeChatInput.from_credentials({"token": "abc", "admin_token": "", "app_env": "development"})


@pytest.mark.parametrize(
    ("token", "secret"), [("dev-wechat-token", "a-real-app-secret-123"), ("a-real-token-12345", "short")]
)
def test_production_refuses_sample_or_short_wechat_secrets(token: str, secret: str) -> None:
    with pytest.raises(ConfigurationError):
        WeChatInput.from_credentials(
            {"token": token, "app_secret": secret, "admin_token": "R7n1-yH4sQe6uB0d", "app_env": "production"}
        )


# --- staff writing to a resident (the handoff chat) ------------------------------------------------
async def test_a_staff_message_goes_out_through_the_outbox_with_its_delivery_state(
    clock: Clock, outbox: Outbox, platform: tuple[FakePlatform, str], client: PlatformClient
) -> None:
    fake, _ = platform
    webhook = make_webhook(clock, outbox, client=client)
    fake.resident_wrote("oRESIDENT0001")
    outbox.inbound("oRESIDENT0001")  # the resident wrote: the 48-hour window is open
    [sent] = await webhook.send_for_staff("oRESIDENT0001", "  您好，我是客服小王，马上为您安排维修。 ")
    assert (sent["status"], sent["via"]) == ("sent", "custom")
    assert [m.text for m in fake.inbox("oRESIDENT0001")] == ["您好，我是客服小王，马上为您安排维修。"]
    # a resident who never wrote: nothing is sent, and staff see it undelivered
    [kept] = await webhook.send_for_staff("oSILENT", "您好")
    assert kept["status"] == "undelivered" and fake.inbox("oSILENT") == []


@pytest.mark.parametrize(("openid", "text"), [("", "您好"), ("oR", "   "), ("oR", "长" * 601), ("o" * 65, "您好")])
async def test_a_staff_message_without_a_resident_or_text_or_too_long_is_refused(
    webhook: WeChatWebhook, openid: str, text: str
) -> None:
    with pytest.raises(ValueError):
        await webhook.send_for_staff(openid, text)
    assert webhook.outbox.list() == []


def test_the_answer_to_a_chosen_reading_is_found_by_the_choices_id() -> None:
    """A reading chosen among the bot's options (actions/handoff.py) takes back the turns and says the message
    again under the choice's id: a retried push of "1" is answered with what the bot said to it."""
    events = [
        {"event": "user", "text": "报停了还要交空置费吗", "message_id": "msg:o:1"},
        {"event": "bot", "text": "您是想问哪一项？", "data": {"buttons": [{"title": "x", "payload": "/y"}]}},
        {"event": "user", "text": '/choose_reading{"reading": "ask_business_process"}', "message_id": "msg:o:2"},
        {"event": "action", "name": "action_take_reading"},
        {"event": "rewind"},
        {"event": "rewind"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "报停了还要交空置费吗", "message_id": "msg:o:2"},
        {"event": "bot", "text": "【报停】办理报停需核验…", "data": {}},
        {"event": "user", "text": "谢谢", "message_id": "msg:o:3"},
        {"event": "bot", "text": "不客气", "data": {}},
    ]
    assert [m["text"] for m in answer_to(events, "msg:o:2") or []] == ["【报停】办理报停需核验…"]
    assert [m["text"] for m in answer_to(events, "msg:o:3") or []] == ["不客气"]
