"""The yearly survey through every layer (14.3.2 e): a supervisor starts it, the question reaches a follower's
phone with numbered options, the resident replies, and the survey's figures count the answer."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import eventually, inbox
from tests.e2e.test_walking_skeleton import phone


def test_a_follower_answers_the_yearly_survey_on_the_phone(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-survey"
    phone(env, openid, "text", "你好")
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    boss = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    body = {"kind": "consultation", "category": "other", "source": "wechat", "description": "咨询"}
    httpx.post(env["API_URL"] + "/api/v1/work-orders", json={**body, "resident_openid": openid}, headers=machine)
    started = httpx.post(env["API_URL"] + "/api/v1/campaigns", json={"kind": "survey"}, headers=boss)
    assert started.status_code == 201, started.text
    asked = eventually(lambda: [m for m in inbox(env, openid) if "【供暖服务质量调查】" in m["text"]], bool, seconds=60)
    assert asked and "回复 1" in asked[0]["text"], asked
    answer = phone(env, openid, "text", "1")
    assert "已记录您的评价" in answer["reply"], answer

    def figures() -> dict:
        return next(c for c in httpx.get(env["API_URL"] + "/api/v1/campaigns", headers=boss).json()["items"])

    assert eventually(figures, lambda c: c["satisfied"] >= 1)["satisfied"] >= 1
