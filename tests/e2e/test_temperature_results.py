"""A room-temperature test's result through every layer (10.3 第1条 a): staff record the three readings with
the resident's WeChat confirmation as the signature, the result reaches the phone with numbered options, the
resident replies, and the order keeps the answer."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import eventually, inbox
from tests.e2e.test_walking_skeleton import phone


def test_the_resident_confirms_a_temperature_result_on_the_phone(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-temperature"
    phone(env, openid, "text", "你好")  # the resident has written: the 48-hour window is open
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    staff = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    order = {
        "kind": "temperature_test",
        "category": "room_temperature",
        "source": "wechat",
        "description": "屋里只有16度",
        "resident_openid": openid,
        "address": "阳光小区8号楼1单元202",
    }
    created = httpx.post(env["API_URL"] + "/api/v1/work-orders", json=order, headers=machine).json()
    url = env["API_URL"] + f"/api/v1/work-orders/{created['id']}"
    for step, body in (("respond", {}), ("dispatch", {"technician": "王师傅"}), ("arrive", {})):
        assert httpx.post(f"{url}/actions/{step}", json=body, headers=staff).status_code == 200
    record = {
        "readings": [17.5, 17.6, 17.8],
        "instrument": "数字式温度计 T-07",
        "resolution": "0.1",
        "room": "bedroom",
        "signature": "wechat",
    }
    done = httpx.post(f"{url}/actions/complete", json={"result": "已测温", "temperature_test": record}, headers=staff)
    assert done.status_code == 200, done.text
    shown = eventually(lambda: [m for m in inbox(env, openid) if "【入户测温结果】" in m["text"]], bool)
    assert shown, "the result never reached the phone"
    assert "实测室温 17.6℃，未达到18℃" in shown[0]["text"] and "回复 1" in shown[0]["text"]
    answer = phone(env, openid, "text", "1")
    assert "确认了工单" in answer["reply"], answer
    kept = httpx.get(url, headers=staff).json()["temperature_test"]
    assert kept["resident_confirmed_at"] is not None and kept["resident_disputed_at"] is None
