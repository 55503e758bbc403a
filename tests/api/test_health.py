"""The backend's health endpoint."""

from fastapi.testclient import TestClient


def test_health_reports_database_ok(client: TestClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok"}


def test_openapi_lists_work_order_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/work-orders" in paths
    assert "/api/v1/work-orders/{order_id}" in paths
