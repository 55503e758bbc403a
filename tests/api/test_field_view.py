"""我的工单: a technician's phone view. Dispatch names a technician's account (or, as before, an outside
crew in words); the technician sees only the orders dispatched to them, most urgent first and masked as
staff see them (12.1), and records arrival (10.2.4), a quote (10.2.2) and completion with the visit's
record (10.2.5) through the order page's own service, deadlines and all. Every refusal says its reason in
Chinese; an order dispatched to someone else answers exactly as one that does not exist."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import Deadline, Notification, WorkOrderEvent
from api.services import handoffs as handoffs_service
from api.services.principals import Principal, Role
from tests.api.conftest import Browser, FixedClock, act

ORDERS = "/api/v1/work-orders"
REPAIR = {
    "kind": "repair",
    "category": "equipment",
    "source": "wechat",
    "description": "阀门坏了，电话13800138000",
    "resident_openid": "oFIELD",
    "phone": "13800138000",
    "address": "阳光小区3号楼2单元501",
}
QUOTE = {"item_1": "更换阀门", "material_1": "铜阀DN20", "quantity_1": "1", "price_1": "85"}
DONE = {"result": "更换阀门，试压无渗漏", "site_satisfaction": "satisfied"}
# a temperature test's record as the completion form sends it (templates/_temperature_test_fields.html)
TEST_FIELDS = {
    "reading_1": "17.5",
    "reading_2": "17.6",
    "reading_3": "17.8",
    "instrument": "数字式温度计 T-07",
    "resolution": "0.1",
    "room": "living_room",
    "excluded": "",
    "signature": "paper",
    "test_note": "居民已在测温记录上签字",
}


@dataclass
class Crew:
    """A desk agent and two technicians, each in their own browser, with the technicians' account ids."""

    desk: Browser
    tech: Browser
    tech_id: int
    tech_name: str
    other: Browser
    other_id: int


def account(client: TestClient, b: Browser) -> dict:
    """The browser's own account, read with its session token (a technician may ask who they are)."""
    token = b.client.cookies.get("hs_console")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    return dict(me.json())


@pytest.fixture
def crew(browser: Callable[[str], Browser], client: TestClient) -> Crew:
    desk, tech, other = browser("agent"), browser("technician"), browser("technician")
    me = account(client, tech)
    return Crew(desk, tech, me["id"], me["display_name"], other, account(client, other)["id"])


def file(client: TestClient, auth: dict, **fields: object) -> dict:
    made = client.post(ORDERS, json={**REPAIR, **fields}, headers=auth)
    assert made.status_code == 201, made.text
    return dict(made.json())


def dispatch(crew: Crew, order_id: int, technician_id: int | None = None, technician: str = "") -> None:
    """The desk responds and dispatches from the order page, naming the account (or a crew in words)."""
    path = f"/console/orders/{order_id}/actions"
    assert crew.desk.post(f"{path}/respond").status_code == 200
    form = {"technician_id": str(technician_id or ""), "technician": technician}
    sent = crew.desk.post(f"{path}/dispatch", form)
    assert sent.status_code == 200, sent.text


def read(client: TestClient, auth: dict, order_id: int) -> dict:
    return dict(client.get(f"{ORDERS}/{order_id}", headers=auth).json())


def on_site(crew: Crew, order_id: int, action: str, form: dict | None = None, who: Browser | None = None):  # type: ignore[no-untyped-def]
    return (who or crew.tech).post(f"/console/field/{order_id}/actions/{action}", form or {})


# ----------------------------------------------------------------------------- dispatch


def test_dispatch_names_a_technicians_account_or_an_outside_crew(crew: Crew, client: TestClient, auth: dict) -> None:
    mine, outside = file(client, auth), file(client, auth)
    crew.desk.post(f"/console/orders/{mine['id']}/actions/respond")
    page = crew.desk.get(f"/console/orders/{mine['id']}").text
    assert f'<option value="{crew.tech_id}">{crew.tech_name}（' in page  # the accounts to choose from
    path = f"/console/orders/{mine['id']}/actions/dispatch"
    nothing = crew.desk.post(path, {})
    assert nothing.status_code == 422 and "派工须选择维修人员账号，或填写外部队伍的姓名" in nothing.text
    both = crew.desk.post(path, {"technician_id": str(crew.tech_id), "technician": "王师傅"})
    assert both.status_code == 422 and "请只选一种" in both.text
    agent_id = account(client, crew.desk)["id"]
    not_a_technician = crew.desk.post(path, {"technician_id": str(agent_id)})
    assert not_a_technician.status_code == 422 and "所选账号不是维修人员" in not_a_technician.text
    assert crew.desk.post(path, {"technician_id": str(crew.tech_id)}).status_code == 200
    dispatched = read(client, auth, mine["id"])
    assert (dispatched["technician"], dispatched["technician_id"]) == (crew.tech_name, crew.tech_id)
    assert crew.tech_name in crew.desk.get(f"/console/orders/{mine['id']}").text

    dispatch(crew, outside["id"], technician="外协队王师傅")  # free text still works (an outside crew)
    assert (read(client, auth, outside["id"])["technician"], read(client, auth, outside["id"])["technician_id"]) == (
        "外协队王师傅",
        None,
    )
    listed = crew.tech.get("/console/field").text
    assert mine["number"] in listed and outside["number"] not in listed


def test_the_json_api_dispatches_to_an_account_too(crew: Crew, client: TestClient, auth: dict, agent: dict) -> None:
    order = file(client, auth)
    act(client, agent, order["id"], "respond")
    sent = act(client, agent, order["id"], "dispatch", technician_id=crew.tech_id)
    assert sent.status_code == 200 and sent.json()["technician"] == crew.tech_name
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=auth).json()
    assert events[-1]["data"] == {"technician": crew.tech_name, "technician_id": crew.tech_id}


# ----------------------------------------------------------------------------- the view


def test_a_technician_lands_on_their_own_orders_most_urgent_first_and_masked(
    crew: Crew, client: TestClient, auth: dict, clock: FixedClock
) -> None:
    early = file(client, auth)  # arrival due at 10:30 (10.2.4: 30 minutes)
    clock.advance(minutes=10)
    later = file(client, auth, description="暖气片不热")  # due at 10:40
    theirs = file(client, auth, description="别人的工单")
    finished = file(client, auth, description="已修好的")
    for order in (later, early, finished):  # dispatched in another order than their urgency
        dispatch(crew, order["id"], crew.tech_id)
    dispatch(crew, theirs["id"], crew.other_id)
    on_site(crew, finished["id"], "arrive")
    on_site(crew, finished["id"], "complete", DONE)

    page = crew.tech.get("/console/field")
    assert page.status_code == 200
    text = page.text
    positions = [text.index(o["number"]) for o in (early, later, finished)]
    assert positions == sorted(positions), "open orders by their arrival deadline, then the finished one"
    assert theirs["number"] not in text and "别人的工单" not in text
    assert "阳光小区3号楼****" in text and "138****8000" in text
    assert "13800138000" not in text and "2单元501" not in text  # 12.1, the description's phone too
    assert "到场" in text and "10.2.4" in text and "剩20分钟" in text  # the next deadline: arrival
    assert text.count('class="big">到场</button>') == 2  # one per open order; the finished one has none
    assert "最近3天办结" in text and "更换阀门，试压无渗漏" in text and "居民评价：满意" in text
    assert "维修丁" in text and "维修人员" in text


def test_the_login_and_the_start_page_lead_each_role_to_its_own_console(
    browser: Callable[[str], Browser], make_client: Callable[..., TestClient], client: TestClient
) -> None:
    from tests.api.conftest import add_staff_user

    add_staff_user(client, "lishifu", "technician", display_name="李师傅")
    b = Browser(make_client())
    assert b.login("lishifu").headers["location"] == "/console/field"  # type: ignore[attr-defined]
    assert b.get("/console/").headers["location"] == "/console/field"
    assert "没有派给您的待办工单" in b.get("/console/field").text
    assert b.get("/console/chats").headers["location"] == "/console/field"
    assert browser("agent").get("/console/field").headers["location"] == "/console/chats"
    out = b.post("/console/logout", htmx=False)
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert b.get("/console/field").headers["location"] == "/console/login"


# ----------------------------------------------------------------------------- the work on site


def test_arrival_a_quote_and_completion_are_recorded_on_site_with_the_deadlines(
    crew: Crew, client: TestClient, auth: dict, clock: FixedClock
) -> None:
    order = file(client, auth)
    dispatch(crew, order["id"], crew.tech_id)
    clock.advance(minutes=12)
    arrived = on_site(crew, order["id"], "arrive")
    assert arrived.status_code == 200 and "已到场" in arrived.text and f'id="order-{order["id"]}"' in arrived.text
    stored = read(client, auth, order["id"])
    assert stored["status"] == "arrived" and datetime.fromisoformat(stored["arrived_at"]) == clock.now
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        rows = session.execute(select(Deadline.name, Deadline.met_at).where(Deadline.order_id == order["id"]))
        met = {name: at for name, at in rows}
    assert met["arrival"] == clock.now and "handle" not in met  # 10.2.4 met, 12 minutes in; no leak here

    quoted = on_site(crew, order["id"], "quote", {**QUOTE, "item_2": "人工费", "quantity_2": "2", "price_2": "30"})
    assert quoted.status_code == 200
    assert "145.00 元" in quoted.text and "待居民确认" in quoted.text  # 85 + 2 × 30
    assert "居民尚未确认这项有偿维修的报价，确认后才能继续（10.2.2）" in quoted.text  # why the work waits
    assert "提交完工记录" not in quoted.text
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        asked = session.scalars(select(Notification).where(Notification.kind == "quote_confirmation")).all()
    assert [(n.recipient_openid, n.order_id) for n in asked] == [("oFIELD", order["id"])]  # as the order page does
    early = on_site(crew, order["id"], "complete", DONE)
    assert early.status_code == 409 and "居民尚未确认这项有偿维修的报价" in early.text

    assert act(client, auth, order["id"], "confirm_quote", resident_openid="oFIELD").status_code == 200
    card = crew.tech.get("/console/field").text
    assert "居民已确认" in card and "提交完工记录" in card
    no_result = on_site(crew, order["id"], "complete", {"site_satisfaction": "satisfied"})
    assert no_result.status_code == 422 and "完工须记录处理结果（10.2.5）" in no_result.text
    no_rating = on_site(crew, order["id"], "complete", {"result": "已修好"})
    assert no_rating.status_code == 422 and "完工须记录居民对本次维修的满意度（10.2.5）" in no_rating.text
    clock.advance(minutes=40)
    done = on_site(crew, order["id"], "complete", {**DONE, "site_satisfaction": "basically_satisfied"})
    assert done.status_code == 200 and "已完成" in done.text and "居民评价：基本满意" in done.text

    stored = read(client, auth, order["id"])
    assert stored["status"] == "completed" and stored["result"] == DONE["result"]
    assert (stored["technician"], stored["site_satisfaction"]) == (crew.tech_name, "basically_satisfied")
    assert stored["callback_due_at"] is not None  # 10.1.6: the call-back is planned as for the desk
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=auth).json()
    assert [e["action"] for e in events[-4:]] == ["arrive", "quote", "confirm_quote", "complete"]
    tech_events = [e for e in events if e["actor"] == f"staff:{account(client, crew.tech)['username']}"]
    assert [e["action"] for e in tech_events] == ["arrive", "quote", "complete"]
    assert events[-1]["data"]["technician"] == crew.tech_name
    assert events[-1]["data"]["site_satisfaction"] == "basically_satisfied"
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        still_open = session.scalars(
            select(Deadline.name).where(Deadline.order_id == order["id"], Deadline.met_at.is_(None))
        ).all()
    assert set(still_open) <= {"callback"}  # completion met the rest, as on the order page


def test_a_temperature_test_is_completed_with_its_record(crew: Crew, client: TestClient, auth: dict) -> None:
    """5.4.6: three readings and the thermometer; 10.3 第1条 a: the resident's signature; the mean is the result."""
    order = file(client, auth, kind="temperature_test", category="room_temperature", description="屋里16度")
    dispatch(crew, order["id"], crew.tech_id)
    on_site(crew, order["id"], "arrive")
    card = crew.tech.get("/console/field").text
    assert 'name="reading_3"' in card and 'name="instrument"' in card and 'value="wechat"' in card  # on WeChat
    missing = on_site(crew, order["id"], "complete", DONE)
    assert missing.status_code == 422 and "入户测温完成时须记录三次读数、温度计、测量房间和居民签字" in missing.text
    two = on_site(crew, order["id"], "complete", {**DONE, **TEST_FIELDS, "reading_3": ""})
    assert two.status_code == 422 and "须填写三次读数" in two.text
    unsigned = on_site(crew, order["id"], "complete", {**DONE, **TEST_FIELDS, "test_note": ""})
    assert unsigned.status_code == 422 and "请注明居民已在纸质记录上签字（10.3 第1条 a）" in unsigned.text
    done = on_site(crew, order["id"], "complete", {**DONE, **TEST_FIELDS})
    assert done.status_code == 200, done.text
    stored = read(client, auth, order["id"])
    assert stored["measured_temperature"] == 17.6  # (17.5 + 17.6 + 17.8) / 3 = 17.63
    record = stored["temperature_test"]
    assert record["readings"] == [17.5, 17.6, 17.8] and record["instrument"] == "数字式温度计 T-07"
    assert record["room"] == "living_room" and record["signature"] == "paper" and record["excluded"] is None


def test_the_whole_address_and_phone_are_read_on_purpose_and_audited(
    crew: Crew, client: TestClient, auth: dict
) -> None:
    order = file(client, auth)
    dispatch(crew, order["id"], crew.tech_id)
    whole = crew.tech.get(f"/console/field/{order['id']}/contact", headers={"HX-Request": "true"})
    assert whole.status_code == 200 and "13800138000" in whole.text and "阳光小区3号楼2单元501" in whole.text
    events = client.get(f"{ORDERS}/{order['id']}/events", headers=auth).json()
    assert events[-1]["action"] == "contact_viewed" and events[-1]["actor"].startswith("staff:technician")
    on_site(crew, order["id"], "arrive")
    assert on_site(crew, order["id"], "complete", DONE).status_code == 200
    over = crew.tech.get(f"/console/field/{order['id']}/contact", headers={"HX-Request": "true"})
    assert over.status_code == 409 and "不能再查看完整地址电话" in over.text  # the visit is over


# ----------------------------------------------------------------------------- refusals


def not_found(answer: object) -> bool:
    return answer.status_code == 404 and "没有找到派给您的这张工单" in answer.text  # type: ignore[attr-defined]


def test_an_order_dispatched_to_someone_else_answers_as_one_that_does_not_exist(
    crew: Crew, client: TestClient, auth: dict
) -> None:
    theirs, outside = file(client, auth), file(client, auth)
    dispatch(crew, theirs["id"], crew.other_id)
    dispatch(crew, outside["id"], technician="外协队")
    for order_id in (theirs["id"], outside["id"], 999999):
        for action, form in (("arrive", {}), ("quote", QUOTE), ("complete", DONE)):
            assert not_found(on_site(crew, order_id, action, form)), (order_id, action)
        assert not_found(crew.tech.get(f"/console/field/{order_id}/contact", headers={"HX-Request": "true"}))
    assert read(client, auth, theirs["id"])["status"] == "dispatched"  # nothing was recorded
    events = client.get(f"{ORDERS}/{theirs['id']}/events", headers=auth).json()
    assert all(e["action"] != "contact_viewed" for e in events)


def test_a_technician_records_only_arrival_quote_and_completion(crew: Crew, client: TestClient, auth: dict) -> None:
    order = file(client, auth)
    dispatch(crew, order["id"], crew.tech_id)
    for action in ("respond", "dispatch", "cancel", "return", "extend", "close", "callback", "reschedule"):
        refused = on_site(crew, order["id"], action, {"technician": "我自己", "note": "x", "reason": "x"})
        assert refused.status_code == 403, action
        assert "维修人员只在现场记录到场、报价和完工" in refused.text, action
    assert read(client, auth, order["id"])["status"] == "dispatched"


def test_refusals_on_site_say_the_real_reason_in_chinese(
    crew: Crew, client: TestClient, auth: dict, supervisor: dict
) -> None:
    order = file(client, auth)
    dispatch(crew, order["id"], crew.tech_id)
    assert on_site(crew, order["id"], "arrive").status_code == 200
    twice = on_site(crew, order["id"], "arrive")
    assert twice.status_code == 409 and "工单已到场，不能到场；现在可以：报价、完成" in twice.text
    empty = on_site(crew, order["id"], "quote", {})
    assert empty.status_code == 422 and "报价须列明维修项目、单价和材料（10.2.2）" in empty.text
    not_a_number = on_site(crew, order["id"], "quote", {**QUOTE, "price_1": "八十五"})
    assert not_a_number.status_code == 422 and "第1项的数量或单价不是数字" in not_a_number.text
    none_of_it = on_site(crew, order["id"], "quote", {**QUOTE, "quantity_1": "0"})
    assert none_of_it.status_code == 422 and "第1项的数量填写有误：须为1到1000的整数" in none_of_it.text
    no_item = on_site(crew, order["id"], "quote", {**QUOTE, "item_1": ""})
    assert no_item.status_code == 422 and "第1项的项目填写有误" in no_item.text
    unknown = on_site(crew, order["id"], "complete", {**DONE, "site_satisfaction": "great"})
    assert unknown.status_code == 422 and "请选择居民满意度：满意、基本满意、不满意或居民未评价" in unknown.text
    too_hot = on_site(crew, order["id"], "complete", {**DONE, **TEST_FIELDS, "reading_2": "85"})
    assert too_hot.status_code == 422 and "须填写三次读数，每次为-10到40之间的数字（℃）" in too_hot.text
    for refused in (twice, empty, not_a_number, none_of_it, no_item, unknown, too_hot):
        assert "技术信息" not in refused.text  # the reason itself, not a code's words with English beneath

    cancelled = file(client, auth)
    dispatch(crew, cancelled["id"], crew.tech_id)
    assert act(client, supervisor, cancelled["id"], "cancel", note="居民自行修好").status_code == 200
    late = on_site(crew, cancelled["id"], "arrive")
    assert late.status_code == 409 and "工单已撤销，不能到场" in late.text
    assert "已撤销" in crew.tech.get("/console/field").text  # shown among the finished, without buttons


# ----------------------------------------------------------------------------- the rest of the console


def test_a_technician_is_never_given_a_chat(crew: Crew, client: TestClient, auth: dict, clock: FixedClock) -> None:
    handoff = client.post("/api/v1/handoffs", json={"resident_openid": "oFIELD", "reason": "requested"}, headers=auth)
    tech = account(client, crew.tech)
    boss = Principal(name="staff:boss", role=Role.SUPERVISOR, staff_user_id=None)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        assert tech["username"] not in [u.username for u in handoffs_service.assignable_staff(session)]
        with pytest.raises(Exception, match="no active member of staff"):
            handoffs_service.assign_handoff(session, handoff.json()["id"], boss, tech["username"], clock.now)


def test_the_desk_does_not_act_through_the_technicians_page(crew: Crew, client: TestClient, auth: dict) -> None:
    order = file(client, auth)
    dispatch(crew, order["id"], crew.tech_id)
    refused = crew.desk.post(f"/console/field/{order['id']}/actions/arrive")
    assert refused.status_code == 403 and "这是维修人员的页面" in refused.text
    assert read(client, auth, order["id"])["status"] == "dispatched"


def test_events_name_the_technician_by_display_name_on_the_order_page(
    crew: Crew, client: TestClient, auth: dict
) -> None:
    order = file(client, auth)
    dispatch(crew, order["id"], crew.tech_id)
    on_site(crew, order["id"], "arrive")
    page = crew.desk.get(f"/console/orders/{order['id']}").text
    history = page[page.index('class="history"') :]
    assert re.search(r"<b>到场</b>\s*" + re.escape(crew.tech_name), history)
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        actors = session.scalars(select(WorkOrderEvent.actor).where(WorkOrderEvent.order_id == order["id"])).all()
    assert actors[-1].startswith("staff:technician")
