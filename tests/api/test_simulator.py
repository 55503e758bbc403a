"""The WeChat simulator: the fake platform's rules, the phone's protocol, and its routes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from defusedxml import ElementTree as SafeET
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.simulator.phone import Phone, PhoneConfig
from fake_wechat.envelope import AesEnvelope, signature
from fake_wechat.platform import FakePlatform

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx2c2769f8efd9abc2"


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_000_000.0

    def __call__(self) -> float:
        return self.now


def test_tokens_quota_and_window_follow_the_platform() -> None:
    clock = Clock()
    platform = FakePlatform("wxA", "secret", clock=clock)
    assert platform.token("client_credential", "wxA", "wrong")["errcode"] == 40001
    old = platform.token("client_credential", "wxA", "secret")["access_token"]
    token = platform.token("client_credential", "wxA", "secret")["access_token"]
    message = {"touser": "o1", "msgtype": "text", "text": {"content": "hi"}}
    assert platform.custom_send(old, message)["errcode"] == 40001  # a new token replaces the old
    assert platform.custom_send(token, message)["errcode"] == 45015  # the resident never wrote
    platform.resident_wrote("o1")
    assert [platform.custom_send(token, message)["errcode"] for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    clock.now += 49 * 3600
    assert platform.custom_send(token, message)["errcode"] in (42001, 45015)
    fresh = platform.token("client_credential", "wxA", "secret")["access_token"]
    assert platform.custom_send(fresh, message)["errcode"] == 45015
    template = {"touser": "o1", "template_id": "T1", "data": {"content": {"value": "通知"}}}
    assert platform.template_send(fresh, template)["errcode"] == 0
    assert [(m.kind, m.text) for m in platform.inbox("o1", after=5)] == [("template", "通知")]
    assert platform.create_menu(fresh, {"button": []})["errcode"] == 40016


def test_mass_sends_reach_every_follower_four_times_a_natural_month() -> None:
    """A service account's 群发: four a month (Beijing time), to whoever follows now."""
    clock = Clock()
    clock.now = datetime(2026, 12, 1, 0, 30, tzinfo=timezone(timedelta(hours=8))).timestamp()
    platform = FakePlatform("wxA", "secret", clock=clock)
    token = platform.token("client_credential", "wxA", "secret")["access_token"]
    for openid in ("o1", "o2", "o3"):
        platform.resident_wrote(openid)
    platform.resident_left("o3")
    assert platform.user_get(token)["total"] == 2
    notice = {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "供热公告"}}
    assert platform.mass_sendall(token, {**notice, "filter": {"is_to_all": False}})["errcode"] == 40004
    sent = [platform.mass_sendall(token, notice) for _ in range(5)]
    assert [s["errcode"] for s in sent] == [0, 0, 0, 0, 45028]
    assert [(m.kind, m.text) for m in platform.inbox("o1")] == [("mass", "供热公告")] * 4
    assert platform.inbox("o3") == []  # unfollowed
    assert platform.mass_get(token, {"msg_id": sent[0]["msg_id"]})["msg_status"] == "SEND_SUCCESS"
    clock.now = datetime(2027, 1, 1, 0, 1, tzinfo=timezone(timedelta(hours=8))).timestamp()  # a new month
    token = platform.token("client_credential", "wxA", "secret")["access_token"]
    assert platform.mass_sendall(token, notice)["errcode"] == 0


def phone_with(handler: object, mode: str = "safe", tries: int = 3) -> Phone:
    config = PhoneConfig("http://bot.test/webhooks/wechat/webhook", "tok", APP_ID, AES_KEY, mode, tries=tries)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return Phone(config, client, FakePlatform(APP_ID, "s"))


def test_the_phone_encrypts_signs_retries_with_the_same_msgid_and_reads_the_encrypted_reply() -> None:
    envelope = AesEnvelope(AES_KEY, APP_ID)
    seen: list[str] = []

    def webhook(request: httpx.Request) -> httpx.Response:
        args = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        outer = {c.tag: c.text for c in SafeET.fromstring(request.content)}
        assert args["encrypt_type"] == "aes"
        assert args["msg_signature"] == signature("tok", args["timestamp"], args["nonce"], outer["Encrypt"])
        inner = {c.tag: c.text for c in SafeET.fromstring(envelope.decrypt(outer["Encrypt"]).encode())}
        seen.append(inner["MsgId"])
        if len(seen) < 3:
            raise httpx.ReadTimeout("the bot took longer than 5 s")
        reply = f"<xml><Content><![CDATA[回答：{inner['Content']}]]></Content></xml>"
        encrypted = envelope.encrypt(reply)
        body = (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature>{signature('tok', '1', '2', encrypted)}"
            "</MsgSignature><TimeStamp>1</TimeStamp><Nonce>2</Nonce></xml>"
        )
        return httpx.Response(200, text=body)

    result = asyncio.run(phone_with(webhook).text("o1", "暖气不热"))
    assert (result.status, result.reply, result.tries) == ("reply", "回答：暖气不热", 3)
    assert len(set(seen)) == 1  # every retry carries the first try's MsgId


def test_the_phone_reports_a_bot_that_never_answers_and_a_refusal() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    result = asyncio.run(phone_with(slow, mode="plaintext").text("o1", "在吗"))
    assert (result.status, result.tries) == ("no-answer", 3)
    refused = asyncio.run(phone_with(lambda r: httpx.Response(403, text="invalid signature")).event("o1", "subscribe"))
    assert (refused.status, refused.http_status) == ("refused", 403)
    forged = asyncio.run(
        phone_with(
            lambda r: httpx.Response(200, text="<xml><Encrypt>x</Encrypt><MsgSignature>0</MsgSignature></xml>")
        ).text("o1", "hi")
    )
    assert forged.status == "refused" and "signature" in forged.detail


@pytest.fixture
def simulator(tmp_path: object) -> TestClient:
    settings = Settings(
        simulator_enabled=True, scheduler_enabled=False, database_url=f"sqlite:///{tmp_path}/api.sqlite3"
    )
    from api.db import upgrade_database

    upgrade_database(settings.sqlalchemy_url)
    return TestClient(create_app(settings))


def test_the_page_the_menu_and_the_platform_routes(simulator: TestClient) -> None:
    assert "微信模拟器" in simulator.get("/simulator/").text
    assert simulator.get("/simulator/api/menu").json()["button"][0]["name"] == "报修投诉"
    token = simulator.get(
        "/simulator/platform/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": "wx00000000000sample", "secret": "dev-wechat-app-secret"},
    ).json()["access_token"]
    bad = simulator.post(
        "/simulator/platform/cgi-bin/message/custom/send", params={"access_token": token}, content=b"{not json"
    )
    assert bad.json()["errcode"] == 47001
    assert simulator.get("/simulator/api/inbox", params={"openid": "o1"}).json() == {"messages": []}


def test_a_push_with_a_bad_openid_is_refused_with_the_field_named(simulator: TestClient) -> None:
    resp = simulator.post("/simulator/api/push", json={"openid": "<script>", "content": "hi"})
    assert resp.status_code == 422 and "openid" in resp.text


def test_the_platform_can_be_put_in_trouble_for_a_bounded_number_of_calls(simulator: TestClient) -> None:
    trouble = "/simulator/api/platform/trouble"
    for wrong in (-1, 10**9, "many", None):
        assert simulator.post(trouble, json={"busy_calls": wrong}).status_code == 422
    assert simulator.post(trouble, json={"busy_calls": 1}).json() == {"busy_calls": 1}
    token = simulator.get(
        "/simulator/platform/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": "wx00000000000sample", "secret": "dev-wechat-app-secret"},
    ).json()["access_token"]
    send = {"touser": "o1", "msgtype": "text", "text": {"content": "停热通知"}}
    busy = simulator.post("/simulator/platform/cgi-bin/message/custom/send", params={"access_token": token}, json=send)
    assert busy.json()["errcode"] == -1  # the one busy call, then the platform is itself again
    again = simulator.post("/simulator/platform/cgi-bin/message/custom/send", params={"access_token": token}, json=send)
    assert again.json()["errcode"] != -1


def test_without_the_flag_there_is_no_simulator(tmp_path: object) -> None:
    app = create_app(Settings(scheduler_enabled=False, database_url=f"sqlite:///{tmp_path}/api.sqlite3"))
    assert TestClient(app).get("/simulator/").status_code == 404


def test_production_refuses_the_simulator() -> None:
    settings = Settings(app_env="production", simulator_enabled=True, api_token="a" * 32, rasa_auth_token="b" * 32)
    with pytest.raises(RuntimeError, match="simulator"):
        settings.check_for_production()
