"""One message through every layer: WeChat XML -> channel -> Rasa -> action -> backend -> reply."""

from __future__ import annotations

import hashlib
import http.client
import re
import secrets
import time
import urllib.parse
import xml.etree.ElementTree as ET  # parses our own service's reply

import httpx

from tests.e2e.conftest import channel_outbox, eventually, inbox, outage_now, outbox_ids, pushed_answer

TEXT_PUSH = """<xml>
<ToUserName><![CDATA[gh_heating_account]]></ToUserName>
<FromUserName><![CDATA[{openid}]]></FromUserName>
<CreateTime>{ts}</CreateTime>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[{text}]]></Content>
<MsgId>{msg_id}</MsgId>
</xml>"""


def signed(token: str, nonce: str | None = None) -> dict[str, str]:
    """The query the platform signs; each push has its own nonce, as the platform's do (a signed query
    is bound to its body: a second body under it is refused)."""
    nonce = nonce or str(secrets.randbelow(10**9))
    ts = str(int(time.time()))
    signature = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": ts, "nonce": nonce}


def push(env: dict[str, str], text: str, openid: str, msg_id: str) -> httpx.Response:
    args = signed(env["WECHAT_TOKEN"])
    body = TEXT_PUSH.format(openid=openid, ts=args["timestamp"], text=text, msg_id=msg_id)
    return httpx.post(
        env["RASA_URL"] + "/webhooks/wechat/webhook",
        params={**args, "openid": openid},
        content=body.encode("utf-8"),
        headers={"Content-Type": "text/xml"},
        timeout=30,
    )


def burst(env: dict[str, str], openid: str, texts: list[str], msg_ids: list[str]) -> list[str]:
    """Pushes sent back to back, as a resident typing fast makes the platform send them: each request is
    written whole, in order, on a connection of its own, before any answer is read. The answers' bodies."""
    host, port = urllib.parse.urlsplit(env["RASA_URL"]).netloc.split(":")
    connections = []
    for text, msg_id in zip(texts, msg_ids, strict=True):
        args = signed(env["WECHAT_TOKEN"])
        body = TEXT_PUSH.format(openid=openid, ts=args["timestamp"], text=text, msg_id=msg_id).encode("utf-8")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        query = urllib.parse.urlencode({**args, "openid": openid})
        connection.request("POST", f"/webhooks/wechat/webhook?{query}", body, {"Content-Type": "text/xml"})
        connections.append(connection)
    answers = []
    for connection in connections:
        response = connection.getresponse()
        assert response.status == 200
        answers.append(response.read().decode("utf-8"))
        connection.close()
    return answers


def content_of(reply: str) -> str:
    """The text of a passive reply ("" for "success")."""
    return "" if reply.strip() in ("", "success") else ET.fromstring(reply).findtext("Content") or ""


def test_all_three_services_report_healthy(running_stack: dict[str, str]) -> None:
    assert httpx.get(running_stack["API_URL"] + "/health").json()["status"] == "ok"
    assert httpx.get(running_stack["ACTION_SERVER_URL"] + "/health").json()["status"] == "ok"
    status = httpx.get(running_stack["RASA_URL"] + "/status", params={"token": running_stack["RASA_AUTH_TOKEN"]})
    assert status.status_code == 200 and status.json()["model_file"]


def test_rasa_http_api_needs_its_token(running_stack: dict[str, str]) -> None:
    assert httpx.get(running_stack["RASA_URL"] + "/status").status_code == 401


def test_url_verification_through_the_real_server(running_stack: dict[str, str]) -> None:
    args = {**signed(running_stack["WECHAT_TOKEN"]), "echostr": "e2e-echo"}
    resp = httpx.get(running_stack["RASA_URL"] + "/webhooks/wechat/webhook", params=args)
    assert (resp.status_code, resp.text) == (200, "e2e-echo")


def say(env: dict[str, str], openid: str, text: str) -> str:
    """One message from the resident; the bot's answer: the passive reply, or, when the bot took longer
    than the platform waits, the messages it pushed afterwards."""
    say.counter += 1  # type: ignore[attr-defined]
    msg_id = f"24000000000{say.counter:06d}"  # type: ignore[attr-defined]
    before = outbox_ids(env, openid)
    resp = push(env, text, openid, msg_id)
    assert resp.status_code == 200, resp.text
    if resp.text.strip() == "success":
        return pushed_answer(env, openid, f"msg:{openid}:{msg_id}", before)
    reply = ET.fromstring(resp.text)
    assert reply.findtext("ToUserName") == openid
    return reply.findtext("Content") or ""


say.counter = 0  # type: ignore[attr-defined]


def test_a_complaint_is_filed_in_a_conversation_and_the_reply_carries_its_number(
    running_stack: dict[str, str],
) -> None:
    env = running_stack
    openid = "oE2E-resident-1"
    first = say(env, openid, "你好，我家暖气片一点都不热，屋里才十五度")
    assert "18℃" in first and "5.1" in first  # the standard, cited
    assert "详细地址" in first
    assert "电话" in say(env, openid, "阳光小区3号楼2单元501")
    summary = say(env, openid, "13800138000")
    assert "阳光小区3号楼2单元501" in summary and "13800138000" in summary and "15℃" in summary
    done = say(env, openid, "是的")
    match = re.search(r"GD\d{14}", done)
    assert match, done
    assert "30分钟内" in done

    orders = httpx.get(
        env["API_URL"] + "/api/v1/work-orders",
        params={"resident_openid": openid},
        headers={"Authorization": f"Bearer {env['API_TOKEN']}"},
    ).json()["items"]
    [order] = orders
    assert order["number"] == match.group(0)
    # "一点都不热" is no heat at all (the NLU's category entity refines the intent's)
    assert (order["kind"], order["category"], order["source"]) == ("complaint", "no_heat", "wechat")
    assert (order["community"], order["building"], order["room"], order["phone"]) == (
        "阳光小区",
        "3",
        "501",
        "13800138000",
    )

    # the next filing confirms the remembered address instead of asking for it again
    leak = say(env, openid, "暖气管子漏水了")
    assert "阀门" in leak and "阳光小区3号楼2单元501" in leak


def test_a_policy_question_is_answered_with_its_clause(running_stack: dict[str, str]) -> None:
    answer = say(running_stack, "oE2E-resident-2", "多交的暖气费怎么退")
    assert "10.3 第4条" in answer and "6月30日" in answer


def test_a_forged_push_is_refused(running_stack: dict[str, str]) -> None:
    args = {**signed("not-the-token"), "openid": "oX"}
    body = TEXT_PUSH.format(openid="oX", ts=args["timestamp"], text="暖气不热", msg_id="1")
    resp = httpx.post(running_stack["RASA_URL"] + "/webhooks/wechat/webhook", params=args, content=body.encode())
    assert resp.status_code == 403


def phone(env: dict[str, str], openid: str, kind: str, content: str = "") -> dict:
    """One thing the resident does on the simulator's phone (signed and encrypted like the platform).
    A message the bot answered later, by a push, comes back with the pushed answer as its reply."""
    before = outbox_ids(env, openid)
    resp = httpx.post(
        env["API_URL"] + "/simulator/api/push", json={"openid": openid, "kind": kind, "content": content}, timeout=60
    )
    assert resp.status_code == 200, resp.text
    result = dict(resp.json())
    if result["status"] == "success" and result.get("msg_id"):
        result["reply"] = pushed_answer(env, openid, f"msg:{openid}:{result['msg_id']}", before)
    return result


def test_the_simulator_talks_to_the_bot_in_safe_mode_crypto(running_stack: dict[str, str]) -> None:
    env = running_stack
    welcome = phone(env, "oE2E-sim-1", "subscribe")
    assert welcome["status"] == "reply" and "欢迎关注" in welcome["reply"]
    fees = phone(env, "oE2E-sim-1", "click", "FEES")
    assert "9.2.1" in fees["reply"]
    heard = phone(env, "oE2E-sim-1", "voice", "暖气什么时候开始供")
    assert heard["status"] == "reply" and heard["reply"]


def test_a_detail_is_corrected_before_filing(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-sim-2"
    first = phone(env, openid, "text", "我家暖气阀门坏了 阳光小区3号楼2单元501 电话13800138000")["reply"]
    assert "上门" in first or "时间" in first  # a repair asks when to come
    summary = phone(env, openid, "text", "明天上午")["reply"]
    assert "阳光小区3号楼2单元501" in summary
    corrected = phone(env, openid, "text", "不是3号楼是5号楼")["reply"]
    assert "阳光小区5号楼2单元501" in corrected and "确认" in corrected
    done = phone(env, openid, "text", "对")["reply"]
    assert re.search(r"GD\d{14}", done), done
    orders = httpx.get(
        env["API_URL"] + "/api/v1/work-orders",
        params={"resident_openid": openid},
        headers={"Authorization": f"Bearer {env['API_TOKEN']}"},
    ).json()["items"]
    assert [(o["building"], o["room"], o["category"]) for o in orders] == [("5", "501", "equipment")]
    assert orders[0]["appointment_at"]


def test_an_outage_notice_reaches_the_phone_through_the_customer_service_api(running_stack: dict[str, str]) -> None:
    env = running_stack
    openid = "oE2E-sim-3"
    phone(env, openid, "text", "我家暖气不热 海景花园12栋1单元1202 电话13912345678")
    phone(env, openid, "text", "16度")
    assert re.search(r"GD\d{14}", phone(env, openid, "text", "是的")["reply"])
    outage = outage_now(["海景花园"], "pipe_burst", "文化路与青岛路交叉口", "一次网爆管")
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    assert httpx.post(env["API_URL"] + "/api/v1/outages", json=outage, headers=machine).status_code == 403
    headers = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    assert httpx.post(env["API_URL"] + "/api/v1/outages", json=outage, headers=headers).status_code == 201
    pushed = eventually(lambda: [m for m in inbox(env, openid) if "一次网爆管" in m["text"]], bool)
    assert pushed and pushed[0]["kind"] == "custom"
    # staff can list what went out, with the Rasa token
    outbox = httpx.get(
        env["RASA_URL"] + "/webhooks/wechat/outbox",
        params={"openid": openid},
        headers={"Authorization": f"Bearer {env['RASA_AUTH_TOKEN']}"},
    )
    assert outbox.status_code == 200 and outbox.json()["messages"][0]["status"] == "sent"
    assert httpx.get(env["RASA_URL"] + "/webhooks/wechat/outbox").status_code == 401


def test_a_notice_handed_over_twice_reaches_the_phone_once(running_stack: dict[str, str]) -> None:
    """The backend hands a notification over again when it did not hear the first hand-over's answer (a
    restart in between), under the same key: the real bot and channel say it once, and the key reaches
    the channel's outbox through Rasa (the action passes it with the message)."""
    env = running_stack
    openid = "oE2E-sim-handover"
    phone(env, openid, "text", "你好")  # opens the resident's 48-hour window

    def hand_over(key: str, text: str) -> None:
        resp = httpx.post(
            f"{env['RASA_URL']}/conversations/{openid}/trigger_intent",
            params={"token": env["RASA_AUTH_TOKEN"], "output_channel": "wechat"},
            json={"name": "EXTERNAL_notice", "entities": {"message": text, "handover": key}},
            timeout=60,
        )
        assert resp.status_code == 200, resp.text

    moved = "【办结时间调整】工单 GD20261210000099 的办结时间调整为12月12日12:00，原因：配件明天到货。"
    hand_over("notification:990001", moved)
    hand_over("notification:990001", moved)
    hand_over("notification:990002", moved)  # another notification with the same words is said again
    told = eventually(lambda: [m for m in inbox(env, openid) if m["text"] == moved], lambda found: len(found) >= 2)
    assert len(told) == 2
    assert [m["status"] for m in channel_outbox(env, openid, moved)] == ["sent", "sent"]
