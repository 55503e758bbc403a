"""The staff console's pages: cookie login, CSRF, roles per action, the chat desk and the order board.

Each member of staff gets a client of their own (a browser with its own cookies) on the same database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import StaffAudit
from api.services import replies as replies_service
from heating_standard.localtime import LOCAL_TZ
from tests.api.conftest import PASSWORD, TEST_TOKEN, Browser, FakeOutbound, FixedClock, add_staff_user
from tests.api.test_handoff_chat import bot_transcript

REPAIR = {
    "kind": "repair",
    "category": "equipment",
    "source": "wechat",
    "description": "阀门坏了，电话13800138000",
    "resident_openid": "oCHAT",
    "phone": "13800138000",
    "address": "阳光小区3号楼2单元501",
}


def open_handoff(client: TestClient, auth: dict, openid: str = "oCHAT") -> int:
    made = client.post("/api/v1/handoffs", json={"resident_openid": openid, "reason": "requested"}, headers=auth)
    return int(made.json()["id"])


# ----------------------------------------------------------------------------- login and session


def test_login_sets_a_strict_httponly_cookie_and_pages_need_it(
    make_client: Callable[..., TestClient], client: TestClient
) -> None:
    add_staff_user(client, "wang", "agent")
    b = Browser(make_client())
    assert b.get("/console/chats").headers["location"] == "/console/login"
    answer = b.login("wang")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/chats"  # type: ignore[attr-defined]
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("hs_console="))  # type: ignore[attr-defined]
    assert (
        "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie and "Max-Age=43200" in cookie
    )
    page = b.get("/console/chats")
    assert page.status_code == 200 and "等待接入" in page.text


def test_wrong_password_and_missing_login_nonce_are_refused(
    make_client: Callable[..., TestClient], client: TestClient
) -> None:
    add_staff_user(client, "wang", "agent")
    b = Browser(make_client())
    assert b.login("wang", "wrong password").status_code == 401  # type: ignore[attr-defined]
    forged = b.client.post("/console/login", data={"username": "wang", "password": PASSWORD, "nonce": "made-up"})
    assert forged.status_code == 403 and "hs_console=" not in forged.headers.get("set-cookie", "")


def test_too_many_failures_lock_the_console_login_too(
    make_client: Callable[..., TestClient], client: TestClient
) -> None:
    add_staff_user(client, "wang", "agent")
    b = Browser(make_client(login_failures_per_account=2))
    for _ in range(2):
        b.login("wang", "wrong")
    assert b.login("wang").status_code == 429  # type: ignore[attr-defined]


def test_logout_ends_the_session_on_the_server(browser: Callable[[str], Browser]) -> None:
    b = browser("agent")
    cookie = b.client.cookies.get("hs_console")
    assert b.post("/console/logout", htmx=False).status_code == 303
    # The old cookie, replayed, no longer opens anything.
    b.client.cookies.set("hs_console", cookie or "", path="/console")
    assert b.get("/console/chats").headers["location"] == "/console/login"


def test_the_machine_token_is_not_a_console_login(make_client: Callable[..., TestClient]) -> None:
    b = Browser(make_client())
    b.client.cookies.set("hs_console", TEST_TOKEN, path="/console")
    assert b.get("/console/chats").headers["location"] == "/console/login"


def test_a_session_expires(browser: Callable[[str], Browser], clock: FixedClock) -> None:
    b = browser("agent")
    clock.advance(hours=12, seconds=1)
    assert b.get("/console/orders").headers["location"] == "/console/login"
    assert b.post("/console/chats/1/take").headers["HX-Redirect"] == "/console/login"


def test_a_write_without_the_csrf_token_changes_nothing(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    b = browser("agent")
    handoff_id = open_handoff(client, auth)
    refused = b.post(f"/console/chats/{handoff_id}/take", csrf=False)
    assert refused.status_code == 403 and "页面已过期" in refused.text
    b.csrf = "0" * 64
    assert b.post(f"/console/chats/{handoff_id}/take").status_code == 403
    assert client.get("/api/v1/handoffs?status=waiting", headers=b_headers(client)).json()["total"] == 1


def b_headers(client: TestClient) -> dict[str, str]:
    add_staff_user(client, "reader", "agent")
    token = client.post("/api/v1/auth/login", json={"username": "reader", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


# ----------------------------------------------------------------------------- the chat desk


def test_the_agent_takes_reads_and_answers_a_chat(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, outbound: FakeOutbound, clock: FixedClock
) -> None:
    bot_transcript(outbound, "oCHAT")
    outbound.windows["oCHAT"] = {
        "open": True,
        "closes_at": clock.now.timestamp() + 47 * 3600,
        "pushes_left": 4,
        "subscribed": True,
        "last_inbound_at": clock.now.timestamp() - 3600,
    }
    handoff_id = open_handoff(client, auth)
    b = browser("agent")
    assert "待接入 1" in b.get("/console/alerts").text
    inbox = b.get("/console/chats", headers={"HX-Request": "true"}).text
    assert f"/console/chats/{handoff_id}" in inbox and "要求人工" in inbox
    page = b.get(f"/console/chats/{handoff_id}").text
    assert "暖气不热，你们怎么回事" in page and "已为您转接人工客服" in page
    assert "1天23小时" in page and "还可推送 <b>4</b> 条" in page
    assert 'placeholder="接管后才能回复" disabled' in page
    assert outbound.channel_calls.count("/webhooks/wechat/outbox") == 1  # rows and window in one read
    taken = b.post(f"/console/chats/{handoff_id}/take")
    assert taken.status_code == 200 and "处理中" in taken.text and "接管人 坐席甲1" in taken.text
    sent = b.post(f"/console/chats/{handoff_id}/send", {"text": "您好，我是客服小王"})
    assert sent.status_code == 200 and "您好，我是客服小王" in sent.text and "已送达" in sent.text
    assert outbound.outbox_rows[-1] == {**outbound.outbox_rows[-1], "openid": "oCHAT", "text": "您好，我是客服小王"}
    closed = b.post(f"/console/chats/{handoff_id}/close")
    assert "已结束" in closed.text
    assert outbound.trackers["oCHAT"][-3:] == [
        {"event": "resume"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
    ]


def test_a_second_agent_cannot_take_or_write_in_a_held_chat(
    browser: Callable[[str], Browser],
    make_client: Callable[..., TestClient],
    client: TestClient,
    auth: dict,
    outbound: FakeOutbound,
) -> None:
    handoff_id = open_handoff(client, auth)
    add_staff_user(client, "wangxh", "agent", display_name="王小红")
    first, second = Browser(make_client()), browser("agent")
    first.login("wangxh")
    first.post(f"/console/chats/{handoff_id}/take")
    again = second.post(f"/console/chats/{handoff_id}/take")
    assert again.status_code == 409 and "这个会话已由王小红接管" in again.text and "staff:" not in again.text
    assert second.post(f"/console/chats/{handoff_id}/send", {"text": "我来"}).status_code == 403
    assert second.post(f"/console/chats/{handoff_id}/close").status_code == 403
    assert "接管人 王小红" in second.get(f"/console/chats/{handoff_id}").text
    assert outbound.outbox_rows == []


def test_a_supervisor_assigns_a_waiting_chat_and_only_that_agent_takes_it(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    handoff_id = open_handoff(client, auth)
    boss, chosen, other = browser("supervisor"), browser("agent"), browser("agent")
    assert other.post(f"/console/chats/{handoff_id}/assign", {"username": "agent3"}).status_code == 403
    assert boss.post(f"/console/chats/{handoff_id}/assign", {"username": "nobody"}).status_code == 404
    assert "指派给 坐席甲2" in boss.post(f"/console/chats/{handoff_id}/assign", {"username": "agent2"}).text
    refused = other.post(f"/console/chats/{handoff_id}/take")
    assert refused.status_code == 403
    # the real reason, with the colleague's name: not the role, and no English
    assert "这个会话已指派给坐席甲2" in refused.text and "您的角色无权" not in refused.text
    assert "技术信息" not in refused.text
    assert chosen.post(f"/console/chats/{handoff_id}/take").status_code == 200


def test_pages_name_people_by_display_name_and_speak_chinese(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    """The header, the inbox, the chat's orders and an order's history: display names, the machine in
    words, statuses in Chinese, a photo as [照片]; a refusal in English keeps its sentence folded away."""
    summary = '暖气不热\n/share_image{"media_id": "m1", "pic_url": "http://x"}\n/request_repair'
    made = client.post(
        "/api/v1/handoffs", json={"resident_openid": "oCHAT", "reason": "requested", "summary": summary}, headers=auth
    )
    handoff_id = made.json()["id"]
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    b = browser("agent")
    inbox = b.get("/console/chats").text
    assert "坐席甲1 · 坐席" in inbox and "agent1" not in inbox
    assert "[照片]" in inbox and "[点了菜单或按钮]" in inbox and "share_image" not in inbox
    panel = b.get(f"/console/chats/{handoff_id}").text
    assert order["number"] in panel and "已受理 ·" in panel and "accepted" not in panel
    history = b.get(f"/console/orders/{order['id']}").text
    assert "系统（机器人/自动）" in history and ">machine<" not in history
    clock.advance(hours=1)
    fifty_minutes_ago = (clock.now - timedelta(minutes=50)).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
    late = b.post(f"/console/orders/{order['id']}/actions/respond", {"at": fifty_minutes_ago})
    assert late.status_code == 422
    assert "坐席最多补录15分钟内的操作" in late.text and "staff may record" not in late.text
    assert 'name="backdate_reason"' not in history  # an agent cannot back-date that far anyway
    assert b.post("/console/replies", {"title": "问候", "text": "您好"}).status_code == 403


def test_a_supervisor_back_dates_an_action_with_its_reason_from_the_console(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    boss = browser("supervisor")
    assert "补录原因（发生时间早于15分钟前时必填）" in boss.get(f"/console/orders/{order['id']}").text
    clock.advance(hours=1)
    when = (clock.now - timedelta(minutes=40)).astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")
    refused = boss.post(f"/console/orders/{order['id']}/actions/respond", {"at": when})
    assert refused.status_code == 422 and "补录这么早的时间，须写明原因" in refused.text
    done = boss.post(
        f"/console/orders/{order['id']}/actions/respond", {"at": when, "backdate_reason": "停电，电话记录补录"}
    )
    assert done.status_code == 200, done.text
    events = client.get(f"/api/v1/work-orders/{order['id']}/events", headers=auth).json()
    assert events[-1]["action"] == "respond" and "停电，电话记录补录" in str(events[-1])


def test_notes_stay_private_and_orders_link_only_to_the_residents_own(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, outbound: FakeOutbound
) -> None:
    own = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    other = client.post("/api/v1/work-orders", json={**REPAIR, "resident_openid": "oOTHER"}, headers=auth).json()
    handoff_id = open_handoff(client, auth)
    b = browser("agent")
    page = b.get(f"/console/chats/{handoff_id}").text
    assert own["number"] in page and other["number"] not in page
    assert "13800138000" not in page and "单元501" not in page  # masked (12.1)
    assert "阳光小区3号楼****" in page.split("居民地址")[1].split("居民的工单")[0]  # remembered by the bot
    noted = b.post(f"/console/chats/{handoff_id}/notes", {"text": "居民情绪激动，先安抚"})
    assert "居民情绪激动，先安抚" in noted.text
    assert outbound.outbox_rows == [] and not any("安抚" in str(e) for e in outbound.trackers.get("oCHAT", []))
    assert b.post(f"/console/chats/{handoff_id}/link", {"order_id": other["id"]}).status_code == 404
    linked = b.post(f"/console/chats/{handoff_id}/link", {"order_id": own["id"]})
    assert "本会话关联" in linked.text


def replies_now(client: TestClient) -> dict[str, int]:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return {r.title: r.id for r in replies_service.canned_replies(session)}


def test_quick_replies_are_kept_by_supervisors_and_offered_in_the_chat(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    """A starter set ships (eight, editable); numbers stay fixed: a new reply takes the next one, an edit
    or a deletion renumbers nothing, so Alt+N keeps inserting what it inserted."""
    agent, boss = browser("agent"), browser("supervisor")
    listed = boss.get("/console/replies").text
    assert listed.count("初始模板") == 8 and "问室温" in listed and "5.4.6" in listed
    refused = agent.post("/console/replies", {"title": "夜间", "text": "夜间值班电话请见公众号菜单"})
    assert refused.status_code == 403
    added = boss.post("/console/replies", {"title": "夜间", "text": "夜间值班电话请见公众号菜单"})
    assert added.status_code == 200 and "<td>9 <kbd>Alt+9</kbd></td><td>夜间</td>" in added.text
    assert boss.post("/console/replies", {"title": "夜间", "text": "重复"}).status_code == 409
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        replies = {r.title: r.id for r in replies_service.canned_replies(session)}
    reworded = {"title": "问地址", "text": "请问您家住哪个小区几号楼？"}
    edited = boss.post(f"/console/replies/{replies['问地址']}/edit", reworded)
    assert edited.status_code == 200 and "<td>2 <kbd>Alt+2</kbd></td><td>问地址</td>" in edited.text
    assert boss.post(f"/console/replies/{replies['问候']}/delete").status_code == 200
    handoff_id = open_handoff(client, auth)
    page = agent.get(f"/console/chats/{handoff_id}").text
    assert 'value="请问您家住哪个小区几号楼？" data-key="2"' in page  # still 2 after the first was deleted
    assert 'value="夜间值班电话请见公众号菜单" data-key="9"' in page and 'data-key="1"' not in page
    # the highest number deleted is not given again: Alt+9 never turns into another text
    assert boss.post(f"/console/replies/{replies_now(client)['夜间']}/delete").status_code == 200
    again = boss.post("/console/replies", {"title": "夜间", "text": "夜里漏水请先关阀门"})
    assert again.status_code == 200 and "<td>10</td><td>夜间</td>" in again.text


def test_staff_actions_are_audited_with_who_and_when(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    handoff_id = open_handoff(client, auth)
    b = browser("agent")
    b.post(f"/console/chats/{handoff_id}/take")
    b.post(f"/console/chats/{handoff_id}/notes", {"text": "已电话联系"})
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        rows = [
            (a.actor, a.action, a.target, a.at) for a in session.scalars(select(StaffAudit).order_by(StaffAudit.id))
        ]
    target = f"handoff:{handoff_id}"
    assert [r for r in rows if r[1] != "console.login"] == [
        ("staff:agent1", "handoff.take", target, clock.now),
        ("staff:agent1", "handoff.note", target, clock.now),
    ]


# ----------------------------------------------------------------------------- the order board


def test_the_board_counts_down_in_beijing_time_and_filters(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, clock: FixedClock
) -> None:
    # 16:10 UTC is 00:10 the next day in Beijing: the console must say so whatever the server's TZ.
    clock.now = datetime(2026, 12, 9, 16, 10, tzinfo=UTC)
    leak = client.post("/api/v1/work-orders", json={**REPAIR, "category": "leak"}, headers=auth).json()
    client.post("/api/v1/work-orders", json={**REPAIR, "kind": "complaint", "category": "service"}, headers=auth)
    b = browser("agent")
    board = b.get("/console/orders").text
    assert "12-10 00:10" in board and "12-09" not in board
    assert "响应 <b>剩30分钟</b>" in board and "10.1.4" in board and "10.2.3" in board
    only_leaks = b.get("/console/orders?category=leak", headers={"HX-Request": "true"}).text
    assert leak["number"] in only_leaks and only_leaks.count("/console/orders/") == 1
    clock.advance(minutes=31)
    late = b.get("/console/orders?due=overdue", headers={"HX-Request": "true"}).text
    assert 'class="countdown overdue"' in late and "响应 <b>超1分钟</b>" in late


def test_actions_change_the_order_and_its_history_by_role(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    order = client.post(
        "/api/v1/work-orders",
        json={**REPAIR, "source": "city_hotline", "external_reference": "12345-001"},
        headers=auth,
    ).json()
    agent, boss = browser("agent"), browser("supervisor")
    path = f"/console/orders/{order['id']}/actions"
    missing = agent.post(f"{path}/dispatch", {"note": "派工"})
    assert missing.status_code == 422 and "维修人员" in missing.text
    responded = agent.post(f"{path}/respond", {"note": "已电话联系居民"})
    assert responded.status_code == 200 and "已响应" in responded.text
    # Only what the state machine allows now, and only what the role may do, is offered.
    assert "回退热线工单" not in agent.get(f"/console/orders/{order['id']}").text
    assert "回退热线工单" in boss.get(f"/console/orders/{order['id']}").text
    assert "<summary>响应</summary>" not in boss.get(f"/console/orders/{order['id']}").text
    refused = agent.post(f"{path}/return", {"note": "不属于供热范围"})
    assert refused.status_code == 403
    sent = agent.post(f"{path}/dispatch", {"technician": "张师傅"})
    assert "维修人员：张师傅" in sent.text and "已派工" in sent.text
    events = client.get(f"/api/v1/work-orders/{order['id']}/events", headers=auth).json()
    assert [e["action"] for e in events] == ["accept", "respond", "dispatch"]
    assert events[-1]["data"] == {"technician": "张师傅"}


def test_the_whole_contact_is_shown_on_purpose_and_audited(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    b = browser("agent")
    page = b.get(f"/console/orders/{order['id']}").text
    assert "13800138000" not in page and "138****8000" in page
    contact = b.get(f"/console/orders/{order['id']}/contact").text
    assert "13800138000" in contact and "阳光小区3号楼2单元501" in contact
    events = client.get(f"/api/v1/work-orders/{order['id']}/events", headers=auth).json()
    assert events[-1]["action"] == "contact_viewed" and events[-1]["actor"] == "staff:agent1"


def test_an_order_filed_from_the_chat_is_the_residents_and_linked(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    handoff_id = open_handoff(client, auth)
    b = browser("agent")
    form = {"kind": "repair", "category": "leak", "description": "厨房暖气管滴水", "address": "阳光小区3号楼2单元501"}
    refused = b.post(f"/console/chats/{handoff_id}/order", form)  # not taken yet
    assert refused.status_code == 409 and "接管这个会话后才能为居民登记工单" in refused.text
    b.post(f"/console/chats/{handoff_id}/take")
    bad = b.post(f"/console/chats/{handoff_id}/order", {**form, "kind": "nonsense"})
    assert bad.status_code == 422 and "kind" in bad.text
    filed = b.post(f"/console/chats/{handoff_id}/order", form)
    assert filed.status_code == 200 and "本会话关联" in filed.text
    [order] = client.get("/api/v1/work-orders", params={"resident_openid": "oCHAT"}, headers=agent).json()["items"]
    assert (order["kind"], order["category"], order["source"], order["urgent"]) == ("repair", "leak", "wechat", True)
    events = client.get(f"/api/v1/work-orders/{order['id']}/events", headers=agent).json()
    assert events[0]["actor"] == "staff:agent1"
    # the resident is told the number and the promise in the chat, as the bot tells its own filings
    [told] = [r for r in outbound.outbox_rows if r["openid"] == "oCHAT"]
    assert order["number"] in told["text"] and "10.2.3" in told["text"]


def test_filing_from_a_chat_uses_what_the_resident_gave_the_bot(
    browser: Callable[[str], Browser], client: TestClient, auth: dict, agent: dict, outbound: FakeOutbound
) -> None:
    """The page shows the remembered address and phone masked (12.1) and files the whole ones."""
    client.post("/api/v1/work-orders", json=REPAIR, headers=auth)  # the bot's earlier filing: remembered
    handoff_id = open_handoff(client, auth)
    b = browser("agent")
    panel = b.post(f"/console/chats/{handoff_id}/take").text
    assert "阳光小区3号楼****" in panel and "138****8000" in panel and "13800138000" not in panel
    address_id = re.search(r'name="address_id"><option value="(\d+)"', panel)
    assert address_id is not None
    form = {"kind": "complaint", "category": "room_temperature", "description": "屋里16度"}
    filed = b.post(f"/console/chats/{handoff_id}/order", {**form, "address_id": address_id[1], "known_phone": "1"})
    assert filed.status_code == 200, filed.text
    newest = client.get("/api/v1/work-orders", params={"resident_openid": "oCHAT"}, headers=auth).json()["items"][0]
    assert (newest["address"], newest["phone"]) == ("阳光小区3号楼2单元501", "13800138000")
    outbound.channel_status = "undelivered"
    outbound.channel_up = False
    untold = b.post(f"/console/chats/{handoff_id}/order", form)
    assert untold.status_code == 200 and "已登记，但没能发给居民" in untold.text


def test_a_paper_quote_confirmation_only_for_a_resident_without_wechat(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    b = browser("agent")
    on_wechat = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    by_phone = client.post(
        "/api/v1/work-orders", json={**REPAIR, "resident_openid": None, "source": "phone"}, headers=auth
    ).json()
    quote = {"quote_lines": "更换阀门, 铜阀DN20, 1, 85"}
    for order in (on_wechat, by_phone):
        path = f"/console/orders/{order['id']}/actions"
        for action in ("respond", "dispatch", "arrive"):
            assert b.post(f"{path}/{action}", {"technician": "张师傅"}).status_code == 200
        assert "85" in b.post(f"{path}/quote", quote).text
    assert "记录居民书面确认报价" not in b.get(f"/console/orders/{on_wechat['id']}").text
    refused = b.post(f"/console/orders/{on_wechat['id']}/actions/confirm_quote", {"note": "签字"})
    assert refused.status_code == 403  # the resident decides in WeChat (10.2.2)
    assert "记录居民书面确认报价" in b.get(f"/console/orders/{by_phone['id']}").text
    path = f"/console/orders/{by_phone['id']}/actions/confirm_quote"
    assert b.post(path, {}).status_code == 422  # how the resident confirmed is required
    assert "居民已确认" in b.post(path, {"note": "居民现场签字确认"}).text


def test_staff_move_a_completion_time_and_a_supervisor_judges_a_complaint_from_the_order_page(
    browser: Callable[[str], Browser], client: TestClient, auth: dict
) -> None:
    """10.1.4 (办结条) and 14.4.4 from the console: the forms send what the API requires."""
    order = client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json()
    b, boss = browser("agent"), browser("supervisor")
    page = b.get(f"/console/orders/{order['id']}").text
    assert "承诺办结" in page and "10.1.4（办结条）" in page
    path = f"/console/orders/{order['id']}/actions"
    b.post(f"{path}/respond", {})
    moved = b.post(f"{path}/reschedule", {"promised_at": "2026-12-12T09:00", "reason": "配件明天到货"})
    assert moved.status_code == 200 and "12-12 09:00" in moved.text
    complaint = client.post(
        "/api/v1/work-orders", json={**REPAIR, "kind": "complaint", "category": "service"}, headers=auth
    ).json()
    assert "认定为不合理投诉" not in b.get(f"/console/orders/{complaint['id']}").text  # a supervisor's
    judged = boss.post(
        f"/console/orders/{complaint['id']}/actions/mark_unreasonable", {"reason": "要求赔偿超出服务范围的损失"}
    )
    assert judged.status_code == 200 and "不计入 14.4.4/14.4.5" in judged.text
