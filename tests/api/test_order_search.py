"""One search box finds an order by its number, the phone's last four digits, its community and building,
or the resident's family name: what staff see of it (12.1), never more; the board shows the most urgent
first (#25)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.views import search
from tests.api.conftest import Browser, FixedClock, act, act_ok

ORDERS = "/api/v1/work-orders"


def filed(client: TestClient, auth: dict, **fields: Any) -> dict[str, Any]:
    body = {"kind": "complaint", "category": "room_temperature", "source": "phone", "description": "屋里冷"}
    made = client.post(ORDERS, json={**body, **fields}, headers=auth)
    assert made.status_code == 201, made.text
    return dict(made.json())


def found(client: TestClient, who: dict, q: str, **params: str) -> list[str]:
    answer = client.get(ORDERS, params={"q": q, "status": "accepted", **params}, headers=who)
    assert answer.status_code == 200, answer.text
    return [o["number"] for o in answer.json()["items"]]


@pytest.fixture
def orders(client: TestClient, auth: dict) -> dict[str, str]:
    made = {
        "sun": filed(client, auth, address="阳光小区3号楼2单元501", phone="13800001234", contact_name="王建国"),
        "peace": filed(client, auth, address="和平小区12号楼1单元1203", phone="0631-5201234"),
        "sea": filed(client, auth, address="海滨花园8号楼3单元302", phone="13912345678", contact_name="李秀英"),
    }
    return {key: order["number"] for key, order in made.items()}


def test_the_community_or_building_finds_the_order(client: TestClient, agent: dict, orders: dict[str, str]) -> None:
    assert found(client, agent, "阳光") == [orders["sun"]]
    assert found(client, agent, "小区") == [orders["peace"], orders["sun"]]  # newest first
    assert found(client, agent, "12号楼") == [orders["peace"]]
    assert found(client, agent, "阳光小区　３号楼") == [orders["sun"]]  # full-width and spaced, as typed
    assert found(client, agent, "光明小区") == []


def test_the_phones_last_four_digits_or_the_order_number_finds_it(
    client: TestClient, agent: dict, orders: dict[str, str]
) -> None:
    assert found(client, agent, "1234") == [orders["peace"], orders["sun"]]  # both phones end in 1234
    assert found(client, agent, "5678") == [orders["sea"]]
    assert found(client, agent, orders["sea"]) == [orders["sea"]]
    assert found(client, agent, orders["sea"].lower()) == [orders["sea"]]
    assert found(client, agent, orders["sea"][-6:]) == [orders["sea"]]
    assert found(client, agent, "2026") == []  # four digits are a phone's, not any order number's year


def test_a_search_tells_nothing_the_masked_page_hides(
    client: TestClient, agent: dict, supervisor: dict, orders: dict[str, str]
) -> None:
    """Staff see 阳光小区3号楼****, 王** and 138****1234: a search for the unit, the room, the given name or the
    middle digits finds nothing, so it cannot be used to test guesses against the hidden data."""
    assert found(client, agent, "王") == [orders["sun"]] and found(client, agent, "李") == [orders["sea"]]
    for who in (agent, supervisor):
        for hidden in ("2单元", "501", "1203", "王建国", "秀英", "0000"):
            assert found(client, who, hidden) == [], hidden


def test_a_search_is_text_not_a_pattern(client: TestClient, agent: dict, orders: dict[str, str]) -> None:
    assert found(client, agent, "%") == [] and found(client, agent, "_") == []
    assert found(client, agent, "阳光%3号楼") == []
    assert client.get(ORDERS, params={"q": "x" * 65}, headers=agent).status_code == 422


def test_erased_personal_data_is_no_longer_found(
    client: TestClient, agent: dict, supervisor: dict, orders: dict[str, str]
) -> None:
    [sea] = client.get(ORDERS, params={"q": orders["sea"]}, headers=agent).json()["items"]
    assert act(client, supervisor, sea["id"], "cancel", note="居民撤回").status_code == 200
    act_ok(client, agent, sea["id"], "close")
    erasure = {"phone": "13912345678", "reason": "居民来电申请删除"}
    assert client.post("/api/v1/personal-data/erase", json=erasure, headers=supervisor).status_code == 200
    assert found(client, agent, "8号楼", status="closed") == [] and found(client, agent, "5678", status="closed") == []
    assert found(client, agent, "李", status="closed") == []
    assert found(client, agent, "海滨", status="closed") == [orders["sea"]]  # the community is kept (KPIs)
    assert found(client, agent, orders["sea"], status="closed") == [orders["sea"]]


def test_the_bot_may_not_search(client: TestClient, auth: dict, orders: dict[str, str]) -> None:
    refused = client.get(ORDERS, params={"q": "阳光", "resident_openid": "oX"}, headers=auth)
    assert refused.status_code == 422 and "q" in refused.text


def test_by_urgency_overdue_and_the_soonest_deadline_come_first(
    client: TestClient, auth: dict, agent: dict, clock: FixedClock
) -> None:
    """Newest first put tomorrow's visit above orders already late; by urgency it goes below them."""
    late = filed(client, auth, address="阳光小区1号楼1单元101")
    clock.advance(hours=2)
    later = filed(client, auth, address="阳光小区1号楼1单元102")
    leak = filed(client, auth, kind="repair", category="leak", address="阳光小区1号楼1单元103")
    urgent = client.get(ORDERS, params={"sort": "urgency", "status": "accepted"}, headers=agent).json()["items"]
    newest = client.get(ORDERS, params={"status": "accepted"}, headers=agent).json()["items"]
    assert [o["number"] for o in newest] == [leak["number"], later["number"], late["number"]]
    assert [o["number"] for o in urgent] == [late["number"], leak["number"], later["number"]]
    assert client.get(ORDERS, params={"sort": "oldest"}, headers=agent).status_code == 422


def test_the_search_columns_fold_and_keep_only_what_staff_see() -> None:
    assert search.searched("阳光小区", "阳光小区3号楼2单元501", "3", "王建国") == "阳光小区|阳光小区3号楼****|王**"
    assert search.search_text("阳光小区", "阳光小区 3号楼", None) == "阳光小区|阳光小区3号楼"
    assert search.search_text(None, "", "  ") is None
    assert search.phone_tail("138 0000 1234") == "1234" and search.phone_tail("123") is None
    assert search.parse("  ") is None
    read = search.parse("ＧＤ２０２６１２０６")
    assert read is not None and read.number == "GD20261206" and read.phone_tail is None


def test_the_board_searches_and_shows_the_most_urgent_first(
    browser: Callable[[str], Browser], auth: dict, clock: FixedClock
) -> None:
    desk = browser("agent")
    late = filed(desk.client, auth, address="阳光小区1号楼1单元101")
    clock.advance(hours=2)
    newer = filed(desk.client, auth, address="和平小区2号楼1单元101")
    board = desk.get("/console/orders").text
    assert board.index(late["number"]) < board.index(newer["number"])  # the late one first
    assert 'name="q"' in board and "最紧急在前" in board and "维修人员" in board
    searched = desk.get("/console/orders", params={"q": "阳光"}, headers={"HX-Request": "true"}).text
    assert late["number"] in searched and newer["number"] not in searched
    newest = desk.get("/console/orders", params={"sort": "newest"}, headers={"HX-Request": "true"}).text
    assert newest.index(newer["number"]) < newest.index(late["number"])
