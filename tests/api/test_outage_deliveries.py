"""The outage notices page (送达情况) shows what the WeChat channel knows of each notice, in Chinese, and
says so when the channel cannot be asked (N15): never the backend's own ``handed_to_channel``."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from api.views import delivery
from tests.api.conftest import Browser, FakeOutbound
from tests.api.test_operations import OUTAGE, resident_in

# What the channel's outbox made of each resident's notice (channels/delivery.py writes these).
CHANNEL = {
    "oSUN-sent": {"status": "sent", "via": "custom", "last_error": None},
    "oSUN-template": {"status": "sent", "via": "template", "last_error": None},
    "oSUN-window": {
        "status": "undelivered",
        "via": None,
        "last_error": "outside the 48-hour window or over the 5-message quota; no template configured",
    },
    "oSUN-retrying": {"status": "pending", "via": None, "last_error": "/cgi-bin/message/custom/send: HTTP 503"},
}
RAW_WORDS = re.compile(r"handed_to_channel|undelivered|pending|sent_as_template|\bsent\b|\bfailed\b|\bdelivered\b")


def visible(html: str) -> str:
    """The words a browser shows (tags dropped), for what staff read."""
    return re.sub(r"<[^>]+>", "", html)


def notices_told(client: TestClient, auth: dict, supervisor: dict, outbound: FakeOutbound) -> int:
    """An outage over 24 h in a community of six WeChat residents: the backend hands five notices to the
    bot (the sixth's hand-over is lost and waits for a retry); the channel keeps four of them as
    ``CHANNEL`` says and has none for the fifth. Returns the outage's id."""
    for openid in [*CHANNEL, "oSUN-gone", "oSUN-later"]:
        resident_in(client, auth, openid, "阳光小区3号楼2单元501")
    outage_id = int(client.post("/api/v1/outages", json=OUTAGE, headers=supervisor).json()["id"])
    outbound.rasa_answers_lost = 1  # the first hand-over: Rasa took it, the answer never came back
    run_scheduler_once(client.app)  # type: ignore[arg-type]
    for call in outbound.rasa_calls[1:]:
        openid = call["path"].split("/")[2]
        if openid in CHANNEL:
            message = call["body"]["entities"]["message"]
            row = {"id": len(outbound.outbox_rows) + 1, "openid": openid, "text": message, **CHANNEL[openid]}
            outbound.outbox_rows.append(row)
    return outage_id


def test_staff_read_the_channels_delivery_state_of_each_notice_in_chinese(
    client: TestClient, auth: dict, supervisor: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    outage_id = notices_told(client, auth, supervisor, outbound)
    page = browser("agent").get(f"/console/outages/{outage_id}/notices")
    assert page.status_code == 200
    text = visible(page.text)
    assert "共 6 条通知" in text
    for words in (
        "已送达",
        "已用模板消息送达",
        "未送达：居民超过48小时未与公众号互动或5条客服消息已用完，且未配置模板消息；请电话联系居民",
        "发送中：微信平台暂时不可用，通道会自动重试",
        "通道中查不到：微信通道的发件记录中没有这条消息",
        "等待发送：上次交给微信通道失败，会自动重试",
    ):
        assert words in text, words
    summary = re.search(r"共 6 条通知：([^\n]*)", text)
    assert summary is not None
    assert sorted(summary.group(1).split("，")) == sorted(
        ["已送达 1", "已用模板消息送达 1", "未送达 1", "发送中 1", "通道中查不到 1", "等待发送 1"]
    )
    assert not RAW_WORDS.search(text), RAW_WORDS.findall(text)
    assert "通道暂时无法查询" not in text
    # one read of the channel's outbox per resident whose notice was handed over
    assert len([c for c in outbound.channel_calls if c.endswith("/outbox")]) == 5


def test_a_channel_that_cannot_be_asked_is_said_not_guessed(
    client: TestClient, auth: dict, supervisor: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    outage_id = notices_told(client, auth, supervisor, outbound)
    outbound.rasa_up = False
    text = visible(browser("agent").get(f"/console/outages/{outage_id}/notices").text)
    assert "通道暂时无法查询：微信通道没有应答" in text
    assert "通道暂时无法查询 5" in text and "等待发送 1" in text  # the sixth never reached the channel
    assert "已送达" not in text and "未送达" not in text
    assert not RAW_WORDS.search(text)


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("the resident unsubscribed", "居民已取消关注公众号"),
        (
            "outside the 48-hour window or over the 5-message quota; no template configured",
            "居民超过48小时未与公众号互动或5条客服消息已用完，且未配置模板消息；请电话联系居民",
        ),
        ("customer-service API errcode 45015: response out of time limit", "微信客服消息接口拒绝（错误码 45015）"),
        ("template API errcode 40037: invalid template_id", "微信模板消息接口拒绝（错误码 40037）"),
        ("something new", "其他原因：something new"),
        (None, "通道未说明原因"),
    ],
)
def test_the_channels_reasons_in_staffs_words(reason: str | None, words: str) -> None:
    assert delivery.reason_words(reason) == words


def test_what_the_backend_knows_when_the_channel_is_not_asked() -> None:
    to_staff = delivery.of_notice(False, True, None, None, True)
    assert to_staff == delivery.Delivery("pushed_to_staff")
    assert delivery.of_notice(False, False, None, None, True) == delivery.Delivery("staff_alert")
    assert delivery.of_notice(True, False, None, None, False) == delivery.Delivery("queued")
    assert delivery.of_notice(True, True, None, None, False) == delivery.Delivery("unreachable")
