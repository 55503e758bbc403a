"""One resident's personal data (12.1): exported and erased on request, erased after the retention
period of the operator file; what the company is judged by stays."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.engine import make_url

from api.main import run_scheduler_once
from api.services import handoffs
from api.services.principals import Principal, Role
from heating_standard.privacy import ERASED, message_key
from tests.api.conftest import FakeOutbound, FixedClock, act, act_ok

ORDERS = "/api/v1/work-orders"
COMPLAINT = {
    "kind": "complaint",
    "category": "service",
    "source": "wechat",
    "description": "我是王五，13800138000，师傅态度差",
    "resident_openid": "oERASE",
    "phone": "13800138000",
    "address": "阳光小区3号楼2单元501",
}


def finished_complaint(client: TestClient, auth: dict, agent: dict, **fields: object) -> dict:
    order = client.post(ORDERS, json={**COMPLAINT, **fields}, headers=auth).json()
    act_ok(client, agent, order["id"], "respond", "complete")
    act(client, agent, order["id"], "callback", method="phone", process_satisfied=True, result_satisfied=False)
    act_ok(client, agent, order["id"], "close")
    return order


def test_a_supervisor_exports_everything_kept_of_one_resident(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    order = finished_complaint(client, auth, agent)
    outbound.trackers["oERASE"] = [{"event": "user", "text": "师傅态度差", "timestamp": 1.0}]
    assert client.get("/api/v1/personal-data", params={"openid": "oERASE"}, headers=agent).status_code == 403
    found = client.get("/api/v1/personal-data", params={"openid": "oERASE"}, headers=supervisor).json()
    assert found["resident"]["phone"] == "13800138000" and found["addresses"][0]["room"] == "501"
    assert [o["number"] for o in found["work_orders"]] == [order["number"]]
    assert found["work_orders"][0]["call_backs"][0]["result_satisfied"] is False
    assert found["conversation"] == [{"event": "user", "timestamp": 1.0, "text": "师傅态度差"}]
    by_phone = client.get("/api/v1/personal-data", params={"phone": "138 0013 8000"}, headers=supervisor).json()
    assert [o["number"] for o in by_phone["work_orders"]] == [order["number"]]
    outbound.rasa_up = False  # the chat cannot be read: said, not left out silently
    down = client.get("/api/v1/personal-data", params={"openid": "oERASE"}, headers=supervisor).json()
    assert down["conversation"] is None and "unreachable" in down["conversation_unavailable"]
    unknown = client.get("/api/v1/personal-data", params={"openid": "oNOBODY"}, headers=supervisor)
    assert unknown.status_code == 404


def test_erasure_waits_for_open_orders_and_keeps_what_the_kpis_count(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    done = finished_complaint(client, auth, agent)
    still_open = client.post(ORDERS, json=COMPLAINT, headers=auth).json()
    outbound.trackers["oERASE"] = [{"event": "user", "text": "师傅态度差"}]
    request = {"openid": "oERASE", "reason": "居民来电申请删除（工单外记录 2026-12-10）"}
    refused = client.post("/api/v1/personal-data/erase", json=request, headers=supervisor)
    assert refused.status_code == 409 and still_open["number"] in refused.json()["message"]
    act(client, supervisor, still_open["id"], "cancel", note="居民撤回")
    act_ok(client, agent, still_open["id"], "close")

    outbound.rasa_up = False
    down = client.post("/api/v1/personal-data/erase", json=request, headers=supervisor)
    assert down.status_code == 409 and "nothing was erased" in down.json()["message"]
    assert client.get(f"{ORDERS}/{done['id']}", headers=agent).json()["description"] != ERASED
    outbound.rasa_up = True

    erased = client.post("/api/v1/personal-data/erase", json=request, headers=supervisor)
    assert erased.status_code == 200 and erased.json() == {"work_orders": 2, "resident": 1}
    kept = client.get(f"{ORDERS}/{done['id']}", headers=agent).json()
    assert (kept["kind"], kept["status"], kept["community"]) == ("complaint", "closed", "阳光小区")
    assert (kept["phone"], kept["address"], kept["room"], kept["resident_openid"]) == (None, None, None, None)
    assert kept["description"] == ERASED
    assert "oERASE" not in outbound.trackers  # the conversation deleted by the channel
    assert "/webhooks/wechat/forget" in outbound.channel_calls
    assert client.get("/api/v1/personal-data", params={"openid": "oERASE"}, headers=supervisor).status_code == 404
    report = client.get(
        "/api/v1/kpis", params={"start": "2026-12-01T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"}, headers=agent
    ).json()
    result = next(k for k in report["kpis"] if k["name"] == "complaint_result_satisfaction")
    assert (result["numerator"], result["denominator"]) == (0, 1)  # the erased complaint still counts


def test_the_retention_period_erases_finished_orders_and_forgotten_residents(
    client: TestClient, auth: dict, staff: Callable[[str], dict], clock: FixedClock
) -> None:
    agent = staff("agent")
    old = finished_complaint(client, auth, agent)
    clock.advance(days=1095)  # the sample operator file keeps personal data 1095 days
    agent = staff("agent")
    recent = finished_complaint(client, auth, agent, resident_openid="oRECENT", phone="13900139000")
    assert run_scheduler_once(client.app)["erased"] == 0  # exactly 1095 days: not yet
    clock.advance(days=1)
    assert run_scheduler_once(client.app)["erased"] == 1
    agent = staff("agent")
    assert client.get(f"{ORDERS}/{old['id']}", headers=agent).json()["phone"] is None
    assert client.get(f"{ORDERS}/{recent['id']}", headers=agent).json()["phone"] == "139****9000"  # kept (masked)
    assert run_scheduler_once(client.app)["erased"] == 0  # once


def test_the_conversation_side_is_pruned_once_a_day_and_again_after_a_failure(
    client: TestClient, outbound: FakeOutbound, clock: FixedClock
) -> None:
    outbound.rasa_up = False
    run_scheduler_once(client.app)
    assert outbound.pruned == []  # the bot was down: asked again next pass
    outbound.rasa_up = True
    run_scheduler_once(client.app)
    run_scheduler_once(client.app)
    assert outbound.pruned == [(clock.now - timedelta(days=1095)).timestamp()]  # once
    clock.advance(days=1)
    run_scheduler_once(client.app)
    assert len(outbound.pruned) == 2


def test_a_day_of_retention_erases_every_expired_order_batch_by_batch(
    client: TestClient, auth: dict, staff: Callable[[str], dict], clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Applied once a day, so a backlog larger than one batch is erased in that one pass."""
    from api.services import residents

    monkeypatch.setattr(residents, "PURGE_BATCH", 2)
    agent = staff("agent")
    for n in range(5):
        home = {"address": f"和平小区{n + 1}号楼1单元101"}  # five households, none a repeat complaint
        finished_complaint(client, auth, agent, resident_openid=f"oOLD{n}", phone=f"1390013900{n}", **home)
    clock.advance(days=1096)
    assert run_scheduler_once(client.app)["erased"] == 5
    assert run_scheduler_once(client.app)["erased"] == 0  # not again the same day


def test_erasing_by_phone_reaches_the_residents_record_and_conversation_whatever_the_phones_writing(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    """A phone given as "+86 13800138000" finds the orders by its digits; the record behind them and the
    WeChat conversation of those orders go too, as they would by openid."""
    finished_complaint(client, auth, agent)
    outbound.trackers["oERASE"] = [{"event": "user", "text": "师傅态度差"}]
    found = client.get("/api/v1/personal-data", params={"phone": "+86 13800138000"}, headers=supervisor).json()
    assert found["resident"]["openid"] == "oERASE" and found["conversation"]  # what erasing will remove
    erased = client.post(
        "/api/v1/personal-data/erase",
        json={"phone": "+86 13800138000", "reason": "居民来电申请删除"},
        headers=supervisor,
    )
    assert erased.status_code == 200 and erased.json() == {"work_orders": 1, "resident": 1}
    assert "oERASE" not in outbound.trackers
    assert client.get("/api/v1/personal-data", params={"openid": "oERASE"}, headers=supervisor).status_code == 404


def test_erasing_names_the_resident(client: TestClient, supervisor: dict) -> None:
    nobody = client.post("/api/v1/personal-data/erase", json={"reason": "申请删除"}, headers=supervisor)
    assert nobody.status_code == 422
    unknown = client.post(
        "/api/v1/personal-data/erase", json={"openid": "oNOBODY", "reason": "申请删除"}, headers=supervisor
    )
    assert unknown.status_code == 404


# One resident, as real as the tests can make them: whatever is erased must leave none of these behind.
PERSON = {
    "openid": "oRT_Xq3Zt8LmWvEr2K",
    "phone": "13987654321",
    "name": "欧阳明远",
    "address": "阳光小区7号楼3单元602室",
    "photo_url": "http://mmbiz.qpic.cn/mmbiz_jpg/Kq8vRadiatorLeak602/0",
    "media_id": "MEDIA_Zx81kLpQ7wTn",
}


# A long outage in the resident's community: they are sent a notice.
OUTAGE = {
    "communities": ["阳光小区"],
    "heated_area_m2": 120000,
    "started_at": "2026-12-10T08:00:00+08:00",
    "expected_restoration_at": "2026-12-12T12:00:00+08:00",
    "cause_code": "pipe_burst",
    "repair_location": "文化路",
}


def every_value(engine: Engine) -> str:
    """Every column of every row of every table the backend's database holds, as one text (the tables
    are read from the database, so a table or column added later is read too)."""
    tables = MetaData()
    tables.reflect(engine)
    values: list[str] = []
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        values.append(value.decode("utf-8", "replace"))
                    elif isinstance(value, dict | list):
                        values.append(json.dumps(value, ensure_ascii=False))
                    else:
                        values.append(str(value))
    return "\n".join(values)


def sqlite_files(database_url: str) -> bytes:
    """The bytes of the SQLite database and its write-ahead log, as they lie on the disk."""
    path = Path(str(make_url(database_url).database))
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def test_erasure_leaves_none_of_the_residents_data_in_any_table(
    client: TestClient,
    auth: dict,
    agent: dict,
    supervisor: dict,
    outbound: FakeOutbound,
    clock: FixedClock,
    database_url: str,
) -> None:
    """12.1, the review's N11: the photo's URL and media id stayed in work_order_events.data, the openid
    in notifications.dedup_key, and on SQLite the erased rows in api.sqlite3-wal."""
    openid, phone, name, address = PERSON["openid"], PERSON["phone"], PERSON["name"], PERSON["address"]
    order = client.post(
        ORDERS,
        json={
            **COMPLAINT,
            "description": f"我是{name}，电话{phone}，住{address}，暖气漏水",
            "resident_openid": openid,
            "phone": phone,
            "address": address,
            "contact_name": name,
        },
        headers=auth,
    ).json()
    photo = {"url": PERSON["photo_url"], "media_id": PERSON["media_id"], "resident_openid": openid}
    assert client.post(f"{ORDERS}/{order['id']}/attachments", json=photo, headers=auth).status_code == 201
    outbound.media[PERSON["media_id"]] = b"\x89PNG\r\n\x1a\nradiator"
    assert client.post("/api/v1/outages", json=OUTAGE, headers=supervisor).status_code == 201
    passed = run_scheduler_once(client.app)
    assert (passed["photos"], passed["delivered"]) == (1, 1)  # the photo kept, the outage notice sent
    chat = {"resident_openid": openid, "reason": "requested", "summary": f"{name}要找人工，电话{phone}"}
    handoff = client.post("/api/v1/handoffs", json=chat, headers=auth).json()
    client.post(f"/api/v1/handoffs/{handoff['id']}/take", headers=agent)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        desk = Principal(name="staff:desk", role=Role.AGENT)
        handoffs.add_note(session, handoff["id"], desk, f"{name}说{address}楼道也漏", clock.now)
    client.post(f"/api/v1/handoffs/{handoff['id']}/close", headers=agent)
    act(client, agent, order["id"], "respond", note=f"已致电{name}（{phone}）")
    act(client, agent, order["id"], "complete", result=f"已修好，回访电话{phone}")
    act(
        client, agent, order["id"], "callback", method="phone", process_satisfied=True, result_satisfied=True, note=name
    )
    act_ok(client, agent, order["id"], "close")
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assert [k for k, v in PERSON.items() if v not in every_value(engine)] == []  # all there before

    request = {"openid": openid, "reason": "居民来电申请删除"}
    assert client.post("/api/v1/personal-data/erase", json=request, headers=supervisor).status_code == 200
    assert [k for k, v in PERSON.items() if v in every_value(engine)] == []
    if database_url.startswith("sqlite"):
        # nor in the file's free space or the write-ahead log (secure_delete, a checkpoint after erasing)
        on_disk = sqlite_files(database_url)
        assert [k for k, v in PERSON.items() if v.encode() in on_disk] == []


def test_the_retention_period_erases_the_messages_sent_to_residents(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, clock: FixedClock
) -> None:
    """An outage notice belongs to no order: it goes by its own age, openid and key included."""
    finished_complaint(client, auth, agent, resident_openid=PERSON["openid"], address=PERSON["address"])
    made = client.post("/api/v1/outages", json=OUTAGE, headers=supervisor).json()
    run_scheduler_once(client.app)
    restored = {"restored_at": "2026-12-11T09:00:00+08:00"}
    assert client.patch(f"/api/v1/outages/{made['id']}", json=restored, headers=supervisor).status_code == 200
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assert every_value(engine).count(PERSON["openid"]) > 2  # the order, the record, the notice and its key
    clock.advance(days=1096)  # the sample operator file keeps personal data 1095 days
    run_scheduler_once(client.app)
    assert PERSON["openid"] not in every_value(engine)


def _kept_for_review(client: TestClient, auth: dict, openid: str, message_id: str, text: str) -> None:
    body = {"message_key": message_key(openid, message_id), "text": text, "reason": "fallback"}
    assert client.post("/api/v1/review-items", json=body, headers=auth).status_code == 200


def test_an_erasure_takes_the_residents_words_out_of_the_review_queue(
    client: TestClient, auth: dict, agent: dict, supervisor: dict, outbound: FakeOutbound
) -> None:
    """Their messages leave the queue, and the open groups their words named; another resident's message
    and a decided group stay."""
    finished_complaint(client, auth, agent, resident_openid="oERASE")
    outbound.trackers["oERASE"] = [
        {"event": "user", "text": "暖气片咕噜咕噜响", "message_id": "m1"},
        {"event": "user", "text": "你们公司股票怎么样", "message_id": "m2"},
        {"event": "user", "text": "哐哐的响", "message_id": "m3"},
    ]
    _kept_for_review(client, auth, "oERASE", "m1", "暖气片咕噜咕噜响")
    _kept_for_review(client, auth, "oOTHER", "x1", "暖气片咕噜咕噜响啊")  # joins the erased resident's group
    _kept_for_review(client, auth, "oOTHER", "x2", "哐哐的响声")
    _kept_for_review(client, auth, "oERASE", "m3", "哐哐的响")  # joins the other resident's group
    decided = client.get("/api/v1/review-items", headers=agent).json()["items"]
    _kept_for_review(client, auth, "oERASE", "m2", "你们公司股票怎么样")
    stock = next(i for i in client.get("/api/v1/review-items", headers=agent).json()["items"] if "股票" in i["text"])
    label = client.post(f"/api/v1/review-items/{stock['id']}/label", json={"out_of_scope": True}, headers=agent)
    assert label.status_code == 200
    assert len(decided) == 2
    erased = client.post(
        "/api/v1/personal-data/erase", json={"openid": "oERASE", "reason": "居民申请"}, headers=supervisor
    )
    assert erased.status_code == 200, erased.text
    left = {
        i["text"]: i
        for s in ("open", "labelled")
        for i in client.get("/api/v1/review-items", params={"status": s}, headers=agent).json()["items"]
    }
    assert set(left) == {"哐哐的响声", "你们公司股票怎么样"}  # the decided group stays (redacted training data)
    assert left["哐哐的响声"]["variants"] == []


def test_the_retention_period_takes_old_messages_out_of_the_review_queue(
    client: TestClient, auth: dict, staff: Callable[[str], dict], clock: FixedClock
) -> None:
    _kept_for_review(client, auth, "oOLD", "m1", "暖气片咕噜咕噜响")
    clock.advance(days=1000)
    _kept_for_review(client, auth, "oNEW", "m1", "哐哐的响声")
    clock.advance(days=96)  # the sample operator file keeps personal data 1095 days
    run_scheduler_once(client.app)
    texts = [i["text"] for i in client.get("/api/v1/review-items", headers=staff("agent")).json()["items"]]
    assert texts == ["哐哐的响声"]
