"""A resident's erasure through every layer (12.1): the conversation and the channel's outbox on the
Rasa side, then the backend's orders, in one request of a supervisor."""

from __future__ import annotations

import httpx

from tests.e2e.test_walking_skeleton import phone


def test_a_supervisor_erases_a_resident_everywhere(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-erase"
    phone(env, openid, "text", "你好")
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    staff = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    order = {
        "kind": "consultation",
        "category": "other",
        "source": "wechat",
        "description": "我是赵六，想咨询",
        "resident_openid": openid,
        "phone": "13700137000",
        "address": "阳光小区9号楼1单元101",
    }
    created = httpx.post(env["API_URL"] + "/api/v1/work-orders", json=order, headers=machine).json()
    url = env["API_URL"] + f"/api/v1/work-orders/{created['id']}"
    for step, body in (("respond", {}), ("cancel", {"note": "居民已自行解决"}), ("close", {})):
        assert httpx.post(f"{url}/actions/{step}", json=body, headers=staff).status_code == 200, step
    tracker = env["RASA_URL"] + f"/conversations/{openid}/tracker"
    token = {"token": env["RASA_AUTH_TOKEN"]}
    assert any(e.get("event") == "user" for e in httpx.get(tracker, params=token).json()["events"])
    outbox = env["RASA_URL"] + "/webhooks/wechat/outbox"
    bearer = {"Authorization": f"Bearer {env['RASA_AUTH_TOKEN']}"}

    exported = httpx.get(env["API_URL"] + "/api/v1/personal-data", params={"openid": openid}, headers=staff).json()
    assert exported["conversation"] and exported["work_orders"][0]["phone"] == "13700137000"

    erased = httpx.post(
        env["API_URL"] + "/api/v1/personal-data/erase",
        json={"openid": openid, "reason": "居民来电申请删除"},
        headers=staff,
    )
    assert erased.status_code == 200, erased.text
    assert not [e for e in httpx.get(tracker, params=token).json()["events"] if e.get("event") == "user"]
    assert httpx.get(outbox, params={"openid": openid}, headers=bearer).json()["messages"] == []
    kept = httpx.get(url, headers=staff).json()
    assert (kept["kind"], kept["status"], kept["phone"], kept["resident_openid"]) == (
        "consultation",
        "closed",
        None,
        None,
    )


def test_the_channels_erasure_endpoints_need_the_token_and_sane_input(running_stack: dict[str, str]) -> None:
    """Who may call forget and prune, and what strange input costs: nothing is erased without the
    token, without an openid, or for a time ahead of now."""
    env = running_stack
    openid = "oE2E-keep"
    phone(env, openid, "text", "你好")
    base = env["RASA_URL"] + "/webhooks/wechat"
    rasa = {"Authorization": f"Bearer {env['RASA_AUTH_TOKEN']}"}
    for path, body in (("forget", {"openid": openid}), ("prune", {"before": 1.0})):
        assert httpx.post(f"{base}/{path}", json=body).status_code == 401
        assert httpx.post(f"{base}/{path}", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.post(f"{base}/forget", json={"openid": ""}, headers=rasa).status_code == 422
    assert httpx.post(f"{base}/forget", json={"openid": "o" * 65}, headers=rasa).status_code == 422
    for before in (4e9, "yesterday", True, None):  # ahead of now, or not a time: everything would go
        assert httpx.post(f"{base}/prune", json={"before": before}, headers=rasa).status_code == 422
    tracker = env["RASA_URL"] + f"/conversations/{openid}/tracker"
    events = httpx.get(tracker, params={"token": env["RASA_AUTH_TOKEN"]}).json()["events"]
    assert any(e.get("event") == "user" for e in events)  # still there
