"""The season's room-temperature sampling plan through the API (5.4.2–5.4.4) and its households in C."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import operator_file, temperature_record, to_site

POSITIONS, SIDES, FLOORS = ("near", "middle", "far"), ("shaded", "sunny"), ("upper", "middle", "lower")


@pytest.fixture
def client_settings(tmp_path: Path) -> dict[str, object]:
    """The sample operator file, for a company of 300 heat users (5.4.2's base)."""
    return {"operator_config": operator_file(tmp_path, users=300)}


def household_list(count: int) -> list[dict]:
    """``count`` households of 阳光小区, their attributes cycling through every combination."""
    combos = itertools.cycle(itertools.product(POSITIONS, SIDES, FLOORS))
    return [
        {
            "address": f"阳光小区{n // 100 + 1}号楼1单元{n % 100 + 101}",
            **dict(zip(("position", "orientation", "floor_level"), next(combos), strict=True)),
        }
        for n in range(count)
    ]


def test_a_plan_draws_its_share_spread_over_the_network_and_books_each_visit(
    client: TestClient, agent: dict, supervisor: dict
) -> None:
    rows = household_list(300)
    assert client.post("/api/v1/households/import", json={"households": rows}, headers=agent).status_code == 403
    loaded = client.post("/api/v1/households/import", json={"households": rows}, headers=supervisor)
    assert loaded.json() == {"created": 300, "updated": 0, "total": 300}
    again = client.post("/api/v1/households/import", json={"households": rows[:10]}, headers=supervisor)
    assert again.json() == {"created": 0, "updated": 10, "total": 300}

    body = {"first_day": "2026-12-14", "last_day": "2026-12-18", "collector": "李工", "seed": 11}
    plan = client.post("/api/v1/sampling-plans", json=body, headers=supervisor)
    assert plan.status_code == 201, plan.text
    plan = plan.json()
    # sample heated area 5,000,000 m2: 2 % of the company's 300 heat users (5.4.2 b)
    assert (plan["population"], plan["share"], plan["size"], plan["visits"]) == (300, 0.02, 6, 6)
    assert plan["spread"]["shortfalls"] == []
    assert plan["spread"]["achieved"]["position"] == {"near": 1, "middle": 2, "far": 3}  # 20/30/50 % of 6
    assert client.post("/api/v1/sampling-plans", json=body, headers=supervisor).status_code == 409  # one a season

    visits = client.get("/api/v1/work-orders", params={"source": "sampling", "limit": 50}, headers=agent).json()[
        "items"
    ]
    assert len(visits) == 6 and {v["kind"] for v in visits} == {"temperature_test"}
    days = sorted(v["appointment_at"][:10] for v in visits)
    assert days[0] >= "2026-12-14" and days[-1] <= "2026-12-18" and len(set(days)) >= 4  # spread over the days
    # confirmed by the visit, made then, recorded that day: nothing is due before the appointment
    assert all(v["response_due_at"] == v["arrival_due_at"] == v["appointment_at"] for v in visits)


def test_a_household_list_short_of_5_4_2s_minimum_is_refused(
    make_client: Callable[..., TestClient], tmp_path: Path, staff: Callable[[str], dict]
) -> None:
    """5.4.2 counts the company's heat users, not the households the system knows: a partial list cannot
    make a plan below the minimum, and a file without the user count makes none."""
    short = make_client(operator_config=operator_file(tmp_path, users=60_000))
    supervisor = staff("supervisor")
    short.post("/api/v1/households/import", json={"households": household_list(300)}, headers=supervisor)
    body = {"first_day": "2026-12-14", "last_day": "2026-12-18", "collector": "李工"}
    refused = short.post("/api/v1/sampling-plans", json=body, headers=supervisor)
    assert refused.status_code == 422 and refused.json()["field"] == "households"
    assert "不少于热用户总户数的2%（5.4.2），即60000户中至少1200户" in refused.json()["message"]
    assert "户表只有300户" in refused.json()["message"]
    (tmp_path / "unknown").mkdir()
    unknown = make_client(operator_config=operator_file(tmp_path / "unknown", users=None))
    not_sized = unknown.post("/api/v1/sampling-plans", json=body, headers=supervisor)
    assert not_sized.status_code == 422 and not_sized.json()["field"] == "users"


def test_a_plan_needs_households_and_a_future_period(client: TestClient, supervisor: dict) -> None:
    empty = client.post(
        "/api/v1/sampling-plans",
        json={"first_day": "2026-12-14", "last_day": "2026-12-18", "collector": "李工"},
        headers=supervisor,
    )
    assert empty.status_code == 422 and empty.json()["field"] == "households"
    past = client.post(
        "/api/v1/sampling-plans",
        json={"first_day": "2026-12-10", "last_day": "2026-12-18", "collector": "李工"},
        headers=supervisor,
    )
    assert past.status_code == 422 and past.json()["field"] == "first_day"
    bad_row = client.post(
        "/api/v1/households/import", json={"households": [{"address": "阳光小区"}]}, headers=supervisor
    )
    assert bad_row.status_code == 422 and "row 1" in bad_row.json()["message"]


def test_nobody_files_a_sampling_visit_by_hand(client: TestClient, auth: dict) -> None:
    body = {
        "kind": "temperature_test",
        "category": "room_temperature",
        "source": "sampling",
        "description": "x",
        "appointment_at": "2026-12-14T09:00:00+08:00",
    }
    refused = client.post("/api/v1/work-orders", json=body, headers=auth)
    assert refused.status_code == 422 and refused.json()["field"] == "source"


def test_compliance_counts_the_plans_households_apart_from_requested_tests(
    client: TestClient,
    auth: dict,
    staff,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    supervisor = staff("supervisor")
    client.post("/api/v1/households/import", json={"households": household_list(300)}, headers=supervisor)
    body = {"first_day": "2026-12-11", "last_day": "2026-12-11", "collector": "李工", "seed": 5}
    assert client.post("/api/v1/sampling-plans", json=body, headers=supervisor).json()["size"] == 6
    requested = client.post(
        "/api/v1/work-orders",
        json={
            "kind": "temperature_test",
            "category": "room_temperature",
            "source": "wechat",
            "description": "冷",
            "address": "和平小区1号楼1单元101",
        },
        headers=auth,
    ).json()
    clock.advance(days=1)  # the visit day
    agent = staff("agent")
    visits = client.get("/api/v1/work-orders", params={"source": "sampling"}, headers=agent).json()["items"]
    for visit, temperature in zip(visits, (19.0, 17.5, 18.0, 18.1, 18.2, 18.3), strict=True):
        to_site(client, agent, visit["id"])
        done = client.post(
            f"/api/v1/work-orders/{visit['id']}/actions/complete",
            json={"temperature_test": temperature_record(temperature)},
            headers=agent,
        )
        assert done.status_code == 200, done.text
    to_site(client, agent, requested["id"])
    client.post(
        f"/api/v1/work-orders/{requested['id']}/actions/complete",
        json={"temperature_test": temperature_record(18.2)},
        headers=agent,
    )
    report = client.get(
        "/api/v1/kpis", params={"start": "2026-12-01T00:00:00+08:00", "end": "2027-01-01T00:00:00+08:00"}, headers=agent
    ).json()
    c = {k["name"]: (k["numerator"], k["denominator"]) for k in report["kpis"]}
    assert c["room_temperature_compliance"] == (6, 7)  # one figure, the plan's households and the requested one
    assert "room_temperature_compliance_on_request" not in c
    plans = client.get("/api/v1/sampling-plans", headers=agent).json()["items"]
    assert (plans[0]["visits"], plans[0]["done"]) == (6, 6)


def test_the_household_list_is_bounded_and_a_repeated_home_is_one_household(
    client: TestClient, supervisor: dict
) -> None:
    twice = [{"address": "阳光小区1号楼1单元101", "position": "far"}, {"address": "阳光小区1号楼1单元101"}]
    loaded = client.post("/api/v1/households/import", json={"households": twice}, headers=supervisor)
    assert loaded.json() == {"created": 1, "updated": 1, "total": 1}
    too_many = household_list(5001)
    refused = client.post("/api/v1/households/import", json={"households": too_many}, headers=supervisor)
    assert refused.status_code == 422
    assert client.post("/api/v1/households/import", json={"households": []}, headers=supervisor).status_code == 422
