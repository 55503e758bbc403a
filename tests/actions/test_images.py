"""A photo from WeChat goes onto the resident's open order, or is acknowledged."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.images import ActionAttachImage
from tests.actions.conftest import make_tracker, responses
from tests.actions.fake_backend import FakeBackend

PHOTO = [{"entity": "pic_url", "value": "http://mmbiz.qpic.cn/p.jpg"}, {"entity": "media_id", "value": "m9"}]


async def run(backend_orders: list[dict], backend: FakeBackend) -> list[dict]:
    backend.orders.extend(backend_orders)
    dispatcher = CollectingDispatcher()
    await ActionAttachImage().run(dispatcher, make_tracker("/share_image", "share_image", entities=PHOTO), {})
    return dispatcher.messages


async def test_the_photo_goes_onto_the_newest_open_order(backend: FakeBackend) -> None:
    orders = [
        {"id": 1, "number": "GD1", "status": "accepted", "resident_openid": "oRESIDENT0001"},
        {"id": 2, "number": "GD2", "status": "closed", "resident_openid": "oRESIDENT0001"},
        {"id": 3, "number": "GD3", "status": "dispatched", "resident_openid": "oRESIDENT0001"},
    ]
    messages = await run(orders, backend)
    assert backend.attachments == [
        {
            "order_id": 3,
            "kind": "image",
            "url": "http://mmbiz.qpic.cn/p.jpg",
            "media_id": "m9",
            "note": "住户通过微信发送的图片",
            "resident_openid": "oRESIDENT0001",
        }
    ]
    assert messages[0]["response"] == "utter_image_attached" and messages[0]["number"] == "GD3"


async def test_without_an_open_order_the_photo_is_acknowledged(backend: FakeBackend) -> None:
    messages = await run([{"id": 1, "number": "GD1", "status": "closed", "resident_openid": "oRESIDENT0001"}], backend)
    assert backend.attachments == [] and responses(messages) == ["utter_image_received"]


async def test_a_backend_that_is_down_is_said_plainly(unreachable_backend: None) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAttachImage().run(dispatcher, make_tracker("/share_image", "share_image", entities=PHOTO), {})
    assert responses(dispatcher.messages) == ["utter_image_not_attached"]
