"""Order actions that explain themselves, in a real browser against the real processes: a quote waiting
for the resident is shown and sent again to the simulated phone (10.2.2), and the WeChat survey reaches
the resident as its questions only (10.1.6)."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import eventually, inbox, staff_token
from tests.e2e.test_console_page import SHOTS, blocked, console_page, log_in
from tests.e2e.test_walking_skeleton import phone

QUOTE_HEAD = "【维修报价】"


def quotes_received(env: dict[str, str], openid: str) -> list[str]:
    return [m["text"] for m in inbox(env, openid) if QUOTE_HEAD in (m.get("text") or "")]


def test_a_pending_quote_is_explained_and_sent_again_to_the_residents_phone(
    running_stack: dict[str, str], chromium: object
) -> None:
    env = running_stack
    openid = "oE2E-console-quote"
    token = staff_token(env, "console-quoter", "agent")
    agent = {"Authorization": f"Bearer {token}"}
    phone(env, openid, "text", "你好")  # the resident has written: the 48-hour window is open
    order = httpx.post(
        env["API_URL"] + "/api/v1/work-orders",
        json={
            "kind": "repair",
            "category": "equipment",
            "source": "wechat",
            "description": "暖气阀门坏了",
            "resident_openid": openid,
            "phone": "13900002222",
            "address": "阳光小区3号楼2单元502",
        },
        headers={"Authorization": f"Bearer {env['API_TOKEN']}"},
    ).json()
    path = env["API_URL"] + f"/api/v1/work-orders/{order['id']}/actions"
    for action, body in (("respond", None), ("dispatch", {"technician": "李师傅"}), ("arrive", None)):
        assert httpx.post(f"{path}/{action}", json=body, headers=agent).status_code == 200

    page = console_page(chromium)
    log_in(page, env, "console-quoter")
    page.goto(env["API_URL"] + f"/console/orders/{order['id']}")  # type: ignore[attr-defined]
    page.locator("details:has(form[data-action=quote])").evaluate("d => { d.open = true; }")  # type: ignore[attr-defined]
    page.fill("form[data-action=quote] textarea[name=quote_lines]", "更换阀门, 铜阀DN20, 1, 85")  # type: ignore[attr-defined]
    page.click("form[data-action=quote] button[type=submit]")  # type: ignore[attr-defined]
    box = page.wait_for_selector("#quote-pending")  # type: ignore[attr-defined]
    assert "不能派工、到场或完成" in box.inner_text() and "合计 85.00 元" in box.inner_text()
    assert page.locator("form[data-action=complete]").count() == 0  # type: ignore[attr-defined]
    first = eventually(lambda: quotes_received(env, openid), lambda got: len(got) == 1)
    assert len(first) == 1 and "合计 85.00 元" in first[0]

    def reloaded() -> str:
        page.reload()  # type: ignore[attr-defined]
        return str(page.inner_text("#quote-pending"))  # type: ignore[attr-defined]

    assert "已交给微信通道发出" in eventually(reloaded, lambda text: "已交给微信通道发出" in text)
    page.click("button:has-text('重新发送报价给居民')")  # type: ignore[attr-defined]
    page.wait_for_selector("#quote-pending li:has-text('重新发送')")  # type: ignore[attr-defined]
    page.wait_for_selector("li[data-event=resend_quote]:has-text('报价合计 85.00 元')")  # type: ignore[attr-defined]
    both = eventually(lambda: quotes_received(env, openid), lambda got: len(got) == 2)
    assert both == [first[0], first[0]]  # the same quote, again
    page.screenshot(path=str(SHOTS / "console-quote.png"), full_page=True)  # type: ignore[attr-defined]

    answer = phone(env, openid, "text", "同意")
    assert "已确认" in answer["reply"], answer
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_selector("form[data-action=complete]", state="attached")  # type: ignore[attr-defined]
    assert page.locator("#quote-pending").count() == 0  # type: ignore[attr-defined]
    assert page.locator("li[data-event=confirm_quote]:has-text('居民在微信中确认报价')").count() == 1  # type: ignore[attr-defined]
    assert blocked(page) == []
    page.close()  # type: ignore[attr-defined]


def test_the_wechat_survey_sent_at_completion_reaches_the_resident_as_its_question_only(
    running_stack: dict[str, str], chromium: object
) -> None:
    env = running_stack
    openid = "oE2E-console-survey"
    staff_token(env, "console-surveyor", "supervisor")
    agent = {"Authorization": f"Bearer {staff_token(env, 'console-closer', 'agent')}"}
    phone(env, openid, "text", "你好")
    order = httpx.post(
        env["API_URL"] + "/api/v1/work-orders",
        json={
            "kind": "complaint",
            "category": "service",
            "source": "wechat",
            "description": "客服态度不好",
            "resident_openid": openid,
        },
        headers={"Authorization": f"Bearer {env['API_TOKEN']}"},
    ).json()
    for action in ("respond", "complete"):
        done = httpx.post(env["API_URL"] + f"/api/v1/work-orders/{order['id']}/actions/{action}", headers=agent)
        assert done.status_code == 200, done.text
    before = len(inbox(env, openid))

    page = console_page(chromium)
    log_in(page, env, "console-surveyor")
    page.goto(env["API_URL"] + "/console/callbacks")  # type: ignore[attr-defined]
    row = page.locator(f"tr:has(a:has-text('{order['number']}'))")  # type: ignore[attr-defined]
    assert "未到期" in row.inner_text()  # completed just now: offered at once, not on the due day
    row.locator("button:has-text('发微信问卷')").click()
    page.wait_for_selector(f"tr:has(a:has-text('{order['number']}')) >> text=/\\d{{2}}-\\d{{2}} \\d{{2}}:\\d{{2}}/")  # type: ignore[attr-defined]

    received = eventually(lambda: inbox(env, openid)[before:], lambda got: len(got) >= 1)
    texts = [m["text"] for m in received]
    assert len(texts) == 1 and order["number"] in texts[0] and "处理过程满意吗" in texts[0], texts
    assert not any("请回复" in t for t in texts)
    second = phone(env, openid, "text", "满意")
    assert second["reply"] == "您对处理结果满意吗？（满意/不满意）", second
    thanks = phone(env, openid, "text", "满意")
    assert "感谢您的评价" in thanks["reply"], thanks
    assert blocked(page) == []
    page.close()  # type: ignore[attr-defined]
