"""The WeChat webhook: signatures, replays, hostile XML and the passive reply."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET  # parses our own reply, not untrusted input
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage

from channels.wechat import WeChatConfig, WeChatInput, WeChatWebhook

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "test-wechat-token"
NOW = 1_796_000_000  # the fixtures' CreateTime


def platform_args(timestamp: int = NOW, nonce: str = "8412093", token: str = TOKEN) -> dict[str, str]:
    """Query arguments as the platform sends them: sha1 of the sorted token, timestamp, nonce."""
    signature = hashlib.sha1("".join(sorted([token, str(timestamp), nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": str(timestamp), "nonce": nonce, "openid": "oRESIDENT0001"}


class FakeBot:
    """Stands in for Rasa: records what it was given and answers with fixed texts."""

    def __init__(self, answers: list[str]):
        self.answers = answers
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        for text in self.answers:
            await message.output_channel.send_text_message(message.sender_id, text)


@pytest.fixture
def webhook() -> WeChatWebhook:
    return WeChatWebhook(WeChatConfig(token=TOKEN), clock=lambda: NOW + 3)


async def test_url_verification_echoes_echostr(webhook: WeChatWebhook) -> None:
    reply = webhook.verify({**platform_args(), "echostr": "5837397520983"})
    assert (reply.status, reply.body) == (200, "5837397520983")


async def test_url_verification_with_wrong_token_is_refused(webhook: WeChatWebhook) -> None:
    reply = webhook.verify({**platform_args(token="other"), "echostr": "x"})
    assert reply.status == 403


async def test_text_message_reaches_the_bot_and_the_answer_is_a_passive_reply(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["已为您登记工单，单号 GD20261210000001。", "还有什么可以帮您？"])
    reply = await webhook.receive(platform_args(), (FIXTURES / "text.xml").read_bytes(), bot)
    assert reply.status == 200
    [message] = bot.received
    assert message.text == "我家暖气不热，屋里才15度"
    assert message.sender_id == "oRESIDENT0001"
    assert message.input_channel == "wechat"
    assert message.message_id == "24000000000000001"
    xml = ET.fromstring(reply.body)
    assert xml.findtext("ToUserName") == "oRESIDENT0001"
    assert xml.findtext("FromUserName") == "gh_heating_account"
    assert xml.findtext("MsgType") == "text"
    # one passive reply carries one message: the turn's texts are joined
    assert xml.findtext("Content") == "已为您登记工单，单号 GD20261210000001。\n\n还有什么可以帮您？"


async def test_forged_signature_is_refused_before_the_bot_runs(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["x"])
    args = {**platform_args(), "signature": "0" * 40}
    reply = await webhook.receive(args, (FIXTURES / "text.xml").read_bytes(), bot)
    assert reply.status == 403
    assert bot.received == []


async def test_stale_timestamp_is_a_replay_even_when_signed(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(timestamp=NOW - 301), (FIXTURES / "text.xml").read_bytes(), bot)
    assert reply.status == 403
    assert bot.received == []


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
    "truncated": b"<xml><ToUserName>t</ToUserName><FromUser",
    "wrong root": b"<msg><ToUserName>t</ToUserName></msg>",
    "missing sender": b"<xml><ToUserName>t</ToUserName><MsgType>text</MsgType></xml>",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
async def test_malformed_or_hostile_xml_gets_400_and_never_reaches_the_bot(webhook: WeChatWebhook, body: bytes) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(), body, bot)
    assert reply.status == 400
    assert bot.received == []


async def test_huge_body_is_refused(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["x"])
    body = b"<xml><Content>" + b"a" * 70_000 + b"</Content></xml>"
    reply = await webhook.receive(platform_args(), body, bot)
    assert reply.status == 413
    assert bot.received == []


async def test_non_text_message_gets_a_polite_text_reply(webhook: WeChatWebhook) -> None:
    bot = FakeBot(["x"])
    reply = await webhook.receive(platform_args(), (FIXTURES / "image.xml").read_bytes(), bot)
    assert reply.status == 200
    assert "文字" in (ET.fromstring(reply.body).findtext("Content") or "")
    assert bot.received == []


async def test_channel_reads_its_credentials() -> None:
    channel = WeChatInput.from_credentials({"token": "abc", "app_id": "wx1", "api_base_url": ""})
    assert isinstance(channel, WeChatInput)
    assert channel.webhook.config.token == "abc"
    assert channel.webhook.config.api_base_url == "https://api.weixin.qq.com"
    assert WeChatInput.name() == "wechat"


async def test_channel_without_token_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="WECHAT_TOKEN"):
        WeChatInput.from_credentials({"token": ""})


async def test_a_turn_with_nothing_to_say_answers_success(webhook: WeChatWebhook) -> None:
    bot = FakeBot([])
    reply = await webhook.receive(platform_args(), (FIXTURES / "text.xml").read_bytes(), bot)
    assert (reply.status, reply.body) == (200, "success")
    assert len(bot.received) == 1
