"""A paid repair's quote through every layer (10.2.2): staff quote, the resident gets it on the phone
with numbered options, replies "1", and the order records the resident's confirmation."""

from __future__ import annotations

import time

import httpx

from tests.e2e.conftest import eventually, inbox
from tests.e2e.test_walking_skeleton import phone


def quoted_repair(env: dict[str, str], openid: str, address: str) -> tuple[str, dict[str, str], list[dict]]:
    """A repair of the resident's, worked up to a quote of 45.50 元 (10.2.2): its URL, the staff's headers
    and the quote messages that reached the phone."""
    phone(env, openid, "text", "你好")  # the resident has written: the 48-hour window is open
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    staff = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    order = {
        "kind": "repair",
        "category": "equipment",
        "source": "wechat",
        "description": "暖气阀门坏了",
        "resident_openid": openid,
        "address": address,
    }
    created = httpx.post(env["API_URL"] + "/api/v1/work-orders", json=order, headers=machine).json()
    url = env["API_URL"] + f"/api/v1/work-orders/{created['id']}"
    for step, body in (("respond", {}), ("dispatch", {"technician": "王师傅"}), ("arrive", {})):
        assert httpx.post(f"{url}/actions/{step}", json=body, headers=staff).status_code == 200
    items = [{"item": "更换暖气阀门", "material": "DN20铜阀", "quantity": 1, "price": "45.50"}]
    assert httpx.post(f"{url}/actions/quote", json={"quote_items": items}, headers=staff).status_code == 200
    shown = eventually(lambda: [m for m in inbox(env, openid) if "【维修报价】" in m["text"]], bool)
    return url, staff, shown


def test_the_resident_confirms_a_quote_on_the_phone(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-quote"
    url, staff, shown = quoted_repair(env, openid, "阳光小区8号楼1单元101")
    assert shown, "the quote never reached the phone"
    assert "合计 45.50 元" in shown[0]["text"] and "回复 1" in shown[0]["text"]
    answer = phone(env, openid, "text", "1")
    assert "已确认工单" in answer["reply"]
    confirmed = httpx.get(url, headers=staff).json()
    assert confirmed["quote_confirmed_at"] is not None
    done = httpx.post(f"{url}/actions/complete", json={"result": "已更换阀门"}, headers=staff)
    assert done.status_code == 200 and done.json()["status"] == "completed"


def test_a_quote_sent_while_the_resident_files_another_repair_waits_for_the_filing(
    running_stack: dict[str, str],
) -> None:
    """While a form is active Rasa gives every message to the form: the quote would be lost (and read as
    the form's answer). It waits until the filing is over, then reaches the phone and is answered."""
    env = running_stack
    openid = "oE2E-quote-mid-filing"
    phone(env, openid, "text", "你好")
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    staff = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    order = {
        "kind": "repair",
        "category": "equipment",
        "source": "wechat",
        "description": "暖气阀门坏了",
        "resident_openid": openid,
        "address": "阳光小区9号楼1单元101",
    }
    created = httpx.post(env["API_URL"] + "/api/v1/work-orders", json=order, headers=machine).json()
    url = env["API_URL"] + f"/api/v1/work-orders/{created['id']}"
    for step, body in (("respond", {}), ("dispatch", {"technician": "王师傅"}), ("arrive", {})):
        assert httpx.post(f"{url}/actions/{step}", json=body, headers=staff).status_code == 200
    asked = phone(env, openid, "text", "卫生间的暖气片漏水了")["reply"]  # a new filing: the form asks on
    assert "地址" in asked or "电话" in asked or "确认" in asked, asked
    items = [{"item": "更换暖气阀门", "material": "DN20铜阀", "quantity": 1, "price": "45.50"}]
    assert httpx.post(f"{url}/actions/quote", json={"quote_items": items}, headers=staff).status_code == 200
    time.sleep(6)  # the scheduler passes every second: it would have sent the quote by now
    assert not [m for m in inbox(env, openid) if "【维修报价】" in m["text"]]
    phone(env, openid, "text", "取消")  # the resident gives up the new filing
    shown = eventually(lambda: [m for m in inbox(env, openid) if "【维修报价】" in m["text"]], bool, seconds=60)
    assert shown and "合计 45.50 元" in shown[0]["text"]
    assert "已确认工单" in phone(env, openid, "text", "1")["reply"]
