"""Grid workers (11.4): registered by a supervisor, bound to their WeChat by a one-time code sent to
the bot; they then list only their communities' orders, and staff see who forwarded what."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Browser, FixedClock

WORKER = {"name": "刘网格", "phone": "13700137000", "communities": ["阳光小区", "和平小区"]}


def register(client: TestClient, supervisor: dict) -> dict:
    made = client.post("/api/v1/grid-workers", json=WORKER, headers=supervisor)
    assert made.status_code == 201, made.text
    return dict(made.json())


def bind(client: TestClient, auth: dict, openid: str, code: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/grid-workers/bind", json={"openid": openid, "code": code}, headers=auth)


def test_a_code_binds_once_and_the_worker_is_known_by_wechat(client: TestClient, auth: dict, supervisor: dict) -> None:
    worker = register(client, supervisor)
    code = worker["bind_code"]
    assert worker["openid"] is None and len(code) == 9 and code[4] == "-"
    assert client.get("/api/v1/grid-workers/oGRID-1", headers=auth).status_code == 404
    bound = bind(client, auth, "oGRID-1", code.lower().replace("-", " "))
    assert bound.status_code == 200 and bound.json()["openid"] == "oGRID-1"
    assert client.get("/api/v1/grid-workers/oGRID-1", headers=auth).json()["communities"] == ["阳光小区", "和平小区"]
    assert bind(client, auth, "oSOMEONE-ELSE", code).status_code == 404  # one time only


def test_a_code_expires_and_wrong_codes_lock_the_sender(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock
) -> None:
    code = register(client, supervisor)["bind_code"]
    for _ in range(5):
        assert bind(client, auth, "oGUESSER", "AAAA-AAAA").status_code == 404
    assert bind(client, auth, "oGUESSER", code).status_code == 429  # even the right code, for an hour
    clock.advance(hours=73)
    assert bind(client, auth, "oGRID-2", code).status_code == 404  # expired after 72 hours


def test_a_new_code_moves_the_binding_to_a_new_phone(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, supervisor: dict
) -> None:
    worker = register(client, supervisor)
    bind(client, auth, "oOLD-PHONE", worker["bind_code"])
    boss = browser("supervisor")
    page = boss.post(f"/console/grid-workers/{worker['id']}/code").text
    new_code = page.split('data-code="')[1].split('"')[0]
    assert bind(client, auth, "oNEW-PHONE", new_code).status_code == 200
    assert client.get("/api/v1/grid-workers/oOLD-PHONE", headers=auth).status_code == 404


def test_the_console_registers_a_worker_shows_the_code_once_and_who_forwarded_what(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    desk, boss = browser("agent"), browser("supervisor")
    form = {"name": "刘网格", "phone": "13700137000", "communities": "阳光小区、和平小区"}
    assert desk.post("/console/grid-workers", form).status_code == 403
    made = boss.post("/console/grid-workers", form)
    assert made.status_code == 200 and "绑定 " in made.text
    code = made.text.split('data-code="')[1].split('"')[0]
    assert code not in boss.get("/console/grid-workers").text  # shown once: only its hash is kept
    assert "待绑定" in boss.get("/console/grid-workers").text
    bind(client, auth, "oGRID-9", code)
    listed = boss.get("/console/grid-workers").text
    assert "已绑定" in listed and "137****7000" in listed and "13700137000" not in listed
    forwarded = client.post(
        "/api/v1/work-orders",
        json={
            "kind": "repair",
            "category": "equipment",
            "source": "grid_worker",
            "description": "5号楼阀门坏了",
            "address": "阳光小区5号楼1单元101",
            "forwarded_by_openid": "oGRID-9",
        },
        headers=auth,
    ).json()
    assert "网格员转办：刘网格" in desk.get(f"/console/orders/{forwarded['id']}").text
