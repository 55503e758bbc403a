"""Dialogue repair through the WeChat simulator (#23): "尽快" for a visit, a cancel with its reason, a
quote answered in words, an order asked for by its number, and residents named in a grid worker's line."""

from __future__ import annotations

from datetime import datetime

import httpx

from tests.e2e.conftest import orders_of, work_orders
from tests.e2e.test_grid_worker import register
from tests.e2e.test_quotes import quoted_repair
from tests.e2e.test_walking_skeleton import phone


def test_a_repair_wanted_as_soon_as_possible_is_due_within_30_minutes(running_stack: dict[str, str]) -> None:
    """10.2.4: no appointment is booked; the backend's arrival deadline is 30 minutes after acceptance,
    and the confirmation says so."""
    env = running_stack
    openid = "oE2E-asap"
    asked = phone(env, openid, "text", "我家暖气阀门坏了 碧海苑6号楼2单元301 电话13605310001")["reply"]
    assert "尽快" in asked and "10.2.4" in asked, asked  # the visit question offers it
    summary = phone(env, openid, "text", "越快越好")["reply"]
    assert "上门时间：尽快（接单后30分钟内到达，10.2.4）" in summary, summary
    filed = phone(env, openid, "text", "是")["reply"]
    assert "接单后30分钟内到达" in filed, filed
    [order] = orders_of(env, openid)
    assert order["appointment_at"] is None
    accepted, arrival = (
        datetime.fromisoformat(order[k].replace("Z", "+00:00")) for k in ("accepted_at", "arrival_due_at")
    )
    assert (arrival - accepted).total_seconds() == 30 * 60


def test_a_cancel_with_its_reason_while_the_phone_is_asked_files_nothing(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-cancel-reason"
    phone(env, openid, "text", "家里暖气不热")
    assert "电话" in phone(env, openid, "text", "碧海苑6号楼2单元302")["reply"]
    stopped = phone(env, openid, "text", "不用了，暖气已经好了")["reply"]
    assert "取消" in stopped and "号码好像不对" not in stopped, stopped
    assert orders_of(env, openid) == []


def test_agreeing_to_a_quote_in_words_confirms_it_and_thanks_for_no_evaluation(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-quote-words"
    url, staff, shown = quoted_repair(env, openid, "碧海苑8号楼1单元101")
    assert shown
    answer = phone(env, openid, "text", "同意")["reply"]
    assert "已确认工单" in answer and "评价" not in answer, answer
    assert httpx.get(url, headers=staff).json()["quote_confirmed_at"] is not None
    # a rating nobody asked for is not thanked for
    assert "感谢您的评价" not in phone(env, openid, "text", "满意")["reply"]


def test_an_order_asked_for_by_its_number_is_shown(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-order-number"
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    numbers = []
    for room in (101, 102):
        order = {
            "kind": "repair",
            "category": "equipment",
            "source": "wechat",
            "description": "暖气阀门坏了",
            "resident_openid": openid,
            "address": f"碧海苑9号楼1单元{room}",
        }
        numbers.append(httpx.post(env["API_URL"] + "/api/v1/work-orders", json=order, headers=machine).json()["number"])
    shown = phone(env, openid, "text", f"{numbers[0]}到哪一步了")["reply"]
    assert f"您查询的工单 {numbers[0]}" in shown and numbers[1] not in shown, shown


def test_named_households_in_one_line_are_filed_whole(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-grid-named"
    assert "绑定成功" in phone(env, openid, "text", f"绑定 {register(env, '钱网格', '红枫苑')}")["reply"]
    listed = phone(
        env,
        openid,
        "text",
        # without a lead-in such as this one the NLU takes the message for details given with nothing to file
        "帮居民反映：红枫苑8号楼1单元101的李大爷家和9号楼2单元202的赵阿姨家都不热，"
        "李大爷电话13912345678，赵阿姨电话13887654321",
    )["reply"]
    assert "1. 投诉：红枫苑8号楼1单元101，电话：13912345678；" in listed, listed
    assert "2. 投诉：红枫苑9号楼2单元202，电话：13887654321；" in listed, listed
    phone(env, openid, "text", "是")
    orders = work_orders(env, community="红枫苑")
    assert sorted((o["address"], o["phone"]) for o in orders) == [
        ("红枫苑8号楼1单元101", "13912345678"),
        ("红枫苑9号楼2单元202", "13887654321"),
    ]
