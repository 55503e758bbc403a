"""The desk as two agents and a supervisor work it, in a real browser (Debian's chromium): who else is on a
chat and typing, a colleague's take reaching every open page, the round robin's notification, and an
automated accessibility check (axe-core, vendored) of every console page."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import ROOT, staff_token
from tests.e2e.test_console_page import NOTIFICATIONS, blocked, console_page, log_in
from tests.e2e.test_walking_skeleton import phone

SHOTS = ROOT / "var" / "test-reports"
AXE = ROOT / "tests" / "e2e" / "vendor" / "axe-core" / "axe.min.js"


def handoff_of(env: dict[str, str], token: str, openid: str) -> int:
    staff = {"Authorization": f"Bearer {token}"}
    waiting = httpx.get(env["API_URL"] + "/api/v1/handoffs", params={"status": "waiting"}, headers=staff).json()
    return int(next(h["id"] for h in waiting["items"] if h["resident_openid"] == openid))


def two_agents_on_one_chat(
    env: dict[str, str], chromium: object, openid: str, problem: str, first: str, second: str
) -> tuple[int, object, object]:
    """A resident who said ``problem`` and asked for a person, and the chat open in two agents' browsers
    (``desk-<first>``, ``desk-<second>``): the chat's number and the two pages."""
    token = staff_token(env, f"desk-{first}", "agent")
    staff_token(env, f"desk-{second}", "agent")
    phone(env, openid, "text", problem)
    assert "人工" in phone(env, openid, "text", "转人工")["reply"]
    handoff_id = handoff_of(env, token, openid)
    pages = console_page(chromium), console_page(chromium)
    for page, name in zip(pages, (first, second), strict=True):
        log_in(page, env, f"desk-{name}")
        page.goto(f"{env['API_URL']}/console/chats/{handoff_id}")  # type: ignore[attr-defined]
    return handoff_id, *pages


def test_two_agents_on_one_chat_see_each_other_and_a_take_reaches_the_other_page(
    running_stack: dict[str, str], chromium: object
) -> None:
    _, li, zhao = two_agents_on_one_chat(
        running_stack, chromium, "oE2E-desk-presence", "暖气片一半热一半凉", "li", "zhao"
    )
    li.wait_for_selector("#presence:has-text('同时在看') >> text=desk-zhao", timeout=15_000)  # type: ignore[attr-defined]
    zhao.wait_for_selector("#presence >> text=desk-li", timeout=15_000)  # type: ignore[attr-defined]

    li.click("button:has-text('接管会话')")  # type: ignore[attr-defined]
    li.wait_for_selector("#reply:not([disabled])")  # type: ignore[attr-defined]
    # zhao's page, not reloaded, no longer offers the take and names who holds the chat
    zhao.wait_for_selector("text=接管人 desk-li", timeout=10_000)  # type: ignore[attr-defined]
    assert zhao.locator("button:has-text('接管会话')").count() == 0  # type: ignore[attr-defined]

    li.type("#reply", "您好，请问是哪个房间", delay=30)  # type: ignore[attr-defined]
    zhao.wait_for_selector("#presence .typing", timeout=10_000)  # type: ignore[attr-defined]
    zhao.screenshot(path=str(SHOTS / "console-presence.png"))  # type: ignore[attr-defined]
    # a note by zhao reaches li's panel, and li's draft survives the panel being fetched anew
    zhao.fill("textarea[name=text][placeholder='写一条备注']", "这户上周报过一次")  # type: ignore[attr-defined]
    zhao.click("button:has-text('添加备注')")  # type: ignore[attr-defined]
    li.wait_for_selector(".notes >> text=这户上周报过一次", timeout=10_000)  # type: ignore[attr-defined]
    assert li.input_value("#reply") == "您好，请问是哪个房间"  # type: ignore[attr-defined]
    assert blocked(li) == [] and blocked(zhao) == []
    li.close(), zhao.close()  # type: ignore[attr-defined]


def test_what_an_agent_types_while_the_panel_is_fetched_anew_is_kept(
    running_stack: dict[str, str], chromium: object
) -> None:
    """The panel's fetch after a colleague's note is held (the browser's request paused) while the agent
    goes on typing: every key typed before the new panel arrived is in its reply box."""
    handoff_id, feng, wei = two_agents_on_one_chat(
        running_stack, chromium, "oE2E-desk-draft", "暖气片上半截热下半截凉", "feng", "wei"
    )
    feng.click("button:has-text('接管会话')")  # type: ignore[attr-defined]
    feng.wait_for_selector("#reply:not([disabled])")  # type: ignore[attr-defined]
    wei.wait_for_selector("text=接管人 desk-feng", timeout=10_000)  # type: ignore[attr-defined]

    held: list[object] = []
    holding = [True]

    def hold(route: object) -> None:
        if holding[0]:
            held.append(route)
        else:
            route.continue_()  # type: ignore[attr-defined]

    feng.route(f"**/console/chats/{handoff_id}/panel", hold)  # type: ignore[attr-defined]
    feng.type("#reply", "您好", delay=30)  # type: ignore[attr-defined]
    wei.fill("textarea[name=text][placeholder='写一条备注']", "楼上也反映过")  # type: ignore[attr-defined]
    wei.click("button:has-text('添加备注')")  # type: ignore[attr-defined]
    for _ in range(100):  # until feng's page asks for its panel anew (its request is held here)
        if held:
            break
        feng.wait_for_timeout(100)  # type: ignore[attr-defined]
    assert held, "the note did not make the other page fetch its panel"
    feng.type("#reply", "，请问是哪个房间", delay=30)  # type: ignore[attr-defined]
    holding[0] = False
    for route in held:
        route.continue_()  # type: ignore[attr-defined]
    feng.wait_for_selector(".notes >> text=楼上也反映过", timeout=10_000)  # type: ignore[attr-defined]
    assert feng.input_value("#reply") == "您好，请问是哪个房间"  # type: ignore[attr-defined]
    assert feng.evaluate("() => document.activeElement && document.activeElement.id") == "reply"  # type: ignore[attr-defined]
    feng.close(), wei.close()  # type: ignore[attr-defined]


def test_the_round_robin_gives_a_new_chat_to_the_agent_on_the_desk_who_is_told(
    running_stack: dict[str, str], chromium: object
) -> None:
    env = running_stack
    staff_token(env, "desk-boss", "supervisor")
    token = staff_token(env, "desk-sun", "agent")
    boss = console_page(chromium)
    log_in(boss, env, "desk-boss")
    boss.check("input[name=auto_assign]")  # type: ignore[attr-defined]
    boss.fill("input[name=chat_limit]", "3")  # type: ignore[attr-defined]
    boss.click("#desk-settings button[type=submit]")  # type: ignore[attr-defined]
    boss.wait_for_selector("#desk-settings >> text=已保存")  # type: ignore[attr-defined]

    sun = console_page(chromium)
    sun.add_init_script(NOTIFICATIONS)  # type: ignore[attr-defined]
    log_in(sun, env, "desk-sun")
    sun.goto(env["API_URL"] + "/console/orders")  # type: ignore[attr-defined]
    sun.wait_for_selector("#alert-counts")  # type: ignore[attr-defined]
    boss.wait_for_selector("#inbox tr:has-text('desk-sun'):has-text('在线')", timeout=20_000)  # type: ignore[attr-defined]
    openid = "oE2E-desk-round-robin"
    phone(env, openid, "text", "家里暖气不热")
    assert "人工" in phone(env, openid, "text", "转人工")["reply"]
    sun.wait_for_function(  # type: ignore[attr-defined]
        "() => window.__notified.some(n => n.startsWith('有会话分配给您'))", timeout=10_000
    )
    handoff_id = handoff_of(env, token, openid)
    sun.goto(f"{env['API_URL']}/console/chats/{handoff_id}")  # type: ignore[attr-defined]
    assert "指派给 desk-sun" in sun.inner_text(".side")  # type: ignore[attr-defined]
    boss.wait_for_selector("#inbox tr:has-text('desk-sun'):has-text('1 / 3')", timeout=10_000)  # type: ignore[attr-defined]
    boss.screenshot(path=str(SHOTS / "console-desk-loads.png"), full_page=True)  # type: ignore[attr-defined]
    boss.uncheck("input[name=auto_assign]")  # type: ignore[attr-defined]
    boss.click("#desk-settings button[type=submit]")  # type: ignore[attr-defined]
    boss.wait_for_selector("#desk-settings >> text=已保存")  # type: ignore[attr-defined]
    assert blocked(boss) == [] and blocked(sun) == []
    boss.close(), sun.close()  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ accessibility (axe-core)

PAGES = (
    "chats",
    "orders",
    "review",
    "callbacks",
    "outages",
    "announcements",
    "fee-reminders",
    "undelivered",
    "campaigns",
    "import",
    "kpis",
    "sampling",
    "grid-workers",
    "replies",
    "models",
)


def serious_violations(page: object) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands (WCAG 2.1 A and AA rules)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    found = page.evaluate(  # type: ignore[attr-defined]
        """async () => {
          const rules = {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]};
          const result = await axe.run(document, {runOnly: rules});
          return result.violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}`);
        }"""
    )
    return list(found)


def test_no_console_page_has_a_serious_accessibility_violation(running_stack: dict[str, str], chromium: object) -> None:
    env = running_stack
    token = staff_token(env, "a11y-boss", "supervisor")
    openid = "oE2E-a11y"
    phone(env, openid, "text", "我家暖气漏水了，阳光小区3号楼2单元501，电话13800138000")
    assert "人工" in phone(env, openid, "text", "转人工")["reply"]
    handoff_id = handoff_of(env, token, openid)
    page = console_page(chromium)
    findings: dict[str, list[str]] = {}
    page.goto(env["API_URL"] + "/console/login")  # type: ignore[attr-defined]
    findings["login"] = serious_violations(page)
    log_in(page, env, "a11y-boss")
    for path in (*PAGES, f"chats/{handoff_id}"):
        page.goto(f"{env['API_URL']}/console/{path}")  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
        findings[path] = serious_violations(page)
    page.click("button:has-text('接管会话')")  # type: ignore[attr-defined]
    page.wait_for_selector("#reply:not([disabled])")  # type: ignore[attr-defined]
    page.click("summary:has-text('为居民登记工单')")  # type: ignore[attr-defined]
    findings["chat, taken, filing form open"] = serious_violations(page)
    order = httpx.post(
        env["API_URL"] + "/api/v1/work-orders",
        json={
            "kind": "repair",
            "category": "leak",
            "source": "phone",
            "description": "暖气片漏水",
            "phone": "13900002222",
            "address": "阳光小区3号楼2单元502",
        },
        headers={"Authorization": f"Bearer {env['API_TOKEN']}"},
    )
    assert order.status_code == 201, order.text
    page.goto(f"{env['API_URL']}/console/orders/{order.json()['id']}")  # type: ignore[attr-defined]
    findings["order"] = serious_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    for path in ("orders", f"chats/{handoff_id}"):
        page.goto(f"{env['API_URL']}/console/{path}")  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
        findings[f"{path} on a phone"] = serious_violations(page)
    failing = {path: found for path, found in findings.items() if found}
    assert failing == {}, "\n".join(f"{path}: {found}" for path, found in failing.items())
    page.close()  # type: ignore[attr-defined]


def test_an_agent_answers_with_the_slash_picker_own_replies_and_one_click_macros(
    running_stack: dict[str, str], chromium: object
) -> None:
    env = running_stack
    staff_token(env, "desk-lead", "supervisor")
    token = staff_token(env, "desk-qian", "agent")
    openid = "oE2E-desk-replies"
    phone(env, openid, "text", "我家暖气片不热")
    assert "人工" in phone(env, openid, "text", "转人工")["reply"]
    handoff_id = handoff_of(env, token, openid)
    order = httpx.post(
        env["API_URL"] + "/api/v1/work-orders",
        json={
            "kind": "repair",
            "category": "equipment",
            "source": "wechat",
            "description": "暖气片不热",
            "resident_openid": openid,
            "phone": "13900003333",
            "address": "阳光小区5号楼1单元101",
        },
        headers={"Authorization": f"Bearer {env['API_TOKEN']}"},
    ).json()

    lead = console_page(chromium)
    log_in(lead, env, "desk-lead")
    lead.goto(env["API_URL"] + "/console/replies")  # type: ignore[attr-defined]
    for title, action in (("稍等查询", "respond"), ("已派工", "dispatch")):
        row = lead.locator(f"#replies tr:has(td:text-is('{title}'))")  # type: ignore[attr-defined]
        row.locator("select[name=action]").select_option(action)
        row.locator("button:has-text('设置')").click()
        lead.wait_for_selector(  # type: ignore[attr-defined]
            f"#replies tr:has(td:text-is('{title}')) option[value={action}][selected]", state="attached"
        )

    qian = console_page(chromium)
    log_in(qian, env, "desk-qian")
    qian.goto(env["API_URL"] + "/console/replies")  # type: ignore[attr-defined]
    mine = qian.locator("#add-mine")  # type: ignore[attr-defined]
    mine.locator("input[name=title]").fill("进度")
    mine.locator("textarea[name=text]").fill("{居民称呼}您好，您的工单{单号}正在处理")
    mine.locator("button[type=submit]").click()
    qian.wait_for_selector("#replies td:text-is('进度')")  # type: ignore[attr-defined]
    qian.screenshot(path=str(SHOTS / "console-replies.png"), full_page=True)  # type: ignore[attr-defined]

    qian.goto(f"{env['API_URL']}/console/chats/{handoff_id}")  # type: ignore[attr-defined]
    qian.click("button:has-text('接管会话')")  # type: ignore[attr-defined]
    qian.wait_for_selector("#reply:not([disabled])")  # type: ignore[attr-defined]
    qian.click(f"li:has(a:text-is('{order['number']}')) button:has-text('关联')")  # type: ignore[attr-defined]
    qian.wait_for_selector("text=（本会话关联）")  # type: ignore[attr-defined]

    qian.click("#reply")  # type: ignore[attr-defined]
    qian.keyboard.type("/问室")  # type: ignore[attr-defined]
    qian.wait_for_selector("#reply-picker:not([hidden]) [aria-selected=true]:has-text('问室温')")  # type: ignore[attr-defined]
    qian.keyboard.press("Enter")  # type: ignore[attr-defined]
    assert qian.input_value("#reply").startswith("请关闭门窗30分钟以上")  # type: ignore[attr-defined]
    qian.fill("#reply", "")  # type: ignore[attr-defined]
    qian.keyboard.type("/进度")  # type: ignore[attr-defined]
    qian.wait_for_selector("#reply-picker [aria-selected=true]:has-text('我的 · 进度')")  # type: ignore[attr-defined]
    qian.keyboard.press("Enter")  # type: ignore[attr-defined]
    # the number is filled as the reply goes in; the resident's name when it is sent (never on the page)
    assert qian.input_value("#reply") == f"{{居民称呼}}您好，您的工单{order['number']}正在处理"  # type: ignore[attr-defined]
    qian.keyboard.press("Control+Enter")  # type: ignore[attr-defined]
    sent = f".msg.from-staff:has-text('居民您好，您的工单{order['number']}正在处理')"
    qian.wait_for_selector(sent, timeout=15_000)  # type: ignore[attr-defined]

    qian.click("form.macro button:has-text('稍等查询')")  # type: ignore[attr-defined]
    qian.wait_for_selector(".msg.from-staff:has-text('请稍等，我正在为您查询')", timeout=15_000)  # type: ignore[attr-defined]
    qian.fill("form.macro input[name=technician]", "周师傅")  # type: ignore[attr-defined]
    qian.click("form.macro button:has-text('已派工')")  # type: ignore[attr-defined]
    qian.wait_for_selector(".msg.from-staff:has-text('已为您派工')", timeout=15_000)  # type: ignore[attr-defined]
    qian.screenshot(path=str(SHOTS / "console-macros.png"))  # type: ignore[attr-defined]
    kept = httpx.get(
        f"{env['API_URL']}/api/v1/work-orders/{order['id']}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert kept["status"] == "dispatched" and kept["technician"] == "周师傅"
    assert blocked(lead) == [] and blocked(qian) == []
    lead.close(), qian.close()  # type: ignore[attr-defined]


def test_orders_are_dispatched_in_bulk_from_the_board(running_stack: dict[str, str], chromium: object) -> None:
    env = running_stack
    token = staff_token(env, "desk-bulk", "agent")
    staff = {"Authorization": f"Bearer {token}"}
    made = []
    for n in range(3):
        order = {
            "kind": "repair",
            "category": "equipment",
            "source": "phone",
            "description": f"阀门坏了{n}",
            "phone": "13900004444",
            "address": f"幸福家园{n + 1}号楼1单元101",
        }
        made.append(
            httpx.post(
                env["API_URL"] + "/api/v1/work-orders",
                json=order,
                headers={"Authorization": f"Bearer {env['API_TOKEN']}"},
            ).json()
        )
    for order in made[:2]:  # the third is not yet responded to: it cannot be dispatched
        assert (
            httpx.post(f"{env['API_URL']}/api/v1/work-orders/{order['id']}/actions/respond", headers=staff).status_code
            == 200
        )
    page = console_page(chromium)
    log_in(page, env, "desk-bulk")
    page.goto(env["API_URL"] + "/console/orders?q=幸福家园")  # type: ignore[attr-defined]
    for order in made:
        page.check(f"#board input[name=order_id][value='{order['id']}']")  # type: ignore[attr-defined]
    page.wait_for_selector("#bulk-count:has-text('已勾选 3 张')")  # type: ignore[attr-defined]
    page.fill("#bulk input[name=technician]", "赵师傅")  # type: ignore[attr-defined]
    page.click("#bulk button:has-text('批量派工')")  # type: ignore[attr-defined]
    banner = page.wait_for_selector("#board .banner")  # type: ignore[attr-defined]
    text = banner.inner_text()
    assert "已派给 赵师傅" in text and "（2 张）" in text and "未派工 1 张" in text and made[2]["number"] in text
    page.screenshot(path=str(SHOTS / "console-bulk.png"))  # type: ignore[attr-defined]
    states = [httpx.get(f"{env['API_URL']}/api/v1/work-orders/{o['id']}", headers=staff).json()["status"] for o in made]
    assert states == ["dispatched", "dispatched", "accepted"]
    assert blocked(page) == []
    page.close()  # type: ignore[attr-defined]
