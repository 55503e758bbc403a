"""Messages residents did not get: what the WeChat channel could not deliver is listed for staff to phone,
and the call is recorded."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import FakeOutbound, act

ORDER = {
    "kind": "complaint",
    "category": "service",
    "source": "wechat",
    "description": "态度不好",
    "phone": "13800138000",
}


def refused_and_told(client: TestClient, auth: dict, supervisor: dict, openid: str) -> dict:
    """A complaint explained to its resident (10.1.4): a message the standard requires them to get."""
    order = client.post("/api/v1/work-orders", json={**ORDER, "resident_openid": openid}, headers=auth).json()
    done = act(client, supervisor, order["id"], "cancel", note="非我司原因", explanation="系物业管理问题，请联系物业")
    assert done.status_code == 200, done.text
    return dict(order)


def test_an_undelivered_message_is_listed_to_phone_until_the_call_is_recorded(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound, browser: Callable
) -> None:
    lost = refused_and_told(client, auth, supervisor, "oLOST")
    reached = refused_and_told(client, auth, supervisor, "oREACHED")
    run_scheduler_once(client.app)
    told = {c["path"].split("/")[2]: c["body"]["entities"]["message"] for c in outbound.rasa_calls}
    outbound.outbox_rows += [
        {"id": 1, "openid": "oLOST", "text": told["oLOST"], "status": "undelivered", "last_error": "45015"},
        {"id": 2, "openid": "oREACHED", "text": told["oREACHED"], "status": "sent", "via": "template"},
    ]
    listed = client.get("/api/v1/notifications/undelivered", headers=agent).json()
    assert listed["channel_answered"] is True
    assert [(i["order_number"], i["phone"]) for i in listed["items"]] == [(lost["number"], "138****8000")]
    assert reached["number"] not in str(listed)
    page = browser("agent").get("/console/undelivered").text
    assert "【投诉处理说明】" in page and lost["number"] in page
    notice = listed["items"][0]["id"]
    path = f"/api/v1/notifications/{notice}/phoned"
    assert client.post(path, json={"note": "已电话说明，居民表示理解"}, headers=agent).status_code == 204
    assert client.post(path, json={"note": "again"}, headers=agent).status_code == 409
    assert client.get("/api/v1/notifications/undelivered", headers=agent).json()["items"] == []


def test_a_channel_that_cannot_be_asked_lists_nothing_and_says_so(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    refused_and_told(client, auth, supervisor, "oLOST")
    run_scheduler_once(client.app)
    outbound.channel_up = False
    listed = client.get("/api/v1/notifications/undelivered", headers=agent).json()
    assert listed == {"items": [], "channel_answered": False}
