"""The console's call-back list (10.1.6, 10.1.7) and outage screens (6.3.1), by role."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import StaffAudit
from tests.api.conftest import Browser, FakeOutbound, FixedClock, act_ok

COMPLAINT = {
    "kind": "complaint",
    "category": "room_temperature",
    "source": "wechat",
    "resident_openid": "oResident-0001",
    "address": "阳光小区3号楼2单元501",
    "description": "屋里冷",
}


def test_call_backs_due_today_and_overdue_with_repeat_complaints_face_to_face(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    first = client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth).json()
    second = client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth).json()
    act_ok(client, agent, first["id"], "respond", "complete")
    act_ok(client, agent, second["id"], "respond", "complete")
    b = browser("agent")
    # Completed 12-10 10:00 Beijing: due 12-13 23:59:59, so not yet due today; the repeat complaint has
    # a further call-back 7 days after its first (the sample's promises.repeat_complaint_followup_days).
    page = b.get("/console/callbacks").text
    # none due today: all three listed as not yet due, so a survey can go out at once
    assert page.count('<span class="muted">未到期</span>') == 3 and 'tag warn">今天到期' not in page
    assert first["number"] in page and second["number"] in page
    clock.advance(days=3)  # the morning's session has expired: log in again, as staff would
    b = browser("agent")
    page = b.get("/console/callbacks").text
    assert first["number"] in page and second["number"] in page and '<b class="tag bad">超时</b>' not in page
    assert page.count('<b class="tag warn">须上门</b>') == 1  # the second is a repeat complaint
    clock.advance(days=1)
    b = browser("agent")
    assert b.get("/console/callbacks").text.count('<b class="tag bad">超时</b>') == 2


def test_only_a_supervisor_sends_the_wechat_survey(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    order = client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth).json()
    act_ok(client, agent, order["id"], "respond", "complete")
    task_id = client.get("/api/v1/callbacks?status=open", headers=agent).json()["items"][0]["id"]
    desk, boss = browser("agent"), browser("supervisor")
    assert "发微信问卷" not in desk.get("/console/callbacks").text
    assert desk.post(f"/console/callbacks/{task_id}/survey").status_code == 403
    assert not any("trigger_intent" in c["path"] for c in outbound.rasa_calls)
    listed = boss.get("/console/callbacks").text
    assert "未到期" in listed and "发微信问卷" in listed  # right after completion, not on the due day
    sent = boss.post(f"/console/callbacks/{task_id}/survey")
    assert sent.status_code == 200 and "发微信问卷" not in sent.text
    assert outbound.rasa_calls[-1]["body"]["name"] == "EXTERNAL_callback_survey"


OUTAGE = {
    "communities": "阳光小区、和平小区",
    "heated_area_m2": "12000",
    "started_at": "2026-12-10T08:00",
    "expected_restoration_at": "2026-12-11T20:00",
    "cause_code": "pipe_burst",
    "cause_note": "已定位漏点",
    "repair_location": "阳光小区东门",
}


def test_an_outage_is_previewed_then_created_by_a_supervisor_and_extended(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth)  # a resident of 阳光小区 on WeChat
    desk, boss = browser("agent"), browser("supervisor")
    preview = desk.post("/console/outages/preview", OUTAGE)
    assert preview.status_code == 200 and "将向 <b>1</b> 位居民发送" in preview.text
    assert "供热管网突发漏水抢修（已定位漏点）" in preview.text
    assert desk.post("/console/outages", OUTAGE).status_code == 403  # a notice needs a supervisor
    bad = boss.post("/console/outages", {**OUTAGE, "cause_note": "详询13800138000"})
    assert bad.status_code == 422 and "cause_note" in bad.text
    made = boss.post("/console/outages", OUTAGE)
    assert made.status_code == 200 and "阳光小区、和平小区" in made.text and "12-10 16:00" not in made.text
    outage_id = client.get("/api/v1/outages", headers=auth).json()["items"][0]["id"]
    notices = boss.get(f"/console/outages/{outage_id}/notices").text
    assert "共 1 条通知" in notices and "oRes…0001" in notices and "oResident-0001" not in notices
    # A new expected restoration tells the residents again (6.3.1); an agent may not do it.
    assert (
        desk.post(f"/console/outages/{outage_id}", {"expected_restoration_at": "2026-12-12T12:00"}).status_code == 403
    )
    boss.post(f"/console/outages/{outage_id}", {"expected_restoration_at": "2026-12-12T12:00"})
    assert "共 2 条通知" in boss.get(f"/console/outages/{outage_id}/notices").text
    clock.advance(hours=30)
    desk = browser("agent")
    restored = desk.post(f"/console/outages/{outage_id}", {"restored_at": "2026-12-11T09:30"})
    assert restored.status_code == 200 and "12-11 09:30" in restored.text
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        trail = [
            (a.actor, a.action) for a in session.scalars(select(StaffAudit).where(StaffAudit.action.like("outage.%")))
        ]
    assert trail == [
        ("staff:supervisor2", "outage.create"),
        ("staff:supervisor2", "outage.update"),
        ("staff:agent3", "outage.update"),
    ]
