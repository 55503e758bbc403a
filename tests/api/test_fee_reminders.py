"""Reminders of unpaid fees (9.2.2) with their proof: in WeChat to the household's residents who follow the
account, by phone for the others and for a message that could not be delivered."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import run_scheduler_once
from api.models import FeeReminder
from tests.api.conftest import FakeOutbound

PATH = "/api/v1/fee-reminders"


def resident(client: TestClient, auth: dict, openid: str, address: str, phone: str | None = None) -> None:
    """A resident the bot knows: their WeChat id, their home and phone, from an order filed for them."""
    body = {"kind": "consultation", "category": "other", "source": "wechat", "description": "咨询"}
    body.update(resident_openid=openid, address=address, phone=phone)
    assert client.post("/api/v1/work-orders", json=body, headers=auth).status_code == 201


HOUSEHOLDS = [
    {"address": "阳光小区3号楼2单元501", "phone": "+86 138 0000 0001", "amount": "1280"},  # by the phone
    {"address": "阳光小区3号楼2单元502", "amount": "960.5"},  # by the home
    {"address": "和平小区1号楼1单元101", "phone": "13900000009", "amount": "640"},  # nobody on WeChat
]


def test_households_are_reminded_in_wechat_or_listed_to_phone_and_every_reminder_is_kept(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    resident(client, auth, "oFEE1", "阳光小区7号楼1单元101", phone="13800000001")
    resident(client, auth, "oFEE2", "阳光小区3号楼2单元502")
    body = {"pay_by": "2026-12-31", "households": HOUSEHOLDS}
    assert client.post(PATH, json=body, headers=agent).status_code == 403  # a supervisor's
    sent = client.post(PATH, json=body, headers=supervisor)
    assert sent.status_code == 201, sent.text
    batch = sent.json()
    reached = {r["address"]: r["recipient_openid"] for r in batch["items"]}
    assert reached == {
        "阳光小区3号楼2单元501": "oFEE1",
        "阳光小区3号楼2单元502": "oFEE2",
        "和平小区1号楼1单元101": None,
    }
    assert [r["address"] for r in batch["items"] if r["to_phone"]] == ["和平小区1号楼1单元101"]
    run_scheduler_once(client.app)
    told = {c["path"].split("/")[2]: c["body"]["entities"]["message"] for c in outbound.rasa_calls}
    assert set(told) == {"oFEE1", "oFEE2"}
    assert "您家（阳光小区3号楼2单元501）尚有热费 1280.00 元未交纳，请于2026年12月31日前" in told["oFEE1"]
    assert "9.2.2" in told["oFEE1"] and "停止供热或按合同约定处理" in told["oFEE1"]

    # the channel could not deliver oFEE2's (no window, no template): it joins the calls to make
    outbound.outbox_rows.append({"id": 1, "openid": "oFEE1", "text": told["oFEE1"], "status": "sent", "via": "custom"})
    outbound.outbox_rows.append(
        {"id": 2, "openid": "oFEE2", "text": told["oFEE2"], "status": "undelivered", "last_error": "45015 window"}
    )
    read = client.get(PATH, params={"batch": batch["batch"]}, headers=agent).json()["items"]
    states = {r["address"]: (r["delivery"], r["to_phone"]) for r in read}
    assert states["阳光小区3号楼2单元501"] == ("sent", False)
    assert states["阳光小区3号楼2单元502"] == ("undelivered", True)
    call = next(r for r in read if r["address"] == "和平小区1号楼1单元101")
    called = client.post(f"{PATH}/{call['id']}/called", json={"note": "户主接听，答应月底前交"}, headers=agent)
    assert called.status_code == 200 and called.json()["phoned_at"] is not None
    again = client.get(PATH, params={"batch": batch["batch"]}, headers=agent).json()["items"]
    assert [r["address"] for r in again if r["to_phone"]] == ["阳光小区3号楼2单元502"]


def test_a_bad_row_or_a_past_day_keeps_nothing(client: TestClient, supervisor: dict) -> None:
    linked = [HOUSEHOLDS[0], {"address": "详见 http://pay.example.com", "amount": "1"}]
    refused = client.post(PATH, json={"pay_by": "2026-12-31", "households": linked}, headers=supervisor)
    assert refused.status_code == 422 and "第2行" in refused.json()["message"]
    past = client.post(PATH, json={"pay_by": "2026-12-01", "households": HOUSEHOLDS}, headers=supervisor)
    assert past.status_code == 422 and past.json()["field"] == "pay_by"
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(FeeReminder)) == 0
