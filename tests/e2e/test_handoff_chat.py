"""A chat handed to a person, through every layer: the resident asks for a person, an agent takes the
chat, reads what was said, writes to the resident's phone, and reads the resident's answer."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import eventually, inbox, staff_token
from tests.e2e.test_walking_skeleton import phone


def test_an_agent_takes_over_and_chats_with_the_resident(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-handoff"
    agent = {"Authorization": f"Bearer {staff_token(env, 'e2e-agent', 'agent')}"}
    phone(env, openid, "text", "我家暖气不热")
    asked = phone(env, openid, "text", "转人工")
    assert "人工" in asked["reply"]
    waiting = httpx.get(env["API_URL"] + "/api/v1/handoffs", params={"status": "waiting"}, headers=agent).json()
    handoff = next(h for h in waiting["items"] if h["resident_openid"] == openid)
    assert httpx.post(env["API_URL"] + f"/api/v1/handoffs/{handoff['id']}/take", headers=agent).status_code == 200
    chat_url = env["API_URL"] + f"/api/v1/handoffs/{handoff['id']}/messages"
    before = httpx.get(chat_url, headers=agent).json()["items"]
    assert [m["text"] for m in before if m["from"] == "resident"] == ["我家暖气不热", "转人工"]
    assert any(m["from"] == "bot" for m in before)

    sent = httpx.post(chat_url, json={"text": "您好，我是客服，请问室温现在多少度？"}, headers=agent)
    assert sent.status_code == 201 and sent.json()["delivery"] == "sent"
    assert any(m["text"] == "您好，我是客服，请问室温现在多少度？" for m in inbox(env, openid))

    answer = phone(env, openid, "text", "十五度左右")  # the bot is paused: it says nothing
    assert answer["status"] != "reply" or not answer.get("reply")
    after = eventually(
        lambda: httpx.get(chat_url, headers=agent).json()["items"],
        lambda items: any(m["text"] == "十五度左右" for m in items),
        seconds=10,
    )
    assert [(m["from"], m["text"]) for m in after[-2:]] == [
        ("staff", "您好，我是客服，请问室温现在多少度？"),
        ("resident", "十五度左右"),
    ]
