"""Quick replies as a desk uses them: variables filled from the chat ({单号}, {时限}, {居民称呼}), each member
of staff's own replies beside the shared ones, the "/" picker's list, and macros (a reply that also acts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.models import CannedReply, WorkOrder
from tests.api.conftest import Browser, FakeOutbound
from tests.api.test_console import REPAIR, open_handoff


def _chat_with_order(
    client: TestClient, auth: dict, agent: Browser, contact: str | None = None, link: bool = True
) -> tuple[int, dict[str, Any]]:
    """A chat the agent holds, with the resident's order linked to it (unless ``link`` is False)."""
    order = client.post("/api/v1/work-orders", json={**REPAIR, "contact_name": contact}, headers=auth).json()
    handoff_id = open_handoff(client, auth)
    assert agent.post(f"/console/chats/{handoff_id}/take").status_code == 200
    if link:
        assert agent.post(f"/console/chats/{handoff_id}/link", {"order_id": order["id"]}).status_code == 200
    return handoff_id, order


def _shared(client: TestClient, title: str) -> int:
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        return int(session.scalars(select(CannedReply.id).where(CannedReply.title == title)).one())


def test_variables_are_filled_from_the_chats_order_and_resident(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    agent = browser("agent")
    handoff_id, order = _chat_with_order(client, auth, agent, contact="张三")
    page = agent.get(f"/console/chats/{handoff_id}").text
    shown = page.split("data-vars=")[1].split(">")[0]
    assert order["number"] in shown  # the number is filled as a reply is inserted
    assert "张三" not in page  # the name only at sending: the pages do not show it (12.1)
    sent = agent.post(f"/console/chats/{handoff_id}/send", {"text": "{居民称呼}您好，工单{单号}将于{时限}响应您"})
    assert sent.status_code == 200, sent.text
    text = outbound.outbox_rows[-1]["text"]
    assert text.startswith("张三您好，工单" + order["number"] + "将于") and "（响应，10.1.4）响应您" in text
    assert "{" not in text


def test_a_reply_whose_variables_cannot_be_filled_is_not_sent(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    agent = browser("agent")
    handoff_id, _ = _chat_with_order(client, auth, agent, link=False)
    before = len(outbound.outbox_rows)
    refused = agent.post(f"/console/chats/{handoff_id}/send", {"text": "您的工单{单号}已受理"})
    assert refused.status_code == 422 and "还没有关联工单" in refused.text and "{单号}" in refused.text
    assert len(outbound.outbox_rows) == before
    greeted = agent.post(f"/console/chats/{handoff_id}/send", {"text": "{居民称呼}您好"})  # no name left: 居民
    assert greeted.status_code == 200 and outbound.outbox_rows[-1]["text"] == "居民您好"


def test_each_member_of_staff_keeps_replies_of_their_own(
    client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    mine, other = browser("agent"), browser("agent")
    added = mine.post("/console/replies", {"mine": "1", "title": "我的开场", "text": "您好，我是小王，工号001"})
    assert added.status_code == 200 and "我的开场" in added.text.split("我的快捷回复")[1]
    assert mine.post("/console/replies", {"mine": "1", "title": "我的开场", "text": "重复"}).status_code == 409
    assert other.post("/console/replies", {"mine": "1", "title": "我的开场", "text": "他的"}).status_code == 200
    handoff_id = open_handoff(client, auth)
    page = mine.get(f"/console/chats/{handoff_id}").text
    assert '<optgroup label="我的"><option value="您好，我是小王，工号001">我的开场</option>' in page
    assert 'data-text="您好，我是小王，工号001">我的 · 我的开场</li>' in page  # in the "/" picker too
    assert "您好，我是小王" not in other.get(f"/console/chats/{handoff_id}").text
    mine_id = page.split('id="pick-p')[1].split('"')[0]
    assert other.post(f"/console/replies/mine/{mine_id}/delete").status_code == 404  # not theirs
    edited = mine.post(f"/console/replies/mine/{mine_id}/edit", {"title": "我的开场", "text": "您好，我是小王"})
    assert edited.status_code == 200 and "您好，我是小王</td>" in edited.text
    assert mine.post(f"/console/replies/mine/{mine_id}/delete").status_code == 200
    assert "我的开场" not in mine.get("/console/replies").text


def test_the_picker_offers_every_shared_reply_with_its_number(
    client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    handoff_id = open_handoff(client, auth)
    page = browser("agent").get(f"/console/chats/{handoff_id}").text
    picker = page.split('id="reply-picker"')[1].split("</ul>")[0]
    assert picker.count('role="option"') == 8 and "5. 已派工</li>" in picker and 'data-title="问室温"' in picker


def test_a_supervisor_makes_a_reply_a_macro_and_one_click_dispatches_and_tells_the_resident(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    boss, agent = browser("supervisor"), browser("agent")
    dispatched = _shared(client, "已派工")
    assert agent.post(f"/console/replies/{dispatched}/macro", {"action": "dispatch"}).status_code == 403
    assert boss.post(f"/console/replies/{dispatched}/macro", {"action": "explode"}).status_code == 422
    made = boss.post(f"/console/replies/{dispatched}/macro", {"action": "dispatch"})
    assert made.status_code == 200 and '<option value="dispatch" selected>发送并派工</option>' in made.text
    handoff_id, order = _chat_with_order(client, auth, agent)
    assert agent.post(f"/console/orders/{order['id']}/actions/respond").status_code == 200
    page = agent.get(f"/console/chats/{handoff_id}").text
    assert "一键操作" in page and "已派工（发送并派工）" in page
    before = len(outbound.outbox_rows)
    refused = agent.post(f"/console/chats/{handoff_id}/macro/{dispatched}", {})
    assert refused.status_code == 422 and "维修人员" in refused.text
    assert len(outbound.outbox_rows) == before  # refused: nothing sent
    done = agent.post(f"/console/chats/{handoff_id}/macro/{dispatched}", {"technician": "李师傅"})
    assert done.status_code == 200, done.text
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        kept = session.get(WorkOrder, order["id"])
        assert kept is not None and kept.status == "dispatched" and kept.technician == "李师傅"
    assert "已为您派工" in outbound.outbox_rows[-1]["text"] and len(outbound.outbox_rows) == before + 1
    # a plain reply is not a macro; another's chat cannot run one
    assert agent.post(f"/console/chats/{handoff_id}/macro/{_shared(client, '问候')}").status_code == 404
    stranger = browser("agent")
    assert stranger.post(f"/console/chats/{handoff_id}/macro/{dispatched}", {"technician": "李"}).status_code == 409


def test_a_macro_on_a_chat_without_an_order_does_nothing_and_says_why(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    boss, agent = browser("supervisor"), browser("agent")
    responded = _shared(client, "稍等查询")
    assert boss.post(f"/console/replies/{responded}/macro", {"action": "respond"}).status_code == 200
    handoff_id, _ = _chat_with_order(client, auth, agent, link=False)
    before = len(outbound.outbox_rows)
    refused = agent.post(f"/console/chats/{handoff_id}/macro/{responded}")
    assert refused.status_code == 409 and "还没有关联工单" in refused.text
    assert len(outbound.outbox_rows) == before


def test_a_closing_macro_sends_its_words_then_hands_the_chat_back(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    boss, agent = browser("supervisor"), browser("agent")
    goodbye = _shared(client, "结束语")
    assert boss.post(f"/console/replies/{goodbye}/macro", {"action": "close"}).status_code == 200
    handoff_id, _ = _chat_with_order(client, auth, agent, link=False)
    done = agent.post(f"/console/chats/{handoff_id}/macro/{goodbye}")
    assert done.status_code == 200 and "已结束" in done.text
    assert outbound.outbox_rows[-1]["text"].startswith("感谢您的耐心")
    assert outbound.trackers["oCHAT"][-3]["event"] == "resume"


# ------------------------------------------------------------------------------ the board's bulk dispatch


def test_bulk_dispatch_sends_what_may_go_and_names_the_rest_with_the_reason(
    client: TestClient, auth: dict, browser: Callable[[str], Browser]
) -> None:
    agent = browser("agent")
    orders = [client.post("/api/v1/work-orders", json=REPAIR, headers=auth).json() for _ in range(3)]
    for order in orders[:2]:
        assert agent.post(f"/console/orders/{order['id']}/actions/respond").status_code == 200
    board = agent.get("/console/orders").text
    assert 'id="bulk"' in board and f'name="order_id" value="{orders[0]["id"]}" form="bulk"' in board
    done = agent.post(
        "/console/orders/bulk-dispatch", {"order_id": [str(o["id"]) for o in orders], "technician": "王师傅"}
    )
    assert done.status_code == 200, done.text
    assert f"已派给 王师傅：{orders[0]['number']}、{orders[1]['number']}（2 张）" in done.text
    assert f"未派工 1 张：<ul><li>{orders[2]['number']}：" in done.text and "（当前状态：已受理）" in done.text
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        states = [session.get(WorkOrder, o["id"]).status for o in orders]  # type: ignore[union-attr]
    assert states == ["dispatched", "dispatched", "accepted"]


def test_bulk_dispatch_needs_ticked_orders_and_a_technician(
    client: TestClient, browser: Callable[[str], Browser]
) -> None:
    agent = browser("agent")
    nothing = agent.post("/console/orders/bulk-dispatch", {"technician": "王师傅"})
    assert nothing.status_code == 422 and "请先勾选" in nothing.text
    unnamed = agent.post("/console/orders/bulk-dispatch", {"order_id": "1"})
    assert unnamed.status_code == 422 and "维修人员" in unnamed.text
    refused = agent.post(
        "/console/orders/bulk-dispatch", {"order_id": [str(n) for n in range(1, 60)], "technician": "王"}
    )
    assert refused.status_code == 422 and "一次最多派 50 张" in refused.text


def test_a_macro_fills_its_deadline_after_acting(
    client: TestClient, auth: dict, browser: Callable[[str], Browser], outbound: FakeOutbound
) -> None:
    """A respond macro that names {时限} tells the resident the next promise, not the one it just met."""
    boss, agent = browser("supervisor"), browser("agent")
    responded = _shared(client, "稍等查询")
    reworded = {"title": "稍等查询", "text": "已收到，我们将于{时限}处理"}
    assert boss.post(f"/console/replies/{responded}/edit", reworded).status_code == 200
    assert boss.post(f"/console/replies/{responded}/macro", {"action": "respond"}).status_code == 200
    handoff_id, _ = _chat_with_order(client, auth, agent)
    assert agent.post(f"/console/chats/{handoff_id}/macro/{responded}").status_code == 200
    told = outbound.outbox_rows[-1]["text"]
    assert told.startswith("已收到，我们将于") and "响应" not in told and "{" not in told


def test_one_keeps_at_most_fifty_replies_of_ones_own(browser: Callable[[str], Browser]) -> None:
    agent = browser("agent")
    for n in range(50):
        assert agent.post("/console/replies", {"mine": "1", "title": f"第{n}条", "text": "好的"}).status_code == 200
    refused = agent.post("/console/replies", {"mine": "1", "title": "第51条", "text": "好的"})
    assert refused.status_code == 409 and "最多保存 50 条" in refused.text
