"""An announcement through every layer (9.2.1): a supervisor drafts a price change from the operator file and
approves it; at its time the backend asks the WeChat channel, which mass-sends it through the simulated
platform to every follower, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.e2e.conftest import eventually, inbox
from tests.e2e.test_walking_skeleton import phone


def test_a_price_change_reaches_every_follower_once(running_stack: dict[str, str]) -> None:
    env = running_stack
    followers = ("oE2E-announce-1", "oE2E-announce-2")
    for openid in followers:
        phone(env, openid, "text", "你好")  # whoever writes follows the account
    boss = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    url = env["API_URL"] + "/api/v1/announcements"
    at = datetime.now(UTC) + timedelta(seconds=8)
    body = {
        "kind": "price_change",
        "scheduled_at": at.isoformat(),
        "price_from": (at + timedelta(days=2)).date().isoformat(),
    }
    preview = httpx.post(f"{url}/preview", json=body, headers=boss)
    assert preview.status_code == 200, preview.text
    assert preview.json()["recipients"] >= len(followers)  # the platform's count, through the channel
    made = httpx.post(url, json=body, headers=boss).json()
    approved = httpx.post(f"{url}/{made['id']}/approve", headers=boss)
    assert approved.status_code == 200, approved.text

    def sent() -> dict:
        return next(a for a in httpx.get(url, headers=boss).json()["items"] if a["id"] == made["id"])

    assert eventually(sent, lambda a: a["status"] == "sent", seconds=60)["status"] == "sent"
    for openid in followers:
        received = [m for m in inbox(env, openid) if m["kind"] == "mass"]
        assert [m["text"] for m in received] == [made["text"]]
