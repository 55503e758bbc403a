"""A paid repair's quote through every layer (10.2.2): staff quote, the resident gets it on the phone
with numbered options, replies "1", and the order records the resident's confirmation."""

from __future__ import annotations

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
