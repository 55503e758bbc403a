"""A grid worker (11.4) through every layer: a supervisor registers them, they bind their WeChat by
sending the one-time code to the bot, and then see only their own communities' open orders."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import work_orders
from tests.e2e.test_walking_skeleton import phone


def register(env: dict[str, str], name: str, community: str) -> str:
    """A supervisor registers a grid worker for ``community``; returns the one-time binding code."""
    made = httpx.post(
        env["API_URL"] + "/api/v1/grid-workers",
        json={"name": name, "communities": [community]},
        headers={"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["bind_code"])


def orders_in(env: dict[str, str], community: str) -> list[dict]:
    return work_orders(env, community=community)


def test_a_grid_worker_binds_and_sees_only_their_communities(running_stack: dict[str, str]) -> None:
    env = running_stack
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    code = register(env, "刘网格", "朝阳小区")
    numbers = {}
    for community in ("朝阳小区", "春晖苑"):
        order = httpx.post(
            env["API_URL"] + "/api/v1/work-orders",
            json={
                "kind": "repair",
                "category": "equipment",
                "source": "wechat",
                "description": "阀门坏了",
                "address": f"{community}1号楼1单元101",
                "resident_openid": f"oE2E-grid-resident-{community}",
            },
            headers=machine,
        )
        numbers[community] = order.json()["number"]

    openid = "oE2E-grid-worker"
    wrong = phone(env, openid, "text", "绑定 AAAA-AAAA")
    assert "不正确或已过期" in wrong["reply"]
    bound = phone(env, openid, "text", f"绑定 {code}")
    assert "刘网格，绑定成功" in bound["reply"] and "朝阳小区" in bound["reply"]

    listed = phone(env, openid, "text", "查询工单")["reply"]
    assert numbers["朝阳小区"] in listed and numbers["春晖苑"] not in listed


def test_a_grid_workers_list_of_households_becomes_one_order_each(running_stack: dict[str, str]) -> None:
    """11.4: one message naming two households, one confirmation, two orders; the address without a
    community takes the grid worker's one community."""
    env = running_stack
    openid = "oE2E-grid-list"
    assert "绑定成功" in phone(env, openid, "text", f"绑定 {register(env, '赵网格', '青松苑')}")["reply"]

    listed = phone(
        env,
        openid,
        "text",
        "帮居民报修：\n1. 6号楼1单元602 王大爷 暖气不热 13700000016\n"
        "2. 青松苑7号楼2单元301 李阿姨 暖气片漏水 13700000017",
    )["reply"]
    assert "共2户" in listed and "青松苑6号楼1单元602" in listed and "确认" in listed, listed
    filed = phone(env, openid, "text", "是")["reply"]
    assert "已登记2户" in filed, filed

    orders = orders_in(env, "青松苑")
    assert sorted((o["address"], o["category"], o["source"]) for o in orders) == [
        ("青松苑6号楼1单元602", "room_temperature", "grid_worker"),
        ("青松苑7号楼2单元301", "leak", "grid_worker"),
    ]
    assert all(o["number"] in filed for o in orders)


def test_a_list_over_the_limit_is_refused_whole_and_no_form_waits(running_stack: dict[str, str]) -> None:
    """The largest list a message can carry would be filed with one "是": over the limit nothing is
    filed, the grid worker is told to send it in parts, and the next message is not taken as an answer."""
    env = running_stack
    openid = "oE2E-grid-too-many"
    assert "绑定成功" in phone(env, openid, "text", f"绑定 {register(env, '孙网格', '白桦苑')}")["reply"]
    households = "\n".join(f"{n}. 白桦苑{n}号楼101 暖气不热" for n in range(1, 13))
    refused = phone(env, openid, "text", f"帮居民报修：\n{households}")["reply"]
    assert "列了12户" in refused and "一次最多登记10户" in refused, refused
    assert "地址" not in phone(env, openid, "text", "是")["reply"]
    assert orders_in(env, "白桦苑") == []
