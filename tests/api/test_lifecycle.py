"""A work order's life under the state machine, with its audit trail and the standard's rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import Browser, FakeOutbound, FixedClock, act, to_site

ORDERS = "/api/v1/work-orders"
LEAK = {
    "kind": "repair",
    "category": "leak",
    "source": "wechat",
    "description": "暖气片接口漏水",
    "resident_openid": "oLEAK",
    "phone": "13800138000",
    "address": "阳光小区3号楼2单元501",
}


def create(client: TestClient, auth: dict, **fields: object) -> dict:
    resp = client.post(ORDERS, json={**LEAK, **fields}, headers=auth)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_leak_repair_runs_its_whole_course_and_every_step_is_audited(
    client: TestClient, auth: dict, clock: FixedClock, staff: Callable
) -> None:
    agent = staff("agent")
    order = create(client, auth)
    assert order["urgent"] is True  # 10.2.3
    accepted = datetime.fromisoformat(order["accepted_at"])
    assert datetime.fromisoformat(order["handle_due_at"]) == accepted + timedelta(hours=1)
    assert datetime.fromisoformat(order["arrival_due_at"]) == accepted + timedelta(minutes=30)
    assert (order["community"], order["building"], order["unit"], order["room"]) == ("阳光小区", "3", "2", "501")

    clock.advance(minutes=5)
    assert act(client, agent, order["id"], "respond", note="已电话联系住户").status_code == 200
    assert act(client, agent, order["id"], "dispatch", technician="王师傅", note="派维修班组").status_code == 200
    clock.advance(minutes=20)
    arrived = act(client, agent, order["id"], "arrive").json()
    assert arrived["status"] == "arrived"
    clock.advance(minutes=30)
    done = act(client, agent, order["id"], "complete", result="更换垫片，已不漏").json()
    assert done["status"] == "completed"
    # 10.1.6: call back by the end of the 3rd day after completion (2026-12-10 in Shanghai -> 13th)
    assert done["callback_due_at"].startswith("2026-12-13T15:59:59")
    called = act(
        client, agent, order["id"], "callback", method="phone", process_satisfied=True, result_satisfied=True
    ).json()
    assert called["status"] == "called_back"
    assert act(client, agent, order["id"], "close").json()["status"] == "closed"

    events = client.get(f"{ORDERS}/{order['id']}/events", headers=auth).json()
    assert [e["action"] for e in events] == ["accept", "respond", "dispatch", "arrive", "complete", "callback", "close"]
    assert events[1]["actor"].startswith("staff:agent-") and events[1]["note"] == "已电话联系住户"
    assert events[0]["actor"] == "machine"
    assert [e["to_status"] for e in events][-1] == "closed"
    # every deadline was met, so nothing is due any more
    assert client.get(f"{ORDERS}/{order['id']}", headers=auth).json()["next_due_at"] is None


def test_action_the_state_machine_does_not_allow_is_409_with_the_reason(
    client: TestClient, auth: dict, agent: dict
) -> None:
    order = create(client, auth)
    resp = act(client, agent, order["id"], "complete")
    assert resp.status_code == 409
    assert resp.json()["code"] == "transition_not_allowed"
    # what the order allows now, and only that (a repair is not judged reasonable or not: 14.4.4)
    assert resp.json()["message"] == "工单已受理，不能完成；现在可以：响应、回退、延期、撤销、调整办结时间"


def test_repair_cannot_be_completed_without_going_on_site(client: TestClient, auth: dict, agent: dict) -> None:
    order = create(client, auth)
    act(client, agent, order["id"], "respond")
    resp = act(client, agent, order["id"], "complete")
    assert resp.status_code == 409 and "先派工、到场，再完成" in resp.json()["message"]


def test_paid_repair_quote_must_be_confirmed_before_completion(client: TestClient, auth: dict, agent: dict) -> None:
    order = create(client, auth, category="equipment")
    to_site(client, agent, order["id"])
    quoted = act(
        client,
        agent,
        order["id"],
        "quote",
        quote_items=[{"item": "更换暖气阀门", "material": "DN20铜阀", "quantity": 2, "price": "45.50"}],
    ).json()
    assert quoted["quote_total"] == "91.00"
    refused = act(client, agent, order["id"], "complete")
    assert refused.status_code == 409 and "10.2.2" in refused.json()["message"]
    # the resident confirms, through the bot; staff may not confirm for them
    assert act(client, agent, order["id"], "confirm_quote", note="住户签字确认").status_code == 403
    assert act(client, auth, order["id"], "confirm_quote", resident_openid="oSOMEONE").status_code == 404
    assert act(client, auth, order["id"], "confirm_quote", resident_openid="oLEAK").status_code == 200
    assert act(client, agent, order["id"], "complete").json()["status"] == "completed"


def test_return_needs_a_supervisor_and_a_contact_note(client: TestClient, auth: dict, staff: Callable) -> None:
    order = create(client, auth, kind="complaint", category="service", source="city_hotline", resident_openid=None)
    agent, supervisor = staff("agent"), staff("supervisor")
    assert act(client, agent, order["id"], "return", note="非我司供热区域").status_code == 403
    missing = act(client, supervisor, order["id"], "return")
    assert missing.status_code == 422 and missing.json()["field"] == "note"
    returned = act(client, supervisor, order["id"], "return", note="已与住户联系，非我司供热区域")
    assert returned.json()["status"] == "returned"


def test_city_hotline_extension_once_with_a_reason(
    client: TestClient, auth: dict, clock: FixedClock, staff: Callable
) -> None:
    supervisor = staff("supervisor")
    order = create(
        client,
        auth,
        kind="complaint",
        category="room_temperature",
        source="city_hotline",
        accepted_at="2026-12-07T09:00:00+08:00",
        resident_openid=None,
    )
    assert order["reply_due_at"] == "2026-12-14T15:59:59Z"  # 5 working days
    act(client, supervisor, order["id"], "respond")
    no_reason = act(client, supervisor, order["id"], "extend", working_days=10)
    assert no_reason.status_code == 422
    extended = act(client, supervisor, order["id"], "extend", working_days=10, reason="管网改造，需协调施工")
    assert extended.status_code == 200, extended.text
    assert extended.json()["reply_due_at"] == "2026-12-28T15:59:59Z"  # +10 working days from 14 Dec
    assert extended.json()["extended"] is True
    again = act(client, supervisor, order["id"], "extend", working_days=1, reason="再次")
    assert again.status_code == 409 and "only once" in again.json()["message"]


def test_repeat_complaint_is_flagged_and_called_back_face_to_face(client: TestClient, auth: dict, agent: dict) -> None:
    body = {
        "kind": "complaint",
        "category": "room_temperature",
        "resident_openid": "oREPEAT",
        "address": "幸福家园 3-2-501",
        "description": "屋里冷",
    }
    first = create(client, auth, **body)
    second = create(client, auth, **body)
    other_category = create(client, auth, **{**body, "category": "billing"})
    assert (first["repeat_complaint"], second["repeat_complaint"], other_category["repeat_complaint"]) == (
        False,
        True,
        False,
    )
    act(client, agent, second["id"], "respond")
    act(client, agent, second["id"], "complete")
    by_phone = act(
        client, agent, second["id"], "callback", method="phone", process_satisfied=True, result_satisfied=True
    )
    assert by_phone.status_code == 422  # 10.1.7
    tasks = client.get("/api/v1/callbacks?status=open", headers=agent).json()["items"]
    # 10.1.7 加大回访: face to face within 3 days, then a further call-back 7 days later (sample promise)
    mine = sorted((t for t in tasks if t["order_id"] == second["id"]), key=lambda t: t["due_at"])
    assert [(t["face_to_face_required"], t["due_at"]) for t in mine] == [
        (True, "2026-12-13T15:59:59Z"),
        (False, "2026-12-20T15:59:59Z"),
    ]
    face = act(
        client, agent, second["id"], "callback", method="face_to_face", process_satisfied=True, result_satisfied=False
    )
    assert face.json()["status"] == "called_back" and face.json()["callback_due_at"] == "2026-12-20T15:59:59Z"
    early_close = act(client, agent, second["id"], "close")
    assert early_close.status_code == 409 and "10.1.7" in early_close.json()["message"]
    again = act(client, agent, second["id"], "callback", method="phone", process_satisfied=True, result_satisfied=True)
    assert again.status_code == 200 and again.json()["next_due_at"] is None
    assert act(client, agent, second["id"], "close").json()["status"] == "closed"
    assert act(client, agent, second["id"], "callback", method="phone").status_code in (409, 422)


def test_business_request_is_decided_when_accepted(client: TestClient, auth: dict, agent: dict) -> None:
    order = create(
        client,
        auth,
        kind="business",
        category="other",
        source="counter",
        description="申请报装",
        business_type="apply_connection",
        external_works=False,
    )
    # sample operator file: decision within 1 day; 9.1.4: done within 1 day without external works
    assert order["decision_due_at"] == "2026-12-11T15:59:59Z"
    assert order["completion_due_at"] == "2026-12-11T15:59:59Z"
    assert order["arrival_due_at"] is None and order["reply_due_at"] is None
    accepted = act(client, agent, order["id"], "respond", note="材料齐全，予以受理").json()
    assert accepted["next_due_at"] == "2026-12-11T15:59:59Z"  # completion is still open


@pytest.mark.parametrize(
    ("business_type", "word", "completion"),
    [("open_account", "开户", "2026-12-13T15:59:59Z"), ("close_account", "销户", "2026-12-15T15:59:59Z")],
)
def test_opening_or_closing_an_account_is_a_business_request_with_the_companys_promise(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], business_type: str, word: str, completion: str
) -> None:
    """开户 and 销户 (7.5): decided within the promised day and finished within the promised days (9.1.2; the
    sample operator file promises 3 days to open and 5 to close), named in the console by their words."""
    order = create(
        client, auth, kind="business", category="other", business_type=business_type, description=f"申请{word}"
    )
    assert order["business_type"] == business_type
    assert order["decision_due_at"] == "2026-12-11T15:59:59Z" and order["completion_due_at"] == completion
    assert order["arrival_due_at"] is None and order["reply_due_at"] is None
    page = browser("agent").get(f"/console/orders/{order['id']}").text
    assert f"<th>业务</th><td>{word}</td>" in page and "9.1.2" in page


def test_leak_is_urgent_even_when_the_client_does_not_say_so(client: TestClient, auth: dict) -> None:
    assert create(client, auth, urgent=False)["urgent"] is True


def test_accepted_at_in_the_future_is_refused(client: TestClient, auth: dict) -> None:
    resp = client.post(ORDERS, json={**LEAK, "accepted_at": "2027-01-01T00:00:00+08:00"}, headers=auth)
    assert resp.status_code == 422 and resp.json()["field"] == "accepted_at"


def test_invalid_phone_is_refused_and_names_the_field(client: TestClient, auth: dict) -> None:
    resp = client.post(ORDERS, json={**LEAK, "phone": "12345"}, headers=auth)
    assert resp.status_code == 422 and resp.json()["field"] == "phone"


def test_landline_and_mobile_numbers_are_accepted(client: TestClient, auth: dict) -> None:
    for phone in ("0631-0001234", "13912345678", "+86 139 1234 5678"):
        assert client.post(ORDERS, json={**LEAK, "phone": phone}, headers=auth).status_code == 201, phone


def test_status_warns_about_next_year_missing_from_the_calendar(client: TestClient, auth: dict) -> None:
    order = create(
        client,
        auth,
        kind="complaint",
        category="room_temperature",
        source="city_hotline",
        accepted_at="2026-12-09T10:00:00+08:00",
        resident_openid=None,
    )
    # 5 working days from 9 Dec 2026 stay inside 2026, which the package knows
    assert order["calendar_uncertain"] is False
    assert order["reply_due_at"] == "2026-12-16T15:59:59Z"
    status = client.get("/api/v1/status", headers=auth).json()
    assert status["status"] == "warning"
    assert status["calendar"]["uncovered_years"] == [2027]
    assert status["calendar"]["uncertain_orders"] == []
    assert any("2027" in w for w in status["warnings"])
    assert status["operator_config"]["sample"] is True


def test_order_across_the_year_boundary_is_calendar_uncertain(
    client: TestClient, auth: dict, clock: FixedClock
) -> None:
    clock.now = datetime.fromisoformat("2026-12-30T10:00:00+08:00")
    order = create(
        client, auth, kind="complaint", category="room_temperature", source="city_hotline", resident_openid=None
    )
    assert order["calendar_uncertain"] is True
    assert client.get("/api/v1/status", headers=auth).json()["calendar"]["uncertain_orders"] == [order["number"]]


def test_list_filters_by_resident_status_source_and_overdue(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    complaint = {"kind": "complaint", "category": "room_temperature", "description": "屋里冷"}
    mine = create(client, auth, resident_openid="oMINE", **complaint)
    other = create(client, auth, resident_openid="oOTHER", **complaint)
    hotline = create(client, auth, kind="complaint", category="service", source="city_hotline", resident_openid=None)
    act(client, agent, mine["id"], "respond")

    listed = client.get(ORDERS, params={"resident_openid": "oMINE"}, headers=auth).json()
    assert [o["id"] for o in listed["items"]] == [mine["id"]] and listed["total"] == 1
    accepted = client.get(ORDERS, params={"status": "accepted"}, headers=agent).json()
    assert {o["id"] for o in accepted["items"]} == {other["id"], hotline["id"]}
    by_source = client.get(ORDERS, params={"source": "city_hotline"}, headers=agent).json()
    assert [o["id"] for o in by_source["items"]] == [hotline["id"]]
    assert client.get(ORDERS, params={"overdue": "true"}, headers=agent).json()["total"] == 0
    clock.advance(minutes=31)  # the two unanswered orders missed their 30-minute response window
    overdue = client.get(ORDERS, params={"overdue": "true"}, headers=agent).json()
    assert {o["id"] for o in overdue["items"]} == {other["id"], hotline["id"]}
    # the bot reads one resident's orders, never the whole list
    assert client.get(ORDERS, params={"status": "accepted"}, headers=auth).status_code == 422
    soon = client.get(ORDERS, params={"due_before": "2026-12-31T00:00:00+08:00"}, headers=agent).json()
    # the responded complaint still has its promised completion (10.1.4 办结条) ahead
    assert {o["id"] for o in soon["items"]} == {mine["id"], other["id"], hotline["id"]}


def test_known_resident_is_remembered_by_openid(client: TestClient, auth: dict) -> None:
    create(client, auth, resident_openid="oKNOWN", phone="13900001111", address="华夏小区5号楼1单元301")
    resident = client.get("/api/v1/residents/oKNOWN", headers=auth).json()
    assert resident["phone"] == "13900001111"
    assert resident["addresses"][0]["community"] == "华夏小区"
    assert client.get("/api/v1/residents/oNOBODY", headers=auth).status_code == 404


def test_grid_worker_orders_name_a_registered_grid_worker(client: TestClient, auth: dict, supervisor: dict) -> None:
    body = {**LEAK, "source": "grid_worker", "forwarded_by_openid": "oGRID", "resident_openid": None}
    unknown = client.post(ORDERS, json=body, headers=auth)
    assert unknown.status_code == 422 and unknown.json()["field"] == "forwarded_by_openid"
    registered = client.post(
        "/api/v1/grid-workers",
        json={"openid": "oGRID", "name": "王网格", "communities": ["阳光小区"]},
        headers=supervisor,
    )
    assert registered.status_code == 201
    assert client.post(ORDERS, json=body, headers=auth).status_code == 201
    assert client.get("/api/v1/grid-workers/oGRID", headers=auth).json()["communities"] == ["阳光小区"]
    listed = client.get(ORDERS, params={"community": "阳光小区"}, headers=auth).json()
    assert listed["total"] == 1


def test_staff_login_roles_and_tokens(client: TestClient, auth: dict, staff: Callable) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert wrong.status_code == 401
    agent = staff("agent")
    assert client.get("/api/v1/auth/me", headers=agent).json()["role"] == "agent"
    forbidden = client.post(
        "/api/v1/staff-users",
        json={"username": "x1", "display_name": "x", "role": "admin", "password": "password1"},
        headers=agent,
    )
    assert forbidden.status_code == 403
    admin = staff("admin")
    assert (
        client.post(
            "/api/v1/staff-users",
            json={"username": "x1", "display_name": "x", "role": "agent", "password": "password1"},
            headers=admin,
        ).status_code
        == 201
    )
    assert client.post("/api/v1/auth/logout", headers=agent).status_code == 204
    assert client.get("/api/v1/auth/me", headers=agent).status_code == 401


def test_a_repeat_complaint_is_recognised_across_channels(client: TestClient, auth: dict, agent: dict) -> None:
    """10.1.7 was matched only by WeChat user: the same household calling the hotline, or the counter
    with the same home, was a first complaint again."""
    first = {
        "kind": "complaint",
        "category": "room_temperature",
        "source": "wechat",
        "resident_openid": "oHOUSE",
        "phone": "13800138000",
        "address": "阳光小区3号楼2单元501",
        "description": "屋里冷",
    }
    assert create(client, auth, **first)["repeat_complaint"] is False
    # the same person about another home they heat: another household
    other_home = {**first, "address": "和平小区1号楼1单元101"}
    assert create(client, auth, **other_home)["repeat_complaint"] is False
    by_hotline = {
        **first,
        "source": "city_hotline",
        "resident_openid": None,
        "phone": "+86 13800138000",
        "address": None,
        "external_reference": "H-1",
    }
    assert create(client, auth, **by_hotline)["repeat_complaint"] is True
    at_the_counter = {
        **first,
        "source": "counter",
        "resident_openid": None,
        "phone": "13900139000",
        "address": "阳光小区3号楼501",
    }
    assert create(client, auth, **at_the_counter)["repeat_complaint"] is True


def test_a_repair_gets_its_promised_completion_and_a_new_time_is_told_to_the_resident(
    client: TestClient, auth: dict, staff: Callable, clock: FixedClock, outbound: FakeOutbound
) -> None:
    """10.1.4 (办结条), 4.4: finished within the promise; if not, the reason and a new time, both told."""
    agent = staff("agent")
    order = create(client, auth, resident_openid="oPROMISE")
    # the sample operator file promises a leak repair in 4 hours
    accepted = datetime.fromisoformat(order["accepted_at"])
    assert datetime.fromisoformat(order["completion_due_at"]) - accepted == timedelta(hours=4)
    act(client, agent, order["id"], "respond")
    new_time = "2026-12-11T12:00:00+08:00"
    no_reason = act(client, agent, order["id"], "reschedule", promised_at=new_time)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    phone_in_reason = act(client, agent, order["id"], "reschedule", promised_at=new_time, reason="请致电13800138000")
    assert phone_in_reason.status_code == 422 and phone_in_reason.json()["field"] == "reason"
    earlier = act(client, agent, order["id"], "reschedule", promised_at=order["accepted_at"], reason="待料")
    assert earlier.status_code == 422 and earlier.json()["field"] == "promised_at"
    moved = act(client, agent, order["id"], "reschedule", promised_at=new_time, reason="需更换的阀门明早到货")
    assert moved.status_code == 200 and moved.json()["completion_due_at"] == "2026-12-11T04:00:00Z"
    run_scheduler_once(client.app)
    told = outbound.rasa_calls[-1]["body"]["entities"]["message"]
    assert told.startswith("【办结时间调整】") and "需更换的阀门明早到货" in told and "12月11日12:00" in told
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=agent).json()
    assert events[-1]["data"]["late"] is False and events[-1]["data"]["resident_told"] is True
    clock.advance(days=1, hours=3)  # past the new time: moving it again now is recorded as late
    agent = staff("agent")
    late = act(client, agent, order["id"], "reschedule", promised_at="2026-12-12T12:00:00+08:00", reason="管件仍未到货")
    assert late.status_code == 200
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=agent).json()
    assert events[-1]["data"]["late"] is True


def test_a_business_request_not_accepted_is_told_the_reason_and_a_suggestion(
    client: TestClient, auth: dict, staff: Callable, outbound: FakeOutbound
) -> None:
    """9.1.2: 不能受理的，应告知原因和解决建议."""
    supervisor = staff("supervisor")
    order = create(
        client,
        auth,
        kind="business",
        category="other",
        business_type="stop_heating",
        description="申请报停",
        resident_openid="oREFUSED",
    )
    bare = act(client, supervisor, order["id"], "cancel", note="材料不全")
    assert bare.status_code == 422 and bare.json()["field"] == "reason"
    refused = act(
        client,
        supervisor,
        order["id"],
        "cancel",
        reason="缺少不动产权证书",
        suggestion="请携带不动产权证书到营业厅补交后重新申请",
    )
    assert refused.status_code == 200 and refused.json()["status"] == "cancelled"
    assert refused.json()["decision_due_at"] is not None  # the decision deadline is met by the refusal
    run_scheduler_once(client.app)
    told = outbound.rasa_calls[-1]["body"]["entities"]["message"]
    assert told.startswith("【业务受理结果】") and "缺少不动产权证书" in told and "营业厅补交" in told


def test_a_complaint_whose_cause_is_not_the_companys_is_explained_to_the_complainant(
    client: TestClient, auth: dict, staff: Callable, outbound: FakeOutbound
) -> None:
    """10.1.4 (办结条): 因非供热经营企业原因无法处理的，应向投诉人做出解释."""
    supervisor = staff("supervisor")
    complaint = create(client, auth, kind="complaint", category="service", resident_openid="oNOTOURS")
    with_link = act(
        client, supervisor, complaint["id"], "cancel", note="非我司原因", explanation="详见 http://example.com"
    )
    assert with_link.status_code == 422 and with_link.json()["field"] == "explanation"  # it is sent: plain words
    explained = act(
        client,
        supervisor,
        complaint["id"],
        "cancel",
        note="楼内私改管道",
        explanation="室温低是楼内住户私自改动共用管道所致，请联系物业恢复",
    )
    assert explained.status_code == 200 and explained.json()["status"] == "cancelled"
    run_scheduler_once(client.app)
    told = outbound.rasa_calls[-1]
    assert told["path"] == "/conversations/oNOTOURS/trigger_intent"
    message = told["body"]["entities"]["message"]
    assert message.startswith("【投诉处理说明】") and "私自改动共用管道" in message and complaint["number"] in message
    events = client.get(f"/api/v1/work-orders/{complaint['id']}/events", headers=supervisor).json()
    assert events[-1]["data"]["resident_told"] is True
    repair = create(client, auth, kind="repair", category="equipment", resident_openid="oNOTOURS")
    not_a_complaint = act(client, supervisor, repair["id"], "cancel", note="x", explanation="不是我们的原因")
    assert not_a_complaint.status_code == 422 and not_a_complaint.json()["field"] == "explanation"
