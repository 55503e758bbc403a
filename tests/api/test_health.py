"""The backend's probes, its Prometheus metrics and the correlation id of each request (docs/metrics.md)."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from api import metrics
from api.metrics import readiness
from policies.correlation import CORRELATION_HEADER


@pytest.fixture(autouse=True)
def read_at_each_scrape(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests look at the database's figures right after changing them: nothing kept between scrapes
    (but the test of the keeping itself)."""
    monkeypatch.setattr(metrics, "READ_SECONDS", 0.0)


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of GET /metrics by (name, sorted labels)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def file_order(client: TestClient, auth: dict[str, str], openid: str = "o" + "x" * 27) -> dict:
    made = client.post(
        "/api/v1/work-orders",
        json={
            "kind": "repair",
            "category": "equipment",
            "source": "wechat",
            "description": "阀门坏了",
            "resident_openid": openid,
            "address": "阳光小区3号楼2单元501",
            "phone": "13800138000",
        },
        headers=auth,
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_liveness_answers_without_asking_anything(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}


def test_ready_when_the_database_answers_at_the_codes_revision(client: TestClient) -> None:
    for path in ("/health/ready", "/health"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.json()["ready"] is True
        assert answer.json()["schema"] == client.app.state.code_revision  # type: ignore[attr-defined]


def test_not_ready_while_the_schema_is_older_and_ready_on_a_later_releases(client: TestClient) -> None:
    """A schema behind the code is a migration not run (or running): no traffic. A later revision of the
    same line is a later release's expand step, run before the rolling upgrade: the old code serves. A
    revision of another shape is nobody's release: not ready."""
    engine = client.app.state.engine  # type: ignore[attr-defined]

    def ready_at(revision: str) -> int:
        with engine.begin() as db:
            db.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        return client.get("/health/ready").status_code

    behind = client.get("/health/ready") if ready_at("0023") else None
    assert behind is not None and behind.status_code == 503 and "not yet at" in behind.json()["detail"]
    assert ready_at("0099") == 200
    assert [ready_at(other) for other in ("0099_later", "garbage", "", "002", "c099")] == [503] * 5


def test_not_ready_without_the_database() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=True)
    found = readiness(engine, "0024")
    assert found["ready"] is False
    assert found["database"] == "down"


def test_requests_are_counted_by_route_template_never_by_the_path_sent(
    client: TestClient, auth: dict[str, str]
) -> None:
    route = {"route": "/api/v1/work-orders/{order_id}", "method": "GET"}
    before = samples(client)
    assert client.get("/api/v1/work-orders/987654", headers=auth).status_code == 404
    assert client.get("/api/v1/work-orders/987655", headers=auth).status_code == 404
    client.get("/no/such/13800138000")
    found = samples(client)

    def grew(name: str, **labels: str) -> float:
        return (value(found, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert grew("heating_http_requests_total", **route, status="404") == 2
    assert grew("heating_http_request_duration_seconds_count", **route) == 2
    assert grew("heating_http_requests_total", route="unmatched", method="GET", status="404") == 1
    labels = [v for (_, pairs) in found for _, v in pairs]
    assert not [v for v in labels if "987654" in v or "13800138000" in v]


def test_the_databases_figures_are_read_at_each_scrape(client: TestClient, auth: dict[str, str]) -> None:
    before = samples(client)
    assert value(before, "heating_work_orders", kind="repair", source="wechat", status="accepted") is None
    order = file_order(client, auth)
    found = samples(client)
    assert value(found, "heating_work_orders", kind="repair", source="wechat", status=order["status"]) == 1
    # a repair is watched from its filing: its response window is open, nothing is breached yet
    open_now = [v for (name, pairs), v in found.items() if name == "heating_deadlines" and ("state", "open") in pairs]
    assert open_now and sum(open_now) >= 1
    assert all(
        v == 0 for (name, _), v in found.items() if name in ("heating_deadlines_breached", "heating_deadlines_reminded")
    )
    assert value(found, "heating_db_pool_size") == client.app.state.settings.database_pool_size  # type: ignore[attr-defined]
    assert value(found, "heating_db_pool_connections", state="checked_out") is not None
    assert value(found, "heating_database_size_bytes") > 0
    assert value(found, "heating_disk_free_bytes") > 0
    assert value(found, "heating_scheduler_interval_seconds") > 0
    labels = [v for (_, pairs) in found for _, v in pairs]
    assert not [v for v in labels if "o" + "x" * 27 in v or "13800138000" in v or "阳光小区" in v]


def test_a_breached_deadline_shows_in_the_last_hours_figure(client: TestClient, auth: dict[str, str]) -> None:
    order = file_order(client, auth)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    now = client.app.state.clock()  # type: ignore[attr-defined]
    with engine.begin() as db:
        db.execute(
            text("UPDATE deadlines SET breached_at = :at, due_at = :at WHERE order_id = :order"),
            {"at": now - timedelta(minutes=1), "order": order["id"]},
        )
    found = samples(client)
    breached = {dict(pairs)["name"]: v for (name, pairs), v in found.items() if name == "heating_deadlines_breached"}
    recent = {
        dict(pairs)["name"]: v for (name, pairs), v in found.items() if name == "heating_deadlines_breached_last_hour"
    }
    assert breached and all(v >= 1 for v in breached.values())
    assert recent == breached
    overdue = [v for (name, pairs), v in found.items() if name == "heating_deadlines" and ("state", "overdue") in pairs]
    assert sum(overdue) >= 1


def test_a_well_formed_correlation_id_is_kept_and_another_replaced(client: TestClient) -> None:
    kept = client.get("/health/live", headers={CORRELATION_HEADER: "abcdef0123456789"})
    assert kept.headers[CORRELATION_HEADER] == "abcdef0123456789"
    replaced = client.get("/health/live", headers={CORRELATION_HEADER: "x'; drop"})
    assert re.fullmatch(r"[0-9a-f]{16}", replaced.headers[CORRELATION_HEADER])
    fresh = client.get("/health/live")
    assert re.fullmatch(r"[0-9a-f]{16}", fresh.headers[CORRELATION_HEADER])
    assert fresh.headers[CORRELATION_HEADER] != replaced.headers[CORRELATION_HEADER]


def test_a_requests_log_lines_carry_its_correlation_id() -> None:
    """What a route logs is written under the request's correlation id, masked (heating_standard/privacy.py)."""
    import io

    from fastapi import FastAPI

    from api.logs import JsonFormatter
    from api.metrics import ObservedRequests

    app = FastAPI()
    app.add_middleware(ObservedRequests)

    @app.get("/orders/{number}")
    def read(number: str) -> dict[str, str]:
        logging.getLogger("api.test").warning("looked up %s for 13912345678", number)
        return {"number": number}

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("api"))
    logging.getLogger("api.test").addHandler(handler)
    try:
        TestClient(app).get("/orders/RX-1", headers={CORRELATION_HEADER: "staff-req-0001"})
    finally:
        logging.getLogger("api.test").removeHandler(handler)
    line = json.loads(stream.getvalue().splitlines()[0])
    assert line["correlation_id"] == "staff-req-0001"
    assert line["message"] == "looked up RX-1 for 139****5678"
    assert line["process"] == "api"


def test_openapi_lists_work_order_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/work-orders" in paths
    assert "/api/v1/work-orders/{order_id}" in paths


def test_scrapes_close_together_read_the_database_once_and_a_failing_figure_leaves_the_others(
    client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "READ_SECONDS", 60.0)
    gauges = metrics.register.registered  # type: ignore[attr-defined]
    readings = []
    read = gauges._from_database

    def counted() -> list:
        readings.append(1)
        return read()

    monkeypatch.setattr(gauges, "_from_database", counted)
    first = samples(client)
    file_order(client, auth)
    second = samples(client)  # within the minute: what was read
    assert len(readings) == 1
    assert value(second, "heating_work_orders", kind="repair", source="wechat", status="accepted") == value(
        first, "heating_work_orders", kind="repair", source="wechat", status="accepted"
    )

    def broken(_session: object) -> list:
        raise ValueError("a figure that cannot be read")

    monkeypatch.setattr(gauges, "_kpi", broken)
    monkeypatch.setattr(metrics, "READ_SECONDS", 0.0)
    third = samples(client)
    assert value(third, "heating_work_orders", kind="repair", source="wechat", status="accepted") == 1
    assert not [name for name, _ in third if name == "heating_kpi_ratio"]
