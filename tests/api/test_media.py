"""Residents' photos are copied from the WeChat channel into the backend and kept with their orders;
the console shows them on the order and in the chat, and nowhere else."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import Browser, FakeOutbound, FixedClock

PNG = b"\x89PNG\r\n\x1a\nfake-image-bytes"
REPAIR = {
    "kind": "repair",
    "category": "equipment",
    "source": "wechat",
    "description": "阀门坏了",
    "resident_openid": "oPHOTO",
}


def attach(client: TestClient, auth: dict, order_id: int, media_id: str) -> None:
    sent = client.post(
        f"/api/v1/work-orders/{order_id}/attachments",
        json={"url": "http://mmbiz.qpic.cn/x.jpg", "media_id": media_id, "resident_openid": "oPHOTO"},
        headers=auth,
    )
    assert sent.status_code == 201, sent.text


def test_a_photo_is_copied_with_retries_and_shown_on_the_order(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, outbound: FakeOutbound, clock: FixedClock
) -> None:
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    outbound.media["m-1"] = PNG
    outbound.channel_media_up = False
    attach(client, auth, order["id"], "m-1")
    assert run_scheduler_once(client.app)["photos"] == 0  # type: ignore[arg-type]
    b = browser("agent")
    assert "照片获取中（已尝试 1 次）" in b.get(f"/console/orders/{order['id']}").text
    outbound.channel_media_up = True
    assert run_scheduler_once(client.app)["photos"] == 0  # type: ignore[arg-type]  # waits its backoff
    clock.advance(minutes=1)
    assert run_scheduler_once(client.app)["photos"] == 1  # type: ignore[arg-type]
    outbound.media.clear()  # gone from the platform and the channel: the backend keeps its copy
    page = b.get(f"/console/orders/{order['id']}").text
    photo_url = page.split('<img class="thumb" src="')[1].split('"')[0]
    photo = b.get(photo_url)
    assert photo.content == PNG and photo.headers["content-type"] == "image/png"
    assert photo.headers["x-content-type-options"] == "nosniff"


def test_an_expired_photo_is_marked_failed_with_the_reason(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    attach(client, auth, order["id"], "m-gone")
    run_scheduler_once(client.app)  # type: ignore[arg-type]
    assert "照片已失效" in browser("agent").get(f"/console/orders/{order['id']}").text


def test_the_chat_shows_only_its_own_photos(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    outbound.media.update({"m-chat": PNG, "m-other": b"another resident's photo"})
    outbound.trackers["oPHOTO"] = [
        {
            "event": "user",
            "text": '/share_image{"media_id": "m-chat"}',
            "timestamp": 1_796_000_000,
            "metadata": {"wechat": {"msg_type": "image", "media_id": "m-chat"}},
        },
        # typed by the resident: no channel metadata, so it names no photo
        {"event": "user", "text": '／share_image{"media_id": "m-other"}', "timestamp": 1_796_000_001},
    ]
    made = client.post("/api/v1/handoffs", json={"resident_openid": "oPHOTO", "reason": "requested"}, headers=auth)
    handoff_id = made.json()["id"]
    b = browser("agent")
    page = b.get(f"/console/chats/{handoff_id}").text
    assert f'src="/console/chats/{handoff_id}/photos/m-chat"' in page and "photos/m-other" not in page
    assert b.get(f"/console/chats/{handoff_id}/photos/m-chat").content == PNG
    listed = client.get(f"/api/v1/handoffs/{handoff_id}/messages", headers=agent).json()["items"]
    assert [(m["text"], m["media_id"]) for m in listed] == [
        ("[图片]", "m-chat"),
        ('／share_image{"media_id": "m-other"}', None),
    ]
    assert b.get(f"/console/chats/{handoff_id}/photos/m-other").status_code == 404
    assert b.get(f"/console/chats/{handoff_id}/photos/..%2Fsecret").status_code in (404, 422)
