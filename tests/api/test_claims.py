"""Damage claims (13.3–13.8) and what a failed temperature test found (10.3 第1条 c–e, 10.4), each with the
deadline the standard sets, watched by the scheduler like an order's own."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import run_scheduler_once
from api.models import Notification, WorkOrder
from api.services import deadline_watch
from tests.api.conftest import FakeOutbound, FixedClock, act, temperature_record, to_site

ORDERS = "/api/v1/work-orders"
LEAK = {
    "kind": "repair",
    "category": "leak",
    "source": "wechat",
    "description": "暖气片爆裂，水淹到楼下",
    "resident_openid": "oFLOOD",
    "address": "阳光小区3号楼2单元501",
}


def leak(client: TestClient, auth: dict) -> dict:
    return dict(client.post(ORDERS, json=LEAK, headers=auth).json())


def step(client: TestClient, who: dict, order_id: int, **body: object) -> object:
    return client.post(f"{ORDERS}/{order_id}/claim/steps", json=body, headers=who)


def sent(client: TestClient, outbound: FakeOutbound) -> list[str]:
    run_scheduler_once(client.app)
    return [c["body"]["entities"]["message"] for c in outbound.rasa_calls]


def due(client: TestClient, order_id: int, name: str) -> str | None:
    """The order's deadline ``name`` as its row holds it."""
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        moment = deadline_watch.due_at(session.get(WorkOrder, order_id), name)
    return moment.isoformat() if moment else None


def test_a_claim_runs_from_the_loss_to_the_payment_within_30_working_days(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, clock: FixedClock, outbound: FakeOutbound
) -> None:
    order = leak(client, auth)
    loss = {
        "damage": "楼下住户木地板泡水约20平方米",
        "insurer_notified_at": "2026-12-10T09:50:00+08:00",
        "surveyed_with_resident_at": "2026-12-10T09:55:00+08:00",
        "photos_kept": True,
    }
    opened = client.post(f"{ORDERS}/{order['id']}/claim", json=loss, headers=agent)
    assert opened.status_code == 201 and opened.json()["claim"]["photos_kept"] is True, opened.text
    assert client.post(f"{ORDERS}/{order['id']}/claim", json=loss, headers=agent).status_code == 409
    assert step(client, agent, order["id"], step="agreed", amount="3200").status_code == 403  # a supervisor's
    adjusted = step(client, agent, order["id"], step="adjusted", amount="3200.00")
    assert adjusted.status_code == 200  # type: ignore[attr-defined]
    assert "保险公司理算金额为 3200.00 元（13.8）" in sent(client, outbound)[-1]
    # agreed on Friday 30 October: 30 working days (no holiday in November or December) end on 11 December
    agreed = step(client, supervisor, order["id"], step="agreed", amount="3000", at="2026-10-30T16:00:00+08:00")
    assert agreed.json()["claim"]["agreed_sum"] == "3000.00"  # type: ignore[attr-defined]
    told = sent(client, outbound)[-1]
    assert "赔偿款 3000.00 元，将于2026年12月11日前交付给您（13.5）" in told
    assert due(client, order["id"], "claim_payment") == "2026-12-11T15:59:59+00:00"
    # the agreement was recorded late: 80 % of its window had passed, so staff were reminded at once
    reminders = client.get("/api/v1/notifications", params={"kind": "reminder"}, headers=supervisor).json()["items"]
    assert [n["message"] for n in reminders if n["deadline_name"] == "claim_payment"] == [
        f"工单 {order['number']} 的理赔款交付时限将于 12-11 23:59 到期"
    ]
    paid = step(client, supervisor, order["id"], step="paid")
    assert paid.status_code == 200  # type: ignore[attr-defined]
    assert step(client, supervisor, order["id"], step="adjusted", amount="1").status_code == 409  # closed
    events = [e["action"] for e in client.get(f"{ORDERS}/{order['id']}/events", headers=agent).json()]
    assert {"claim_opened", "claim_adjusted", "claim_agreed", "claim_paid"} <= set(events)
    clock.advance(days=2)
    run_scheduler_once(client.app)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        breached = [n.deadline_name for n in session.scalars(select(Notification).where(Notification.kind == "breach"))]
    assert breached and "claim_payment" not in breached  # the leak's own windows ran out; the payment was made


def test_an_unpaid_agreement_is_breached_for_staff(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock
) -> None:
    order = leak(client, auth)
    client.post(f"{ORDERS}/{order['id']}/claim", json={"damage": "地板泡水"}, headers=supervisor)
    step(client, supervisor, order["id"], step="agreed", amount="800", at="2026-10-30T16:00:00+08:00")
    clock.advance(days=2)
    run_scheduler_once(client.app)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        breaches = session.scalars(select(Notification).where(Notification.deadline_name == "claim_payment")).all()
    assert [n.kind for n in breaches] == ["breach"] and "理赔款交付" in breaches[0].message  # the first scan: late


def test_a_loss_the_company_does_not_answer_for_is_told_with_its_clause(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    order = leak(client, auth)
    client.post(f"{ORDERS}/{order['id']}/claim", json={"damage": "自家改装的暖气片漏水"}, headers=agent)
    nothing = step(client, supervisor, order["id"], step="excluded")
    assert nothing.status_code == 422 and nothing.json()["field"] == "exclusion"  # type: ignore[attr-defined]
    linked = step(client, supervisor, order["id"], step="excluded", exclusion="altered_by_resident", note="见 www.x.cn")
    assert linked.status_code == 422  # type: ignore[attr-defined]
    excluded = step(
        client, supervisor, order["id"], step="excluded", exclusion="altered_by_resident", note="暖气片系住户自行加装"
    )
    assert excluded.status_code == 200  # type: ignore[attr-defined]
    told = sent(client, outbound)[-1]
    assert "热用户自行拆改过的设施" in told and "13.6 b" in told and "暖气片系住户自行加装" in told
    assert step(client, supervisor, order["id"], step="agreed", amount="100").status_code == 409


def completed_test(client: TestClient, auth: dict, agent: dict, temperature: float) -> dict:
    body = {
        "kind": "temperature_test",
        "category": "room_temperature",
        "source": "wechat",
        "description": "屋里冷",
        "resident_openid": "oCOLD",
        "address": "阳光小区3号楼2单元601",
    }
    order = client.post(ORDERS, json=body, headers=auth).json()
    to_site(client, agent, order["id"])
    done = act(client, agent, order["id"], "complete", temperature_test=temperature_record(temperature))
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_a_room_below_standard_has_its_cause_and_a_fee_reduction_refunded_by_30_june(
    client: TestClient, auth: dict, agent: dict
) -> None:
    cold = completed_test(client, auth, agent, 16.5)
    path = f"{ORDERS}/{cold['id']}/temperature-test"
    theirs = {"cause": "住户自行关闭了暖气阀门", "responsibility": "resident", "fee_reduction": "50"}
    refused = client.post(f"{path}/finding", json=theirs, headers=agent)
    assert refused.status_code == 422 and "10.3 第1条 e" in refused.text  # no reduction for the resident's own
    ours = {"cause": "楼内立管堵塞", "responsibility": "company", "fee_reduction": "120.50"}
    found = client.post(f"{path}/finding", json=ours, headers=agent)
    assert found.status_code == 200, found.text
    assert found.json()["temperature_test"]["fee_reduction"] == "120.50"
    # the season 2026-11-15 … 2027-03-15: refunded by 30 June 2027 (10.4)
    assert client.post(f"{path}/finding", json=ours, headers=agent).status_code == 409  # recorded once
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        from api.models import WorkOrder
        from api.services import deadline_watch

        due = deadline_watch.due_at(session.get(WorkOrder, cold["id"]), "refund")
    assert due is not None and due.isoformat() == "2027-06-30T15:59:59+00:00"
    refunded = client.post(f"{path}/refund", headers=agent)
    assert refunded.status_code == 200 and refunded.json()["temperature_test"]["refunded_at"] is not None
    assert client.post(f"{path}/refund", headers=agent).status_code == 409
    warm = completed_test(client, auth, agent, 18.4)
    not_below = client.post(f"{ORDERS}/{warm['id']}/temperature-test/finding", json=ours, headers=agent)
    assert not_below.status_code == 409  # the room met the standard: nothing to find (10.3 第1条 c)
