"""A resident's photo is fetched from the platform's media API when it arrives (the platform keeps it
for 3 days) and kept by the channel, which serves it to the backend."""

from __future__ import annotations

import pytest

from api.simulator.platform import FakePlatform
from channels import wechat
from channels.delivery import Outbox, PlatformClient
from channels.wechat import WeChatWebhook
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
