"""Outages (6.3.1), handoffs, the call-back survey and the KPIs of 14.4."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import FakeOutbound, FixedClock, to_site

ORDERS = "/api/v1/work-orders"


def resident_in(client: TestClient, auth: dict, openid: str, address: str) -> None:
    body = {
        "kind": "consultation",
        "category": "other",
        "source": "wechat",
        "description": "咨询",
        "resident_openid": openid,
        "address": address,
    }
    assert client.post(ORDERS, json=body, headers=auth).status_code == 201


OUTAGE = {
    "communities": ["阳光小区"],
    "heated_area_m2": 120000,
    "started_at": "2026-12-10T08:00:00+08:00",
    "expected_restoration_at": "2026-12-11T12:00:00+08:00",
    "cause_code": "pipe_burst",
    "cause_note": "一次网爆管",
    "repair_location": "文化路与青岛路交叉口",
}


def test_long_outage_notifies_its_residents_through_the_bot_and_again_when_extended(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    resident_in(client, auth, "oSUN2", "阳光小区5号楼1单元101")
    resident_in(client, auth, "oELSE", "幸福家园 3-2-501")
    outage = client.post("/api/v1/outages", json=OUTAGE, headers=supervisor).json()
    assert outage["notified_at"] is not None
    run_scheduler_once(client.app)
    sent = sorted((c["path"], c["params"]["output_channel"], c["body"]["name"]) for c in outbound.rasa_calls)
    assert sent == [
        ("/conversations/oSUN1/trigger_intent", "wechat", "EXTERNAL_outage_notice"),
        ("/conversations/oSUN2/trigger_intent", "wechat", "EXTERNAL_outage_notice"),
    ]
    assert "供热管网突发漏水抢修（一次网爆管）" in outbound.rasa_calls[0]["body"]["entities"]["message"]
    assert "12月11日12:00" in outbound.rasa_calls[0]["body"]["entities"]["message"]

    client.patch(
        f"/api/v1/outages/{outage['id']}",
        json={"expected_restoration_at": "2026-12-12T18:00:00+08:00"},
        headers=supervisor,
    )
    run_scheduler_once(client.app)
    assert len(outbound.rasa_calls) == 4
    assert "停热延长通知" in outbound.rasa_calls[-1]["body"]["entities"]["message"]
    # a save without a new time notifies nobody again
    client.patch(f"/api/v1/outages/{outage['id']}", json={"cause_note": "已定位漏点"}, headers=supervisor)
    run_scheduler_once(client.app)
    assert len(outbound.rasa_calls) == 4
    active = client.get("/api/v1/outages", params={"community": "阳光小区"}, headers=auth).json()["items"]
    assert [o["id"] for o in active] == [outage["id"]]
    assert client.get("/api/v1/outages", params={"community": "幸福家园"}, headers=auth).json()["items"] == []


def test_short_outage_notifies_nobody(client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound) -> None:
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    body = {**OUTAGE, "expected_restoration_at": "2026-12-10T20:00:00+08:00"}
    assert client.post("/api/v1/outages", json=body, headers=agent).json()["notified_at"] is None
    run_scheduler_once(client.app)
    assert outbound.rasa_calls == []


def test_notice_waits_while_the_bot_is_down(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    outbound.rasa_up = False
    client.post("/api/v1/outages", json=OUTAGE, headers=supervisor)
    assert run_scheduler_once(client.app)["delivered"] == 0
    outbound.rasa_up = True
    clock.advance(minutes=5)
    assert run_scheduler_once(client.app)["delivered"] == 1


def test_outage_with_restoration_before_start_is_refused(client: TestClient, supervisor: dict) -> None:
    body = {**OUTAGE, "expected_restoration_at": "2026-12-09T08:00:00+08:00"}
    resp = client.post("/api/v1/outages", json=body, headers=supervisor)
    assert resp.status_code == 422 and resp.json()["field"] == "expected_restoration_at"


def test_handoff_is_opened_once_taken_and_closed_resuming_the_bot(
    client: TestClient, auth: dict, outbound: FakeOutbound, staff: object
) -> None:
    body = {"resident_openid": "oANGRY", "reason": "anger", "summary": "说要打12345"}
    first = client.post("/api/v1/handoffs", json=body, headers=auth)
    again = client.post("/api/v1/handoffs", json=body, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    agent = staff("agent")  # type: ignore[operator]
    waiting = client.get("/api/v1/handoffs", params={"status": "waiting"}, headers=agent).json()
    assert [h["resident_openid"] for h in waiting["items"]] == ["oANGRY"]
    taken = client.post(f"/api/v1/handoffs/{first.json()['id']}/take", headers=agent).json()
    assert taken["status"] == "active" and taken["taken_by"].startswith("staff:agent-")

    outbound.rasa_up = False
    down = client.post(f"/api/v1/handoffs/{first.json()['id']}/close", headers=agent)
    assert down.status_code == 409 and down.json()["code"] == "bot_unavailable"
    outbound.rasa_up = True
    closed = client.post(f"/api/v1/handoffs/{first.json()['id']}/close", headers=agent).json()
    assert closed["status"] == "closed"
    assert outbound.rasa_calls[-1]["path"] == "/conversations/oANGRY/tracker/events"
    assert outbound.rasa_calls[-1]["body"][0] == {"event": "resume"}
    assert [e["event"] for e in outbound.rasa_calls[-1]["body"][1:]] == ["session_started", "action"]


def test_callback_survey_is_started_by_the_bot(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    order = client.post(
        ORDERS,
        json={
            "kind": "complaint",
            "category": "service",
            "source": "wechat",
            "description": "态度差",
            "resident_openid": "oSURVEY",
        },
        headers=auth,
    ).json()
    client.post(f"{ORDERS}/{order['id']}/actions/respond", headers=agent)
    client.post(f"{ORDERS}/{order['id']}/actions/complete", headers=agent)
    task = client.get("/api/v1/callbacks", params={"status": "open"}, headers=agent).json()["items"][0]
    assert client.post(f"/api/v1/callbacks/{task['id']}/survey", headers=agent).status_code == 403
    sent = client.post(f"/api/v1/callbacks/{task['id']}/survey", headers=supervisor).json()
    assert sent["survey_sent_at"] is not None
    assert outbound.rasa_calls[-1]["path"] == "/conversations/oSURVEY/trigger_intent"
    assert outbound.rasa_calls[-1]["body"] == {
        "name": "EXTERNAL_callback_survey",
        "entities": {"order_number": order["number"], "order_id": order["id"]},
    }


def test_kpis_follow_the_formulas_of_14_4(client: TestClient, auth: dict, agent: dict, clock: FixedClock) -> None:
    def order(**fields: object) -> dict:
        body = {"source": "wechat", "description": "x", **fields}
        return client.post(ORDERS, json=body, headers=auth).json()

    def act(order_id: int, action: str, **body: object) -> None:
        resp = client.post(f"{ORDERS}/{order_id}/actions/{action}", json=body or None, headers=agent)
        assert resp.status_code == 200, resp.text

    fast = order(kind="repair", category="equipment")
    slow = order(kind="repair", category="equipment")
    act(fast["id"], "respond")
    clock.advance(minutes=40)
    act(slow["id"], "respond")  # late: 40 minutes
    for temperature in (18.0, 19.5, 17.2, 20.0):
        test = order(kind="temperature_test", category="room_temperature")
        to_site(client, agent, test["id"])
        act(test["id"], "complete", measured_temperature=temperature)
    for i, (process, result) in enumerate(((True, True), (True, False), (False, True), (True, True))):
        complaint = order(kind="complaint", category="service", resident_openid=f"oKPI{i}")
        act(complaint["id"], "respond")
        act(complaint["id"], "complete")
        act(complaint["id"], "callback", method="phone", process_satisfied=process, result_satisfied=result)
    uncalled = order(kind="complaint", category="billing", resident_openid="oNOCALL")
    act(uncalled["id"], "respond")
    act(uncalled["id"], "complete")

    report = client.get(
        "/api/v1/kpis", params={"start": "2026-12-01T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"}, headers=agent
    ).json()
    kpis = {k["name"]: k for k in report["kpis"]}
    assert (kpis["repair_response_rate"]["numerator"], kpis["repair_response_rate"]["denominator"]) == (1, 2)
    assert kpis["repair_response_rate"]["met"] is False
    assert kpis["room_temperature_compliance"]["value"] == 0.75  # 17.2 °C fails 5.1
    assert kpis["complaint_process_satisfaction"]["value"] == 0.75
    assert kpis["complaint_result_satisfaction"]["value"] == 0.75
    assert kpis["complaint_result_satisfaction"]["target"] == "≥ 90%"
    assert kpis["accident_rate"]["value"] == 0 and kpis["accident_rate"]["met"] is True
    assert (report["callback_coverage"]["numerator"], report["callback_coverage"]["denominator"]) == (4, 5)
    bad = client.get(
        "/api/v1/kpis", params={"start": "2027-01-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}, headers=agent
    )
    assert bad.status_code == 422


def test_an_outage_past_its_time_alerts_staff_and_tells_residents_again(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    """6.3.1: "超时停热时应再次通知", detected by the scheduler, not left to staff."""
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    client.post("/api/v1/outages", json=OUTAGE, headers=supervisor)  # expected 12-11 12:00, notified
    run_scheduler_once(client.app)
    assert len(outbound.rasa_calls) == 1
    clock.advance(hours=26, minutes=1)  # 12-11 12:01 in Beijing: past the expected restoration
    assert run_scheduler_once(client.app)["outage_notices"] == 2  # type: ignore[arg-type]  # staff + 1 resident
    assert run_scheduler_once(client.app)["outage_notices"] == 0  # type: ignore[arg-type]  # once per time
    told = outbound.rasa_calls[-1]["body"]["entities"]["message"]
    assert told.startswith("【停热超时通知】") and "12月11日12:00" in told and "再次通知" in told
    alerts = client.get("/api/v1/notifications", params={"kind": "outage_overrun"}, headers=auth).json()
    assert len(alerts["items"]) == 1 and "已超过预计恢复时间" in alerts["items"][0]["message"]


def test_a_short_outage_that_lasts_over_a_day_is_announced_then(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    short = {**OUTAGE, "expected_restoration_at": "2026-12-10T20:00:00+08:00"}
    assert client.post("/api/v1/outages", json=short, headers=agent).json()["notified_at"] is None
    clock.advance(hours=10, minutes=1)  # 20:01: overran, under 24 h: staff only
    assert run_scheduler_once(client.app)["outage_notices"] == 1  # type: ignore[arg-type]
    assert outbound.rasa_calls == []
    clock.advance(hours=12)  # 08:01 next day: over 24 h since it started
    assert run_scheduler_once(client.app)["outage_notices"] == 1  # type: ignore[arg-type]
    assert outbound.rasa_calls[-1]["body"]["entities"]["message"].startswith("【停热超时通知】")
