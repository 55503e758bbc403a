"""A room-temperature test's record (5.4.6) and the resident's confirmation of it (10.3 第1条 a, b)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import FakeOutbound, act, temperature_record, to_site

ORDERS = "/api/v1/work-orders"
TEST = {
    "kind": "temperature_test",
    "category": "room_temperature",
    "source": "wechat",
    "description": "屋里16度",
    "resident_openid": "oWARM",
    "address": "阳光小区3号楼2单元501",
}


def completed_test(client: TestClient, auth: dict, agent: dict, **record: object) -> dict:
    order = client.post(ORDERS, json=TEST, headers=auth).json()
    to_site(client, agent, order["id"])
    done = act(client, agent, order["id"], "complete", temperature_test=temperature_record(17.5, 17.6, 17.8, **record))
    assert done.status_code == 200, done.text
    return dict(done.json())


def answer(client: TestClient, auth: dict, order_id: int, confirmed: bool, openid: str = "oWARM") -> object:
    body = {"resident_openid": openid, "confirmed": confirmed}
    return client.post(f"{ORDERS}/{order_id}/temperature-test/answer", json=body, headers=auth)


def test_the_resident_on_wechat_is_sent_the_result_and_confirms_it_once(
    client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    order = completed_test(client, auth, agent, signature="wechat", note=None)
    assert order["measured_temperature"] == 17.6 and order["temperature_test"]["resident_confirmed_at"] is None
    run_scheduler_once(client.app)
    sent = outbound.rasa_calls[-1]
    assert sent["path"] == "/conversations/oWARM/trigger_intent"
    assert sent["body"]["name"] == "EXTERNAL_temperature_confirmation"
    entities = sent["body"]["entities"]
    assert entities["order_id"] == order["id"] and "卧室三次读数 17.5、17.6、17.8℃" in entities["message"]

    assert answer(client, agent, order["id"], True).status_code == 403  # only the bot, for its resident
    assert answer(client, auth, order["id"], True, openid="oSOMEONE").status_code == 404
    confirmed = answer(client, auth, order["id"], True)
    assert confirmed.status_code == 200  # type: ignore[attr-defined]
    assert confirmed.json()["temperature_test"]["resident_confirmed_at"] is not None  # type: ignore[attr-defined]
    assert answer(client, auth, order["id"], True).status_code == 200  # the same answer again: a retry
    changed = answer(client, auth, order["id"], False)
    assert changed.status_code == 409  # type: ignore[attr-defined]
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=agent).json()
    assert [e["action"] for e in events].count("temperature_confirmed") == 1


def test_two_answers_at_once_record_one(client: TestClient, auth: dict, agent: dict) -> None:
    order = completed_test(client, auth, agent, signature="wechat", note=None)
    with ThreadPoolExecutor(2) as pool:
        codes = sorted(
            r.status_code  # type: ignore[attr-defined]
            for r in pool.map(lambda yes: answer(client, auth, order["id"], yes), (True, False))
        )
    assert codes == [200, 409]
    record = client.get(f"{ORDERS}/{order['id']}", headers=agent).json()["temperature_test"]
    assert (record["resident_confirmed_at"] is None) != (record["resident_disputed_at"] is None)


def test_a_record_breaking_the_rules_is_refused_and_nothing_is_kept(
    client: TestClient, auth: dict, agent: dict
) -> None:
    order = client.post(ORDERS, json={**TEST, "resident_openid": None}, headers=auth).json()
    to_site(client, agent, order["id"])
    for record, field in (
        (temperature_record(17.5, signature="wechat"), "temperature_test.signature"),  # not on WeChat
        (temperature_record(17.5, resolution="0.5"), "temperature_test.resolution"),  # 5.4.5
        ({**temperature_record(17.5), "readings": [17.5, 17.6]}, "temperature_test.readings"),  # 5.4.6 d
        (temperature_record(17.5, excluded="too_cold_outside"), "temperature_test.excluded"),  # not on the list
    ):
        refused = act(client, agent, order["id"], "complete", temperature_test=record)
        assert refused.status_code == 422 and refused.json()["field"].startswith(field), refused.text
    kept = client.get(f"{ORDERS}/{order['id']}", headers=agent).json()
    assert kept["status"] == "arrived" and kept["temperature_test"] is None
    repair = client.post(ORDERS, json={**TEST, "kind": "repair", "category": "equipment"}, headers=auth).json()
    to_site(client, agent, repair["id"])
    wrong_kind = act(client, agent, repair["id"], "complete", temperature_test=temperature_record(17.5))
    assert wrong_kind.status_code == 422 and "只有入户测温工单记录测温数据" in wrong_kind.text


def test_a_test_outside_the_conditions_is_kept_with_its_reason(client: TestClient, auth: dict, agent: dict) -> None:
    order = completed_test(client, auth, agent, excluded="outdoor_below_design", outdoor_temperature=-15.0)
    assert order["temperature_test"]["excluded"] == "outdoor_below_design"
    assert order["temperature_test"]["outdoor_temperature"] == -15.0
    period = {"start": "2026-12-01T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"}
    kpis = {k["name"]: k for k in client.get("/api/v1/kpis", params=period, headers=agent).json()["kpis"]}
    assert kpis["room_temperature_compliance"]["denominator"] == 0  # left out of C
