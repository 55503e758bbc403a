"""A resident's photo is fetched from the platform's media API when it arrives (the platform keeps it
for 3 days) and kept by the channel, which serves it to the backend."""

from __future__ import annotations

import pytest

from channels import wechat
from channels.delivery import Outbox, PlatformClient
from channels.wechat import WeChatWebhook
from fake_wechat.platform import FakePlatform
from tests.channels.conftest import Clock, FakeBot, fixture, platform_args
from tests.channels.test_wechat import make_webhook


@pytest.fixture
def with_platform(
    clock: Clock, outbox: Outbox, platform: tuple[FakePlatform, str]
) -> tuple[WeChatWebhook, FakePlatform]:
    fake, url = platform
    return make_webhook(clock, outbox, client=PlatformClient(url), api_base_url=url), fake


async def test_a_photo_is_kept_when_it_arrives(with_platform: tuple[WeChatWebhook, FakePlatform]) -> None:
    webhook, fake = with_platform
    fake.resident_sent_photo("media_id_1")
    await webhook.receive(platform_args(), fixture("image"), FakeBot(["收到照片"]))
    await webhook.drain()
    kept = webhook.outbox.media("media_id_1")
    assert kept == (fake.media["media_id_1"][0], "image/png") and kept[0].startswith(b"\x89PNG")
    fake.media.clear()  # gone from the platform: the channel still has it
    assert await webhook.fetch_media("media_id_1") == kept


async def test_a_platform_that_is_busy_is_asked_again(
    with_platform: tuple[WeChatWebhook, FakePlatform], monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook, fake = with_platform
    monkeypatch.setattr(wechat, "MEDIA_RETRY_DELAYS", (0.01, 0.01))
    fake.resident_sent_photo("m-busy")
    await webhook.tokens.get()
    fake.failures_left = 2  # "system busy" twice
    assert await webhook.keep_media("m-busy") is True
    assert webhook.outbox.media("m-busy") is not None


async def test_an_expired_or_unknown_photo_is_given_up_at_once(
    with_platform: tuple[WeChatWebhook, FakePlatform], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook, fake = with_platform
    monkeypatch.setattr(wechat, "MEDIA_RETRY_DELAYS", (60.0,))  # a retry would hang the test
    fake.resident_sent_photo("m-old")
    clock.now += 3 * 24 * 3600 + 1
    assert await webhook.keep_media("m-old") is False
    assert await webhook.fetch_media("m-never-sent") is None
    with pytest.raises(ValueError):
        await webhook.fetch_media("../../etc/passwd")


async def test_a_refused_token_is_renewed_once(with_platform: tuple[WeChatWebhook, FakePlatform]) -> None:
    webhook, fake = with_platform
    fake.resident_sent_photo("m-token")
    await webhook.tokens.get()
    fake.expire_tokens()
    assert await webhook.fetch_media("m-token") is not None
    assert fake.token_fetches == 2


def test_forgetting_a_resident_removes_their_messages_window_and_named_photos(outbox: Outbox) -> None:
    """12.1: a resident's erasure reaches what the channel keeps of them, and nobody else's."""
    outbox.inbound("oGONE")
    outbox.inbound("oSTAY")
    outbox.add("oGONE", "您的工单已受理")
    outbox.add("oSTAY", "您的工单已受理")
    outbox.keep_media("m-gone", b"\x89PNG gone", "image/png")
    outbox.keep_media("m-stay", b"\x89PNG stay", "image/png")
    outbox.answered("msg:oGONE:1", "oGONE")
    outbox.answered("msg:oSTAY:1", "oSTAY")
    assert outbox.forget("oGONE", ["m-gone"]) == {"messages": 1, "photos": 1}
    assert outbox.list(openid="oGONE") == [] and outbox.window("oGONE") is None
    assert outbox.was_answered("oGONE", "msg:oGONE:1") is None and outbox.was_answered("oSTAY", "msg:oSTAY:1")
    assert outbox.media("m-gone") is None
    assert len(outbox.list(openid="oSTAY")) == 1 and outbox.media("m-stay") is not None
