"""Outages (6.3.1), handoffs, the call-back survey and the KPIs of 14.4."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import FakeOutbound, FixedClock, act_ok, temperature_record, to_site

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


def test_a_notice_whose_hand_over_answer_was_lost_is_handed_over_again_under_the_same_key(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    """The bot kept the notice but its answer was lost: the backend cannot tell, hands it over again,
    and names it the same way both times, so the bot and the channel say it once (docs/wechat.md)."""
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    resident_in(client, auth, "oSUN2", "阳光小区5号楼1单元101")
    outbound.rasa_answers_lost = 1
    client.post("/api/v1/outages", json=OUTAGE, headers=supervisor)
    assert run_scheduler_once(client.app)["delivered"] == 1
    clock.advance(minutes=5)
    assert run_scheduler_once(client.app)["delivered"] == 1
    keys = [(c["path"].split("/")[2], c["body"]["entities"]["handover"]) for c in outbound.rasa_calls]
    assert len(keys) == 3 and keys[0] == keys[2] and keys[0][1] != keys[1][1]
    assert all(key.startswith("notification:") for _, key in keys)


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


def test_kpis_follow_the_formulas_of_14_4_on_a_hand_computed_season(
    client: TestClient, auth: dict, staff: Callable[[str], dict], clock: FixedClock
) -> None:
    """Every figure of 14.4 counted by hand over one month of the sample season (11-15 to 03-15)."""

    def order(**fields: object) -> dict:
        body = {"source": "wechat", "description": "x", **fields}
        created = client.post(ORDERS, json=body, headers=auth)
        assert created.status_code == 201, created.text
        return created.json()

    desk = {"agent": staff("agent"), "supervisor": staff("supervisor")}

    def act(order_id: int, action: str, who: str = "agent", **body: object) -> None:
        resp = client.post(f"{ORDERS}/{order_id}/actions/{action}", json=body or None, headers=desk[who])
        assert resp.status_code == 200, resp.text

    def called(order_id: int, process: bool, result: bool, method: str = "phone") -> None:
        act(order_id, "callback", method=method, process_satisfied=process, result_satisfied=result)

    # Q (14.4.2), each repair by the window the standard sets for it. r1 is on site in 20 minutes (10.2.4:
    # in time); r2 in 45 (late); r3, a leak answered in 10 minutes, is on site after 80 (10.2.3's hour
    # missed); r4 is there at its appointment next morning (in time), r5 3 minutes after it (late); r6 is
    # cancelled (left out); r7, filed just before the figures are read, is still inside its 30 minutes
    # (not yet due) -> n = 2 of N = 6, 1 pending.
    repair = {"kind": "repair", "category": "equipment"}
    booked = (clock.now + timedelta(days=1)).isoformat()
    r1, r2, r6 = order(**repair), order(**repair), order(**repair)
    r3 = order(kind="repair", category="leak")
    r4, r5 = order(**repair, appointment_at=booked), order(**repair, appointment_at=booked)
    act(r6["id"], "cancel", who="supervisor", note="居民撤回")
    clock.advance(minutes=10)
    act(r3["id"], "respond")
    clock.advance(minutes=10)
    to_site(client, desk["agent"], r1["id"])
    clock.advance(minutes=25)
    to_site(client, desk["agent"], r2["id"])
    clock.advance(minutes=35)
    act_ok(client, desk["agent"], r3["id"], "dispatch", "arrive")
    clock.advance(days=1, minutes=-80)
    desk.update(agent=staff("agent"), supervisor=staff("supervisor"))  # a new day's sessions
    to_site(client, desk["agent"], r4["id"])
    clock.advance(minutes=3)
    to_site(client, desk["agent"], r5["id"])

    # C (14.4.3): one figure over every household tested, each once by its latest test that counts. 501
    # fails then passes; 502 fails; a test without an address stands alone and passes; 503 was tested on a
    # day colder than the system's design minimum (5.1: left out); 504 passed, and a later test with the
    # windows open (5.4.6 c) is left out, so 18.6 stands -> 3/4
    tests = (
        ("阳光小区3号楼2单元501", 17.0, None),
        ("阳光小区3号楼2单元502", 17.5, None),
        (None, 20.0, None),
        ("阳光小区3号楼2单元503", 16.0, "outdoor_below_design"),
        ("阳光小区3号楼2单元504", 18.6, None),
        ("阳光小区3号楼2单元504", 17.2, "windows_open"),
        ("阳光小区3号楼2单元501", 18.5, None),
    )
    for address, temperature, excluded in tests:
        test = order(kind="temperature_test", category="room_temperature", address=address)
        to_site(client, desk["agent"], test["id"])
        act(test["id"], "complete", temperature_test=temperature_record(temperature, excluded=excluded))
        clock.advance(minutes=1)

    # Complaints: c1-c3 satisfied in parts; c4 unreasonable (out of T); c5 cancelled (out of all);
    # c6 finished after its 72-hour promise; c7 never called back; c8 repeats c1 and is called back
    # twice, the latest answer counting.
    c = {n: order(kind="complaint", category="service", resident_openid=f"oKPI{n}") for n in range(1, 8)}
    c[8] = order(kind="complaint", category="service", resident_openid="oKPI1")
    assert c[8]["repeat_complaint"] is True
    for n in (1, 2, 3, 4, 7, 8):
        act(c[n]["id"], "respond")
        act(c[n]["id"], "complete")
    for n, process, result in ((1, True, True), (2, True, False), (3, False, True), (4, True, True)):
        called(c[n]["id"], process, result)
    called(c[8]["id"], False, False, method="face_to_face")
    called(c[8]["id"], True, True)
    act(c[4]["id"], "mark_unreasonable", who="supervisor", reason="诉求为要求提前供暖，超出服务范围")
    act(c[5]["id"], "cancel", who="supervisor", note="重复登记")
    act(c[6]["id"], "respond")
    clock.advance(hours=73)
    desk.update(agent=staff("agent"), supervisor=staff("supervisor"))  # the morning's sessions have expired
    act(c[6]["id"], "complete")
    called(c[6]["id"], True, True)

    # S (14.4.1): a burst pipe for 10 h over 20,000 m2 counts; a power cut does not (3.6)
    for cause, hours, area in (("pipe_burst", 10, 20_000), ("power_outage", 5, 50_000)):
        outage = client.post(
            "/api/v1/outages",
            json={
                "communities": ["阳光小区"],
                "heated_area_m2": area,
                "started_at": "2026-12-05T08:00:00+08:00",
                "expected_restoration_at": "2026-12-05T20:00:00+08:00",
                "cause_code": cause,
                "repair_location": "文化路",
            },
            headers=desk["supervisor"],
        ).json()
        restored = f"2026-12-05T{8 + hours:02d}:00:00+08:00"
        patched = client.patch(
            f"/api/v1/outages/{outage['id']}", json={"restored_at": restored}, headers=desk["supervisor"]
        )
        assert patched.status_code == 200, patched.text

    order(**repair)  # r7
    period = {"start": "2026-12-01T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"}
    report = client.get("/api/v1/kpis", params=period, headers=desk["agent"]).json()
    figures = {k["name"]: (k["numerator"], k["denominator"]) for k in [*report["kpis"], *report["published"]]}
    figures["complaint_callback_coverage"] = (
        report["callback_coverage"]["numerator"],
        report["callback_coverage"]["denominator"],
    )
    season_hours = 121 * 24  # 2026-11-15 00:00 to 2027-03-16 00:00
    assert figures == {
        "accident_rate": (10 * 20_000, season_hours * 5_000_000),  # sample heated area
        "repair_response_rate": (2, 6),
        "room_temperature_compliance": (3, 4),
        # T = c1 c2 c3 c6 c7 c8; t: in time with the process satisfied = c1 c2 c8
        "complaint_process_satisfaction": (3, 6),
        # m: result satisfied = c1 c3 c6 c8
        "complaint_result_satisfaction": (4, 6),
        "complaint_on_time_rate": (5, 6),  # all but c6
        "complaint_completion_rate": (6, 6),
        # completed, not withdrawn: c1-c4 c6 c7 c8; called back within 3 days: all but c7
        "complaint_callback_coverage": (6, 7),
    }
    kpis = {k["name"]: k for k in report["kpis"]}
    assert kpis["repair_response_rate"]["met"] is False and kpis["accident_rate"]["met"] is True
    assert kpis["repair_response_rate"]["pending"] == 1 and kpis["repair_response_rate"]["value"] == 2 / 5
    assert kpis["room_temperature_compliance"]["met"] is False  # 75 % < 99 %
    assert kpis["complaint_result_satisfaction"]["target"] == "≥ 90%"
    assert all(p["met"] is None and p["target"] == "—" for p in report["published"])  # 14.4.6: no target
    bad = client.get("/api/v1/kpis", params={"start": period["end"], "end": period["start"]}, headers=desk["agent"])
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


def test_a_new_outage_in_an_area_told_this_season_is_announced_however_short(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    """6.3.1 "再次停热时应再次通知热用户": after a long outage was announced to 阳光小区, a 5-hour one there is
    announced too (and needs a supervisor); one in 和平小区, never told, is not."""
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    resident_in(client, auth, "oPEACE1", "和平小区1号楼1单元101")
    long = client.post("/api/v1/outages", json=OUTAGE, headers=supervisor).json()
    assert long["notified_at"] is not None
    restored = {"restored_at": "2026-12-10T09:30:00+08:00"}
    assert client.patch(f"/api/v1/outages/{long['id']}", json=restored, headers=supervisor).status_code == 200
    clock.advance(hours=3)
    run_scheduler_once(client.app)
    told_before = len(outbound.rasa_calls)
    short = {
        **OUTAGE,
        "started_at": "2026-12-10T12:30:00+08:00",
        "expected_restoration_at": "2026-12-10T17:30:00+08:00",
    }
    preview = client.post("/api/v1/outages/preview", json=short, headers=agent).json()
    assert preview["notifies"] and preview["message"].startswith("【再次停热通知】") and preview["recipients"] == 1
    assert client.post("/api/v1/outages", json=short, headers=agent).status_code == 403  # it tells residents
    again = client.post("/api/v1/outages", json=short, headers=supervisor).json()
    assert again["notified_at"] is not None
    elsewhere = client.post("/api/v1/outages", json={**short, "communities": ["和平小区"]}, headers=agent)
    assert elsewhere.status_code == 201 and elsewhere.json()["notified_at"] is None  # 和平小区 was never told
    run_scheduler_once(client.app)
    sent = [c["body"]["entities"]["message"] for c in outbound.rasa_calls[told_before:]]
    assert [c["path"] for c in outbound.rasa_calls[told_before:]] == ["/conversations/oSUN1/trigger_intent"]
    assert sent[0].startswith("【再次停热通知】") and "阳光小区" in sent[0]


def test_a_short_outage_that_lasts_over_a_day_is_announced_then(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    resident_in(client, auth, "oSUN1", "阳光小区3号楼2单元501")
    short = {**OUTAGE, "expected_restoration_at": "2026-12-10T20:00:00+08:00"}  # started 08:00, entered 10:00
    assert client.post("/api/v1/outages", json=short, headers=agent).json()["notified_at"] is None
    clock.advance(hours=10, minutes=1)  # 20:01: overran, under 24 h: staff only
    assert run_scheduler_once(client.app)["outage_notices"] == 1  # type: ignore[arg-type]
    assert outbound.rasa_calls == []
    clock.advance(hours=12)  # 08:01 next day: over 24 h since the start typed, not since it was entered
    assert run_scheduler_once(client.app)["outage_notices"] == 0  # type: ignore[arg-type]
    clock.advance(hours=2)  # 10:01: a day on record, still not restored
    assert run_scheduler_once(client.app)["outage_notices"] == 1  # type: ignore[arg-type]
    assert outbound.rasa_calls[-1]["body"]["entities"]["message"].startswith("【停热超时通知】")
