"""The order page explains itself: a quote waiting for the resident (10.2.2) and what each event of the
history changed (quote totals, new completion times and their reasons, by display name)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from api.main import run_scheduler_once
from tests.api.conftest import Browser, FakeOutbound, FixedClock

REPAIR = {
    "kind": "repair",
    "category": "equipment",
    "source": "wechat",
    "description": "阀门坏了",
    "resident_openid": "oQUOTE",
    "phone": "13800138000",
    "address": "阳光小区3号楼2单元501",
}
QUOTE = {"quote_lines": "更换阀门, 铜阀DN20, 2, 42.5\n排气阀, , 1, 15"}


def quoted_on_site(b: Browser, order_id: int) -> str:
    """Respond, dispatch, arrive and record the quote from the console; the order page's body after it."""
    path = f"/console/orders/{order_id}/actions"
    for action in ("respond", "dispatch", "arrive"):
        assert b.post(f"{path}/{action}", {"technician": "张师傅"}).status_code == 200
    answer = b.post(f"{path}/quote", QUOTE)
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def action_forms(page: str) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', page)


def quote_calls(outbound: FakeOutbound) -> list[dict]:
    return [c for c in outbound.rasa_calls if c["body"].get("name") == "EXTERNAL_quote_confirmation"]


def test_a_pending_quote_says_why_work_waits_and_is_sent_again_as_the_same_quote(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, outbound: FakeOutbound, clock: FixedClock
) -> None:
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    b = browser("agent")
    page = quoted_on_site(b, order["id"])
    assert "报价待居民确认" in page and "不能派工、到场或完成" in page and "10.2.2" in page
    assert "complete" not in action_forms(page)  # and the page says why
    assert "铜阀DN20" in page and "合计 100.00 元" in page and "坐席甲1 报价" in page
    assert "等待发出" in page and "上一次发送的报价还在等待发出" in page
    quoted = re.search(r'<li data-event="quote">(.*?)</li>', page, re.S)
    assert quoted and "报价合计 100.00 元" in quoted[1] and "坐席甲1" in quoted[1]
    assert "resend_quote" not in action_forms(page)  # nothing has gone out yet: nothing to send again
    early = b.post(f"/console/orders/{order['id']}/quote/resend")
    assert early.status_code == 409 and "还在等待发出" in early.text

    run_scheduler_once(client.app)  # the first sending goes to the bot
    assert len(quote_calls(outbound)) == 1
    page = b.get(f"/console/orders/{order['id']}").text
    assert "已交给微信通道发出" in page and "resend_quote" in action_forms(page)

    clock.advance(minutes=30)
    again = b.post(f"/console/orders/{order['id']}/quote/resend")
    assert again.status_code == 200, again.text
    assert "重新发送：" in again.text and "等待发出" in again.text
    resent = re.search(r'<li data-event="resend_quote">(.*?)</li>', again.text, re.S)
    assert resent and "重新发送报价（微信）" in resent[1] and "坐席甲1" in resent[1]
    assert "报价合计 100.00 元" in resent[1]
    run_scheduler_once(client.app)
    first, second = quote_calls(outbound)
    assert second["body"]["entities"]["message"] == first["body"]["entities"]["message"]  # the same quote
    assert second["body"]["entities"]["handover"] != first["body"]["entities"]["handover"]  # shown once more
    events = client.get(f"/api/v1/work-orders/{order['id']}/events", headers=auth).json()
    assert [e["action"] for e in events].count("quote") == 1  # not a second quote
    api_order = client.get(f"/api/v1/work-orders/{order['id']}", headers=auth).json()
    assert api_order["quote_total"] == "100.00" and api_order["quote_confirmed_at"] is None

    confirmed = client.post(
        f"/api/v1/work-orders/{order['id']}/actions/confirm_quote", json={"resident_openid": "oQUOTE"}, headers=auth
    )
    assert confirmed.status_code == 200
    page = b.get(f"/console/orders/{order['id']}").text
    assert "报价待居民确认" not in page and "complete" in action_forms(page)
    assert "居民在微信中确认报价" in page  # not the paper confirmation staff record
    nothing = b.post(f"/console/orders/{order['id']}/quote/resend")
    assert nothing.status_code == 409 and "没有等待居民确认的报价" in nothing.text
    assert len(quote_calls(outbound)) == 2


def test_a_quote_for_a_resident_without_wechat_is_not_sent_but_confirmed_on_paper(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict
) -> None:
    by_phone = {**REPAIR, "resident_openid": None, "source": "phone"}
    order = client.post("/api/v1/work-orders", json=by_phone, headers=auth).json()
    b = browser("agent")
    page = quoted_on_site(b, order["id"])
    assert "没有通过微信报修" in page and "resend_quote" not in action_forms(page)
    assert "confirm_quote" in action_forms(page)
    refused = client.post(f"/api/v1/work-orders/{order['id']}/quote/resend", headers=agent)
    assert refused.status_code == 409 and refused.json()["code"] == "no_wechat"


def test_the_api_re_sends_a_quote_only_while_one_waits(
    client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    path = f"/api/v1/work-orders/{order['id']}"
    none_yet = client.post(f"{path}/quote/resend", headers=agent)
    assert none_yet.status_code == 409 and none_yet.json()["code"] == "no_pending_quote"
    assert client.post(f"{path}/quote/resend", headers=auth).status_code == 403  # staff re-send, not the bot
    client.post(f"{path}/actions/respond", headers=agent)
    items = [{"item": "更换排气阀", "quantity": 1, "price": "20"}]
    assert client.post(f"{path}/actions/quote", json={"quote_items": items}, headers=agent).status_code == 200
    run_scheduler_once(client.app)
    assert client.post(f"{path}/quote/resend", headers=agent).status_code == 200
    assert client.post(f"{path}/quote/resend", headers=agent).json()["code"] == "quote_waiting_to_go"
    run_scheduler_once(client.app)
    assert len(quote_calls(outbound)) == 2


def test_the_history_shows_new_completion_times_and_extensions_with_their_reasons(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    b, boss = browser("agent"), browser("supervisor")
    path = f"/console/orders/{order['id']}/actions"
    b.post(f"{path}/respond", {})
    moved = b.post(f"{path}/reschedule", {"promised_at": "2026-12-12T09:00", "reason": "配件明天到货"})
    assert moved.status_code == 200, moved.text
    line = re.search(r'<li data-event="reschedule">(.*?)</li>', moved.text, re.S)
    assert line, moved.text
    assert "调整办结时间" in line[1] and "坐席甲1" in line[1]
    assert "新的办结时间 12-12 09:00（原为 " in line[1] and "原因：配件明天到货" in line[1]
    assert "已通过微信告知居民" in line[1]

    hotline = client.post(
        "/api/v1/work-orders",
        json={"kind": "complaint", "category": "room_temperature", "source": "city_hotline", "description": "室温低"},
        headers=auth,
    ).json()
    extended = boss.post(
        f"/console/orders/{hotline['id']}/actions/extend", {"working_days": "3", "reason": "需协调物业开门"}
    )
    assert extended.status_code == 200, extended.text
    line = re.search(r'<li data-event="extend">(.*?)</li>', extended.text, re.S)
    assert line, extended.text
    assert "延期 3 个工作日，新的答复期限 " in line[1] and "理由：需协调物业开门" in line[1] and "班长乙2" in line[1]


def test_the_wechat_survey_is_offered_on_the_order_as_soon_as_it_is_completed(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    """10.1.6: the call-back may be made at once; a supervisor sends the survey from the order page."""
    complaint = {**REPAIR, "kind": "complaint", "category": "service", "description": "态度不好"}
    order = client.post("/api/v1/work-orders", json=complaint, headers=auth).json()
    desk, boss = browser("agent"), browser("supervisor")
    assert "callback-next" not in boss.get(f"/console/orders/{order['id']}").text  # nothing to call back yet
    for action in ("respond", "complete"):
        assert client.post(f"/api/v1/work-orders/{order['id']}/actions/{action}", headers=agent).status_code == 200
    page = desk.get(f"/console/orders/{order['id']}").text
    assert "现在就可以回访，不必等到期日" in page and "survey" not in action_forms(page)
    assert "微信问卷由班长发送" in page
    assert desk.post(f"/console/orders/{order['id']}/survey").status_code == 403
    page = boss.get(f"/console/orders/{order['id']}").text
    assert "survey" in action_forms(page)
    sent = boss.post(f"/console/orders/{order['id']}/survey")
    assert sent.status_code == 200, sent.text
    assert "请居民在微信中答问卷" in sent.text and "survey" not in action_forms(sent.text)
    call = outbound.rasa_calls[-1]
    assert call["body"]["name"] == "EXTERNAL_callback_survey" and call["path"] == "/conversations/oQUOTE/trigger_intent"
    assert call["body"]["entities"] == {"order_number": order["number"], "order_id": order["id"]}


def test_a_temperature_test_is_completed_on_the_order_page_with_its_record_and_the_residents_answer(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, outbound: FakeOutbound
) -> None:
    """5.4.6 and 10.3 第1条 a on the order page: the record's fields, then the record and the answer shown."""
    test = {**REPAIR, "kind": "temperature_test", "category": "room_temperature", "resident_openid": "oWARM"}
    order = client.post("/api/v1/work-orders", json=test, headers=auth).json()
    b = browser("agent")
    path = f"/console/orders/{order['id']}/actions"
    for action in ("respond", "dispatch", "arrive"):
        assert b.post(f"{path}/{action}", {"technician": "张师傅"}).status_code == 200
    page = b.get(f"/console/orders/{order['id']}").text
    assert 'name="reading_1"' in page and "不计入：室外温度低于供热系统最低设计温度" in page
    assert 'value="wechat"' in page  # the resident is on WeChat: they may confirm there
    record = {
        "result": "已测温",
        "reading_1": "18.1",
        "reading_2": "18.3",
        "reading_3": "18.2",
        "instrument": "玻璃温度计 G-3",
        "resolution": "0.1",
        "room": "bedroom",
        "outdoor_temperature": "-4",
        "excluded": "",
        "signature": "wechat",
    }
    done = b.post(f"{path}/complete", record)
    assert done.status_code == 200, done.text
    assert "卧室三次读数 18.1、18.3、18.2℃" in done.text and "计入室温合格率（14.4.3）" in done.text
    assert "等待居民回复" in done.text
    run_scheduler_once(client.app)
    assert outbound.rasa_calls[-1]["body"]["name"] == "EXTERNAL_temperature_confirmation"
    answered = client.post(
        f"/api/v1/work-orders/{order['id']}/temperature-test/answer",
        json={"resident_openid": "oWARM", "confirmed": False},
        headers=auth,
    )
    assert answered.status_code == 200, answered.text
    page = b.get(f"/console/orders/{order['id']}").text
    assert "居民在微信中确认：" in page and "有异议" in page  # the record
    assert "居民对测温结果有异议" in page  # the history


def test_a_claim_and_a_failed_tests_finding_are_kept_on_the_order_page(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    """13.3–13.8 and 10.3 第1条 c–e from the order page; the agent records, the supervisor agrees the sum."""
    repair = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    desk, boss = browser("agent"), browser("supervisor")
    page = desk.get(f"/console/orders/{repair['id']}").text
    assert "登记理赔" in page
    opened = desk.post(f"/console/orders/{repair['id']}/claim", {"damage": "楼下地板泡水", "photos_kept": "yes"})
    assert opened.status_code == 200 and "损失：楼下地板泡水" in opened.text and "影像资料：已留存" in opened.text
    assert 'value="agreed"' not in opened.text  # the agent's choices: the adjuster's sum only
    adjusted = desk.post(f"/console/orders/{repair['id']}/claim/steps", {"step": "adjusted", "amount": "1500"})
    assert adjusted.status_code == 200 and "理算金额 1500.00 元" in adjusted.text
    refused = desk.post(f"/console/orders/{repair['id']}/claim/steps", {"step": "agreed", "amount": "1400"})
    assert refused.status_code == 403
    agreed = boss.post(f"/console/orders/{repair['id']}/claim/steps", {"step": "agreed", "amount": "1400"})
    assert agreed.status_code == 200 and "商定赔偿 1400.00 元" in agreed.text and "理赔款交付" in agreed.text

    test = {**REPAIR, "kind": "temperature_test", "category": "room_temperature", "resident_openid": None}
    order = client.post("/api/v1/work-orders", json=test, headers=auth).json()
    for action in ("respond", "dispatch", "arrive"):
        assert desk.post(f"/console/orders/{order['id']}/actions/{action}", {"technician": "张师傅"}).status_code == 200
    record = {"result": "已测温", "reading_1": "16", "reading_2": "16.2", "reading_3": "16.1"}
    record.update(instrument="玻璃温度计 G-3", room="living_room", signature="paper", test_note="居民已签字")
    done = desk.post(f"/console/orders/{order['id']}/actions/complete", record)
    assert done.status_code == 200 and "室温不达标处理" in done.text
    finding = {"cause": "楼内立管堵塞", "responsibility": "company", "fee_reduction": "80"}
    found = desk.post(f"/console/orders/{order['id']}/temperature-test/finding", finding)
    assert found.status_code == 200 and "减收热费 80.00 元" in found.text and "6月30日前" in found.text
    refunded = desk.post(f"/console/orders/{order['id']}/temperature-test/refund")
    assert refunded.status_code == 200 and "退费（10.3 第4条）" in refunded.text and "登记已退费" not in refunded.text
