"""The handoff chat (API contract of the console): the transcript before and after the handoff, and staff
writing to the resident through the WeChat channel, with each message's delivery state."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import FakeOutbound, FixedClock

T0 = 1_796_000_000.0


def bot_transcript(outbound: FakeOutbound, openid: str) -> None:
    outbound.trackers[openid] = [
        {"event": "action", "name": "action_session_start", "timestamp": T0},
        {"event": "user", "text": "暖气不热，你们怎么回事", "timestamp": T0 + 1, "metadata": {}},
        {"event": "bot", "text": "很抱歉给您带来不便……", "timestamp": T0 + 2, "metadata": {}},
        {
            "event": "user",
            "text": "EXTERNAL: EXTERNAL_outage_notice",
            "timestamp": T0 + 3,
            "metadata": {"is_external": True},
        },
        {"event": "user", "text": "转人工", "timestamp": T0 + 4, "metadata": {}},
        {"event": "bot", "text": "已为您转接人工客服", "timestamp": T0 + 5, "metadata": {}},
        {"event": "pause", "timestamp": T0 + 5},
        {"event": "user", "text": '/share_image{"pic_url": "http://mmbiz.qpic.cn/x.jpg"}', "timestamp": T0 + 6},
    ]


def open_and_take(client: TestClient, auth: dict, holder: dict, openid: str = "oCHAT") -> int:
    handoff = client.post("/api/v1/handoffs", json={"resident_openid": openid, "reason": "requested"}, headers=auth)
    client.post(f"/api/v1/handoffs/{handoff.json()['id']}/take", headers=holder)
    return int(handoff.json()["id"])


def test_the_chat_shows_the_bot_transcript_before_the_handoff(
    client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    bot_transcript(outbound, "oCHAT")
    handoff_id = open_and_take(client, auth, agent)
    chat = client.get(f"/api/v1/handoffs/{handoff_id}/messages", headers=agent).json()
    assert [(m["from"], m["text"]) for m in chat["items"]] == [
        ("resident", "暖气不热，你们怎么回事"),
        ("bot", "很抱歉给您带来不便……"),
        ("resident", "转人工"),
        ("bot", "已为您转接人工客服"),
        ("resident", "[图片]"),
    ]
    assert chat["total"] == 5 and chat["items"][0]["at"] == "2026-11-30T00:53:21Z"


def test_the_holder_writes_to_the_resident_and_the_transcript_keeps_it(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    bot_transcript(outbound, "oCHAT")
    handoff_id = open_and_take(client, auth, agent)
    sent = client.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "您好，我是客服小王"}, headers=agent)
    assert sent.status_code == 201
    assert sent.json() == {
        "at": clock.now.isoformat().replace("+00:00", "Z"),
        "from": "staff",
        "text": "您好，我是客服小王",
        "delivery": "sent",
        "media_id": None,
    }
    assert outbound.outbox_rows[-1]["openid"] == "oCHAT"
    recorded = outbound.trackers["oCHAT"][-1]
    assert recorded["event"] == "bot" and recorded["metadata"]["from"] == "staff"
    outbound.channel_status = "undelivered"
    client.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "还在吗？"}, headers=agent)
    chat = client.get(f"/api/v1/handoffs/{handoff_id}/messages", headers=agent).json()["items"]
    assert [(m["from"], m["text"], m["delivery"]) for m in chat[-2:]] == [
        ("staff", "您好，我是客服小王", "sent"),
        ("staff", "还在吗？", "undelivered"),
    ]


def test_only_the_holder_writes_and_only_while_the_chat_is_held(
    client: TestClient, auth: dict, staff: Callable[[str], dict], outbound: FakeOutbound
) -> None:
    holder, other, supervisor = staff("agent"), staff("agent"), staff("supervisor")
    waiting = client.post("/api/v1/handoffs", json={"resident_openid": "oWAIT", "reason": "anger"}, headers=auth).json()
    assert (
        client.post(f"/api/v1/handoffs/{waiting['id']}/messages", json={"text": "您好"}, headers=holder).status_code
        == 409
    )
    handoff_id = open_and_take(client, auth, holder)
    for someone in (other, supervisor):
        assert (
            client.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "您好"}, headers=someone).status_code
            == 403
        )
    assert (
        client.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "您好"}, headers=auth).status_code == 403
    )
    assert client.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": ""}, headers=holder).status_code == 422
    assert outbound.outbox_rows == []
    client.post(f"/api/v1/handoffs/{handoff_id}/close", headers=holder)
    closed = client.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "您好"}, headers=holder)
    assert closed.status_code == 409 and outbound.outbox_rows == []


def test_a_channel_that_is_down_is_said_and_nothing_is_recorded(
    client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    handoff_id = open_and_take(client, auth, agent)
    outbound.rasa_up = False
    down = client.post(f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "您好"}, headers=agent)
    assert down.status_code == 409 and down.json()["code"] == "bot_unavailable"
    assert client.get(f"/api/v1/handoffs/{handoff_id}/messages", headers=agent).status_code == 409


def test_a_request_to_erase_personal_data_is_a_handoff_reason_the_desk_can_read(
    client: TestClient, auth: dict, agent: dict
) -> None:
    """12.1: the bot hands an erasure request to a person, who checks who is asking; other reasons stay refused."""
    made = client.post("/api/v1/handoffs", json={"resident_openid": "oERASE", "reason": "erasure"}, headers=auth)
    assert made.status_code == 201 and made.json()["reason"] == "erasure"
    refused = client.post("/api/v1/handoffs", json={"resident_openid": "oERASE", "reason": "delete"}, headers=auth)
    assert refused.status_code == 422
