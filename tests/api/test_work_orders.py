"""Filing and reading work orders through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.models import WorkOrder

COMPLAINT = {
    "kind": "complaint",
    "category": "room_temperature",
    "source": "wechat",
    "description": "家里暖气不热，才15度",
    "resident_openid": "oRESIDENT0001",
}


def count_orders(client: TestClient) -> int:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.count()).select_from(WorkOrder)) or 0


def test_create_returns_the_order_with_number_and_response_deadline(client: TestClient, auth: dict) -> None:
    resp = client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth)
    assert resp.status_code == 201, resp.text
    order = resp.json()
    # accepted 2026-12-10 10:00 Shanghai: the number carries the local date
    assert re.fullmatch(r"GD20261210\d{6}", order["number"])
    assert order["status"] == "accepted"
    assert order["kind"] == "complaint" and order["source"] == "wechat"
    accepted = datetime.fromisoformat(order["accepted_at"])
    due = datetime.fromisoformat(order["response_due_at"])
    assert (due - accepted).total_seconds() == 30 * 60  # 10.1.4


def test_created_order_can_be_read_back(client: TestClient, auth: dict) -> None:
    created = client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth).json()
    resp = client.get(f"/api/v1/work-orders/{created['id']}", headers=auth)
    assert resp.status_code == 200
    assert resp.json()["number"] == created["number"]
    assert resp.json()["description"] == COMPLAINT["description"]


def test_imported_order_keeps_its_original_acceptance_time(client: TestClient, auth: dict) -> None:
    body = {**COMPLAINT, "source": "city_hotline", "accepted_at": "2026-12-01T08:15:00+08:00"}
    order = client.post("/api/v1/work-orders", json=body, headers=auth).json()
    assert datetime.fromisoformat(order["accepted_at"]) == datetime.fromisoformat("2026-12-01T08:15:00+08:00")
    assert datetime.fromisoformat(order["response_due_at"]) == datetime.fromisoformat("2026-12-01T08:45:00+08:00")
    assert order["number"].startswith("GD20261201")


def test_retry_with_same_idempotency_key_returns_the_same_order(client: TestClient, auth: dict) -> None:
    headers = {**auth, "Idempotency-Key": "conv-abc-1"}
    first = client.post("/api/v1/work-orders", json=COMPLAINT, headers=headers)
    second = client.post("/api/v1/work-orders", json=COMPLAINT, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert count_orders(client) == 1


def test_different_idempotency_keys_create_different_orders(client: TestClient, auth: dict) -> None:
    a = client.post("/api/v1/work-orders", json=COMPLAINT, headers={**auth, "Idempotency-Key": "k1"}).json()
    b = client.post("/api/v1/work-orders", json=COMPLAINT, headers={**auth, "Idempotency-Key": "k2"}).json()
    assert a["id"] != b["id"] and a["number"] != b["number"]
    assert count_orders(client) == 2


def test_missing_token_is_refused_as_json(client: TestClient) -> None:
    resp = client.post("/api/v1/work-orders", json=COMPLAINT)
    assert resp.status_code == 401
    assert resp.json()["code"] == "not_authenticated"
    assert count_orders(client) == 0


def test_wrong_token_is_refused(client: TestClient) -> None:
    resp = client.post("/api/v1/work-orders", json=COMPLAINT, headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401


def test_unknown_kind_names_the_field(client: TestClient, auth: dict) -> None:
    resp = client.post("/api/v1/work-orders", json={**COMPLAINT, "kind": "party"}, headers=auth)
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "validation_error"
    assert body["field"] == "kind"
    assert count_orders(client) == 0


def test_naive_acceptance_time_is_refused(client: TestClient, auth: dict) -> None:
    resp = client.post("/api/v1/work-orders", json={**COMPLAINT, "accepted_at": "2026-12-01T08:15:00"}, headers=auth)
    assert resp.status_code == 422
    assert resp.json()["field"] == "accepted_at"


def test_malformed_json_is_a_validation_error_not_a_crash(client: TestClient, auth: dict) -> None:
    resp = client.post(
        "/api/v1/work-orders", content=b"{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == "validation_error"


def test_unknown_order_is_404_json(client: TestClient, auth: dict) -> None:
    resp = client.get("/api/v1/work-orders/999999", headers=auth)
    assert resp.status_code == 404
    assert resp.json()["code"] == "not_found"


def test_a_photo_is_kept_on_the_audit_trail_without_changing_the_status(client: TestClient, auth: dict) -> None:
    order = client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth).json()
    photo = {"url": "http://mmbiz.qpic.cn/radiator.jpg", "media_id": "m1"}
    # the bot names the resident who sent it: only their own order takes it
    other = client.post(
        f"/api/v1/work-orders/{order['id']}/attachments", json={**photo, "resident_openid": "oOTHER"}, headers=auth
    )
    assert other.status_code == 404
    photo["resident_openid"] = COMPLAINT["resident_openid"]
    resp = client.post(f"/api/v1/work-orders/{order['id']}/attachments", json=photo, headers=auth)
    assert resp.status_code == 201, resp.text
    events = client.get(f"/api/v1/work-orders/{order['id']}/events", headers=auth).json()
    assert events[-1]["action"] == "attachment"
    assert events[-1]["data"] == {"kind": "image", "url": photo["url"], "media_id": "m1"}
    assert client.get(f"/api/v1/work-orders/{order['id']}", headers=auth).json()["status"] == order["status"]


def test_an_attachment_needs_an_order_and_a_web_address(client: TestClient, auth: dict) -> None:
    assert (
        client.post("/api/v1/work-orders/999999/attachments", json={"url": "http://x/y.jpg"}, headers=auth).status_code
        == 404
    )
    order = client.post("/api/v1/work-orders", json=COMPLAINT, headers=auth).json()
    bad = client.post(
        f"/api/v1/work-orders/{order['id']}/attachments", json={"url": "file:///etc/passwd"}, headers=auth
    )
    assert bad.status_code == 422 and "url" in bad.text
