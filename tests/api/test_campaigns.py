"""The call-back campaign of 10.1.8 and the yearly survey of 14.3.2 e: who is asked, in WeChat or by phone,
and the figures reported."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import FakeOutbound, FixedClock, act_ok

ORDERS = "/api/v1/work-orders"


def finished(client: TestClient, auth: dict, agent: dict, **fields: object) -> dict:
    body = {"kind": "complaint", "category": "service", "source": "wechat", "description": "x", **fields}
    order = client.post(ORDERS, json=body, headers=auth).json()
    act_ok(client, agent, order["id"], "respond", "complete")
    return dict(order)


def test_last_seasons_connections_and_provincial_orders_are_called_back_and_the_answers_reported(
    client: TestClient,
    auth: dict,
    staff: Callable[[str], dict],
    clock: FixedClock,
    outbound: FakeOutbound,
) -> None:
    """Orders of the 2026-2027 heating year; the campaign starts after that season ended (15 March 2027)."""
    agent = staff("agent")
    connection = finished(
        client,
        auth,
        agent,
        kind="business",
        category="other",
        business_type="apply_connection",
        description="新建小区报装",
        resident_openid="oCONNECT",
    )
    provincial = finished(client, auth, agent, source="provincial_hotline", phone="13900000001")
    finished(client, auth, agent)  # a WeChat complaint: called back after its service (10.1.6), not here
    open_order = client.post(
        ORDERS,
        json={"kind": "complaint", "category": "service", "source": "provincial_hotline", "description": "x"},
        headers=auth,
    ).json()  # not finished: nothing to call back yet
    clock.advance(days=120)  # April 2027
    boss = staff("supervisor")
    assert client.post("/api/v1/campaigns", json={"kind": "callback"}, headers=staff("agent")).status_code == 403
    started = client.post("/api/v1/campaigns", json={"kind": "callback", "seed": 3}, headers=boss)
    assert started.status_code == 201, started.text
    campaign = started.json()
    assert campaign["period"] == "2026-2027" and campaign["contacts"] == 2 and campaign["to_phone"] == 1
    assert "市级热线按 0.2 抽取" in campaign["label"]
    assert client.post("/api/v1/campaigns", json={"kind": "callback"}, headers=boss).status_code == 409  # once
    contacts = client.get(f"/api/v1/campaigns/{campaign['id']}/contacts", headers=boss).json()
    assert {c["order_id"] for c in contacts} == {connection["id"], provincial["id"]}
    assert open_order["id"] not in {c["order_id"] for c in contacts}

    run_scheduler_once(client.app)
    asked = outbound.rasa_calls[-1]
    assert asked["path"] == "/conversations/oCONNECT/trigger_intent"
    assert asked["body"]["name"] == "EXTERNAL_campaign_question" and "10.1.8" in asked["body"]["entities"]["message"]
    contact = asked["body"]["entities"]["contact_id"]
    answer = {"rating": "satisfied", "resident_openid": "oCONNECT"}
    assert client.post(f"/api/v1/campaign-contacts/{contact}/answer", json=answer, headers=auth).status_code == 200
    assert client.post(f"/api/v1/campaign-contacts/{contact}/answer", json=answer, headers=auth).status_code == 409
    wrong = {"rating": "satisfied", "resident_openid": "oSOMEONE"}
    assert client.post(f"/api/v1/campaign-contacts/{contact}/answer", json=wrong, headers=auth).status_code == 404

    [call] = client.get(f"/api/v1/campaigns/{campaign['id']}/contacts", params={"to_phone": True}, headers=boss).json()
    assert call["phone"] == "139****0001"
    path = f"/api/v1/campaign-contacts/{call['id']}/answer"
    assert client.post(path, json={"rating": "unsatisfied"}, headers=boss).status_code == 422  # the call's note
    called = client.post(path, json={"rating": "unsatisfied", "note": "电话回访，认为答复太慢"}, headers=boss)
    assert called.status_code == 200 and called.json()["answered_by"] != "居民（微信）"
    [summary] = client.get("/api/v1/campaigns", headers=boss).json()["items"]
    assert (summary["answered"], summary["satisfied"], summary["unsatisfied"]) == (2, 1, 1)
    assert summary["answered_rate"] == 1.0 and summary["satisfied_rate"] == 0.5 and summary["to_phone"] == 0


def test_the_yearly_survey_asks_every_follower_once_a_year(
    client: TestClient, auth: dict, supervisor: dict, outbound: FakeOutbound, clock: FixedClock, staff: Callable
) -> None:
    for openid in ("oS1", "oS2"):
        body = {"kind": "consultation", "category": "other", "source": "wechat", "description": "咨询"}
        client.post(ORDERS, json={**body, "resident_openid": openid}, headers=auth)
    survey = client.post("/api/v1/campaigns", json={"kind": "survey"}, headers=supervisor).json()
    assert survey["contacts"] == 2 and survey["to_phone"] == 0 and survey["period"] == "2026"
    run_scheduler_once(client.app)
    asked = [c for c in outbound.rasa_calls if c["body"]["name"] == "EXTERNAL_campaign_question"]
    assert len(asked) == 2 and "14.3.2" in asked[0]["body"]["entities"]["message"]
    assert client.post("/api/v1/campaigns", json={"kind": "survey"}, headers=supervisor).status_code == 409
    clock.advance(days=400)
    again = client.post("/api/v1/campaigns", json={"kind": "survey"}, headers=staff("supervisor"))
    assert again.status_code == 201 and again.json()["period"] == "2028"


def test_a_callback_needs_a_season_that_has_ended(client: TestClient, supervisor: dict) -> None:
    """On 10 December 2026 the last season that ended is 2025-2026, which holds no order here."""
    empty = client.post("/api/v1/campaigns", json={"kind": "callback"}, headers=supervisor)
    assert empty.status_code == 422 and "没有需要回访" in empty.json()["message"]
