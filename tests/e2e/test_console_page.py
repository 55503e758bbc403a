"""The staff console in a real browser (Debian's chromium, driven by Playwright) against the real
processes: a resident asks for a person on the simulated phone; an agent logs in, takes the chat, reads
the transcript, replies (the message reaches the fake platform), sees the resident's answer arrive without
reloading, hands the chat back, and the bot answers the resident again; then the agent works an order."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import ROOT, inbox, staff_token
from tests.e2e.test_walking_skeleton import phone

SHOTS = ROOT / "var" / "test-reports"


def log_in(page: object, env: dict[str, str], username: str) -> None:
    page.goto(env["API_URL"] + "/console/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", f"{username} password")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/console/chats$"))  # type: ignore[attr-defined]


def test_an_agent_takes_over_a_chat_in_the_console(running_stack: dict[str, str], chromium: object) -> None:
    env = running_stack
    openid = "oE2E-console-chat"
    token = staff_token(env, "console-agent", "agent")
    phone(env, openid, "text", "我家暖气不热")
    assert "人工" in phone(env, openid, "text", "转人工")["reply"]
    waiting = httpx.get(
        env["API_URL"] + "/api/v1/handoffs",
        params={"status": "waiting"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    handoff_id = next(h["id"] for h in waiting["items"] if h["resident_openid"] == openid)

    page = chromium.new_page(viewport={"width": 1366, "height": 800})  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, env, "console-agent")
    page.wait_for_selector(f"a[href='/console/chats/{handoff_id}']")
    page.click(f"a[href='/console/chats/{handoff_id}']")
    page.wait_for_selector(".msg.from-resident:has-text('我家暖气不热')")
    assert page.locator("#reply").is_disabled()

    page.click("button:has-text('接管会话')")
    page.wait_for_selector("#reply:not([disabled])")
    page.fill("#reply", "您好，我是客服，请问室温现在多少度？")
    page.press("#reply", "Control+Enter")
    page.wait_for_selector(".msg.from-staff:has-text('请问室温') .d-sent", timeout=15_000)
    assert any(m["text"] == "您好，我是客服，请问室温现在多少度？" for m in inbox(env, openid))

    # The resident answers on the phone; the console shows it without a reload (server-sent events).
    page.evaluate("window.__same_page = true")
    phone(env, openid, "text", "十五度左右")
    page.wait_for_selector(".msg.from-resident:has-text('十五度左右')", timeout=5_000)
    assert page.evaluate("window.__same_page") is True
    page.screenshot(path=str(SHOTS / "console-chat.png"), full_page=True)

    page.click("button:has-text('交还机器人并结束')")
    page.wait_for_selector(".state-closed")
    answer = phone(env, openid, "text", "多交的暖气费怎么退")
    assert answer["status"] == "reply" and "10.4" in answer["reply"]
    page.close()


def test_an_agent_works_an_order_and_is_refused_a_return(running_stack: dict[str, str], chromium: object) -> None:
    env = running_stack
    staff_token(env, "console-agent-2", "agent")
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    order = httpx.post(
        env["API_URL"] + "/api/v1/work-orders",
        json={
            "kind": "complaint",
            "category": "room_temperature",
            "source": "city_hotline",
            "external_reference": "E2E-12345-1",
            "description": "室温不达标",
            "phone": "13900001111",
            "address": "阳光小区3号楼2单元501",
        },
        headers=machine,
    ).json()
    page = chromium.new_page(viewport={"width": 1366, "height": 800})  # type: ignore[attr-defined]
    log_in(page, env, "console-agent-2")
    page.click("nav a:has-text('工单')")
    page.wait_for_selector(f"a:has-text('{order['number']}')")
    page.click(f"a:has-text('{order['number']}')")
    countdown = page.locator(".countdown:has-text('响应')").first
    assert "剩" in countdown.inner_text() and "10.1.4" in countdown.inner_text()
    assert page.locator("summary:has-text('回退热线工单')").count() == 0

    page.fill("form[data-action=respond] textarea[name=note]", "已电话联系居民，约今天下午上门")
    page.click("form[data-action=respond] button[type=submit]")
    page.wait_for_selector("ol.history li:has-text('响应')")
    page.wait_for_selector("td:has-text('已完成')")
    assert "已响应" in page.inner_text("h2")

    # The page offers no return to an agent, and the server refuses one sent by hand.
    status = page.evaluate(
        """async (id) => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const r = await fetch(`/console/orders/${id}/actions/return`, {method: 'POST',
                headers: {'X-CSRF-Token': token, 'HX-Request': 'true'},
                body: new URLSearchParams({note: '不属于供热范围'})});
            return r.status;
        }""",
        order["id"],
    )
    assert status == 403
    events = httpx.get(env["API_URL"] + f"/api/v1/work-orders/{order['id']}/events", headers=machine).json()
    assert [e["action"] for e in events] == ["accept", "respond"]
    page.screenshot(path=str(SHOTS / "console-order.png"), full_page=True)
    page.close()


def test_the_console_lists_its_assets_locally(running_stack: dict[str, str]) -> None:
    """Every script and style the pages load is served by the backend itself (no internet needed)."""
    page = httpx.get(running_stack["API_URL"] + "/console/login").text
    for asset in ("/console/static/console.css",):
        assert asset in page
        assert httpx.get(running_stack["API_URL"] + asset).status_code == 200
    for vendored in ("htmx-2.0.11.min.js", "echarts-5.6.0.simple.min.js"):
        assert httpx.get(running_stack["API_URL"] + f"/console/static/vendor/{vendored}").status_code == 200
    assert "http://" not in page.replace(running_stack["API_URL"], "") and "https://" not in page
