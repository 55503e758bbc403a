"""Whatever a client sends, the answer is a JSON error with a code, never a 500."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELDS = [
    "kind",
    "category",
    "source",
    "description",
    "resident_openid",
    "phone",
    "address",
    "urgent",
    "accepted_at",
    "appointment_at",
    "external_works",
    "forwarded_by_openid",
    "account_number",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=300),
    st.sampled_from(
        [
            "complaint",
            "repair",
            "leak",
            "wechat",
            "2026-12-01T08:00:00+08:00",
            "2026-13-45T99:00:00",
            "13800138000",
            "阳光小区3号楼2单元501",
            "\x00",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=len(FIELDS)))
def test_random_work_order_bodies_never_break_the_server(client: TestClient, auth: dict, body: dict) -> None:
    # json.dumps writes NaN/Infinity, which strict JSON parsers refuse: the server must too, politely.
    resp = client.post(
        "/api/v1/work-orders", content=json.dumps(body), headers={**auth, "Content-Type": "application/json"}
    )
    assert resp.status_code in (200, 201, 422), resp.text
    if resp.status_code == 422:
        assert resp.json()["code"] == "validation_error" and resp.json()["field"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(
        [
            "respond",
            "dispatch",
            "arrive",
            "quote",
            "confirm_quote",
            "complete",
            "return",
            "extend",
            "callback",
            "close",
            "cancel",
            "fly",
        ]
    ),
    body=st.dictionaries(
        st.sampled_from(
            [
                "at",
                "note",
                "working_days",
                "reason",
                "quote_items",
                "method",
                "process_satisfied",
                "result_satisfied",
                "temperature_test",
            ]
        ),
        VALUES,
        max_size=4,
    ),
)
def test_random_actions_never_break_the_server(client: TestClient, auth: dict, action: str, body: dict) -> None:
    order = client.post(
        "/api/v1/work-orders",
        json={"kind": "repair", "category": "equipment", "source": "phone", "description": "x"},
        headers=auth,
    ).json()
    resp = client.post(
        f"/api/v1/work-orders/{order['id']}/actions/{action}",
        content=json.dumps(body),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert resp.json()["code"] in {"validation_error", "transition_not_allowed", "forbidden", "not_found"}
    else:
        assert resp.json()["id"] == order["id"]


def test_a_nul_character_in_any_text_is_refused_on_every_database(client: TestClient, auth: dict) -> None:
    """PostgreSQL cannot store a NUL: it was a 500 there and a 201 on SQLite; now both refuse it."""
    order = {"kind": "complaint", "category": "room_temperature", "source": "wechat", "resident_openid": "oNUL"}
    for field, value in (
        ("description", "屋里冷\u0000"),
        ("address", "阳光小区\u00003号楼"),
        ("resident_openid", "o\u0000"),
    ):
        answer = client.post("/api/v1/work-orders", json={**order, "description": "屋里冷", field: value}, headers=auth)
        assert answer.status_code == 422, (field, answer.text)
        assert "NUL" in answer.text
    assert client.post("/api/v1/work-orders", json={**order, "description": "屋里冷"}, headers=auth).status_code == 201
