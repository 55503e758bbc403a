"""The staff console in a real browser (Debian's chromium, driven by Playwright) against the real
processes: a resident asks for a person on the simulated phone; an agent logs in, takes the chat, reads
the transcript, replies (the message reaches the fake platform), sees the resident's answer arrive without
reloading, hands the chat back, and the bot answers the resident again; then the agent works an order."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import ROOT, eventually, inbox, staff_token
from tests.e2e.test_walking_skeleton import phone

SHOTS = ROOT / "var" / "test-reports"

# Every page of these tests records what its Content-Security-Policy blocked (N18): nothing may be.
WATCH_POLICY = """
window.__blocked = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const what = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 200) : "";
  const where = `${location.pathname} ${e.sourceFile}:${e.lineNumber}`;
  window.__blocked.push(`${e.violatedDirective} ${e.blockedURI} ${where} ${what}`);
});
"""


def console_page(chromium: object) -> object:
    """A new page that records the console's policy violations (``blocked(page)``)."""
    page = chromium.new_page(viewport={"width": 1366, "height": 800})  # type: ignore[attr-defined]
    page.add_init_script(WATCH_POLICY)
    return page


def blocked(page: object) -> list[str]:
    return list(page.evaluate("window.__blocked || []"))  # type: ignore[attr-defined]


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

    page = console_page(chromium)
    page.on("dialog", lambda dialog: dialog.accept())  # type: ignore[attr-defined]
    log_in(page, env, "console-agent")
    page.wait_for_selector(f"a[href='/console/chats/{handoff_id}']")
    page.click(f"a[href='/console/chats/{handoff_id}']")
    page.wait_for_selector(".msg.from-resident:has-text('我家暖气不热')")
    assert page.locator("#reply").is_disabled()

    page.click("button:has-text('接管会话')")
    page.wait_for_selector("#reply:not([disabled])")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'reply'", timeout=5_000)
    page.fill("#reply", "您好，我是客服，请问室温现在多少度？")
    page.press("#reply", "Control+Enter")
    page.wait_for_selector(".msg.from-staff:has-text('请问室温') .d-sent", timeout=15_000)
    assert any(m["text"] == "您好，我是客服，请问室温现在多少度？" for m in inbox(env, openid))

    # The resident answers on the phone; the console shows it without a reload (server-sent events).
    page.evaluate("window.__same_page = true")
    phone(env, openid, "text", "十五度左右")
    page.wait_for_selector(".msg.from-resident:has-text('十五度左右')", timeout=5_000)
    assert page.evaluate("window.__same_page") is True
    # A photo: the channel fetched it from the platform's media API when it arrived; the chat shows it.
    phone(env, openid, "image", "http://mmbiz.qpic.cn/e2e-photo.jpg")
    photo = page.wait_for_selector(".msg.from-resident img.thumb", timeout=5_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo, timeout=10_000)
    page.screenshot(path=str(SHOTS / "console-chat.png"), full_page=True)

    page.click("button:has-text('交还机器人并结束')")
    page.wait_for_selector(".state-closed")
    answer = phone(env, openid, "text", "多交的暖气费怎么退")
    assert answer["status"] == "reply" and "10.3 第4条" in answer["reply"]
    assert blocked(page) == []
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
    page = console_page(chromium)
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
    assert blocked(page) == []
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


def test_a_hotline_file_with_a_bad_row_saves_nothing_until_fixed(
    running_stack: dict[str, str], chromium: object
) -> None:
    env = running_stack
    staff_token(env, "console-importer", "agent")
    header = "来源,原始受理时间,平台工单号,诉求内容,居民姓名,联系电话,地址\n"
    good = "12345,2026-11-25 08:15,E2E-IMP-1,室温只有15度,张三,13800138000,阳光小区3号楼2单元501\n"
    bad = "12345,2026-11-25 09:00,E2E-IMP-2,没有暖气,王五,12345,幸福家园7号楼3单元302\n"
    page = console_page(chromium)
    log_in(page, env, "console-importer")
    page.click("nav a:has-text('热线导入')")

    def preview(content: str) -> None:
        page.set_input_files(
            "input[name=file]", files=[{"name": "hotline.csv", "mimeType": "text/csv", "buffer": content.encode()}]
        )
        page.click("button:has-text('预览')")
        page.wait_for_selector("table.import-preview")

    preview(header + good + bad)
    page.wait_for_selector("tr[data-line='3'] .error:has-text('联系电话')")
    assert page.locator("button:has-text('确认导入')").count() == 0
    supervisor = {"Authorization": f"Bearer {env['E2E_SUPERVISOR_TOKEN']}"}
    listed = httpx.get(env["API_URL"] + "/api/v1/work-orders", params={"source": "city_hotline"}, headers=supervisor)
    assert not any(o["external_reference"].startswith("E2E-IMP") for o in listed.json()["items"])

    preview(header + good + bad.replace(",12345,幸福", ",13700137000,幸福"))
    page.click("button:has-text('确认导入 2 张新工单')")
    page.wait_for_selector(".banner.ok:has-text('已导入 2 张新工单')")
    page.screenshot(path=str(SHOTS / "console-import.png"), full_page=True)
    preview(header + good)
    page.wait_for_selector("text=没有新工单需要导入")
    listed = httpx.get(env["API_URL"] + "/api/v1/work-orders", params={"source": "city_hotline"}, headers=supervisor)
    imported = [
        o["external_reference"] for o in listed.json()["items"] if o["external_reference"].startswith("E2E-IMP")
    ]
    assert sorted(imported) == ["E2E-IMP-1", "E2E-IMP-2"]
    assert blocked(page) == []
    page.close()


def test_every_console_page_works_under_its_content_security_policy(
    running_stack: dict[str, str], chromium: object
) -> None:
    """Each page a supervisor opens, the KPI charts drawn, a banner closed and a form emptied after
    saving (what the pages once did inline): the policy blocks nothing."""
    env = running_stack
    staff_token(env, "console-boss", "supervisor")
    page = console_page(chromium)
    page.on("dialog", lambda dialog: dialog.accept())  # type: ignore[attr-defined]
    log_in(page, env, "console-boss")
    for path in ("chats", "orders", "review", "callbacks", "outages", "import", "sampling", "grid-workers", "replies"):
        page.goto(env["API_URL"] + f"/console/{path}")  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.goto(env["API_URL"] + "/console/kpis")  # type: ignore[attr-defined]
    page.wait_for_selector("#kpi-charts .chart canvas")  # type: ignore[attr-defined]

    page.goto(env["API_URL"] + "/console/replies")  # type: ignore[attr-defined]
    page.fill("#add-shared[data-reset-on-success] input[name=title]", "稍等")  # type: ignore[attr-defined]
    page.fill("#add-shared[data-reset-on-success] textarea[name=text]", "请稍等，正在为您查询。")  # type: ignore[attr-defined]
    page.click("#add-shared[data-reset-on-success] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#replies td:has-text('稍等')")  # type: ignore[attr-defined]
    page.wait_for_function("() => !document.querySelector('#add-shared input[name=title]').value")  # type: ignore[attr-defined]
    page.fill("#add-shared[data-reset-on-success] input[name=title]", "稍等")  # type: ignore[attr-defined]
    page.fill("#add-shared[data-reset-on-success] textarea[name=text]", "again")  # type: ignore[attr-defined]
    page.click("#add-shared[data-reset-on-success] button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#flash .banner.bad")  # type: ignore[attr-defined]  # the title is taken: 409
    page.click("#flash .banner.bad [data-dismiss]")  # type: ignore[attr-defined]
    page.wait_for_selector("#flash .banner.bad", state="detached")  # type: ignore[attr-defined]
    assert blocked(page) == []
    page.close()  # type: ignore[attr-defined]


def test_the_console_cannot_be_framed_nor_run_an_injected_script(
    running_stack: dict[str, str], chromium: object
) -> None:
    env = running_stack
    staff_token(env, "console-framed", "agent")
    page = console_page(chromium)
    # Another site frames the console's login (clickjacking): the browser refuses to show it.
    framer = "http://framer.test/"
    page.route(
        framer,
        lambda route: route.fulfill(
            content_type="text/html", body=f'<iframe src="{env["API_URL"]}/console/login"></iframe>'
        ),
    )  # type: ignore[attr-defined]
    page.goto(framer)  # type: ignore[attr-defined]
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    frame = page.frames[1]  # type: ignore[attr-defined]
    assert frame.url.startswith("chrome-error:"), frame.url
    assert page.frame_locator("iframe").locator("input[name=username]").count() == 0  # type: ignore[attr-defined]

    # A script smuggled into a console page (as stored XSS would be) does not run.
    def smuggle(route: object) -> None:
        original = route.fetch()  # type: ignore[attr-defined]
        body = original.text().replace(
            "</main>",
            '<script>window.__ran = "script"</script><img src="/x" onerror="window.__ran = \'handler\'"></main>',
        )
        route.fulfill(response=original, body=body)  # type: ignore[attr-defined]

    log_in(page, env, "console-framed")
    page.route(re.compile(r".*/console/chats$"), smuggle)  # type: ignore[attr-defined]
    page.goto(env["API_URL"] + "/console/chats")  # type: ignore[attr-defined]
    page.wait_for_selector("#inbox")  # type: ignore[attr-defined]
    page.wait_for_function("() => window.__blocked.length >= 2")  # type: ignore[attr-defined]
    assert page.evaluate("window.__ran") is None  # type: ignore[attr-defined]
    assert {b.split()[0] for b in blocked(page)} >= {"script-src-elem", "script-src-attr"}
    page.close()  # type: ignore[attr-defined]


def test_chat_pages_over_the_cap_and_after_logout_say_their_updates_stopped(
    running_stack: dict[str, str], chromium: object
) -> None:
    """Each member of staff holds at most CONSOLE_STREAMS_PER_STAFF (5) live chat pages: of six, exactly
    one is refused and says so; logging out ends the others' streams, and each page says why."""
    env = running_stack
    staff_token(env, "console-tabs", "agent")
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    made = httpx.post(
        env["API_URL"] + "/api/v1/handoffs",
        json={"resident_openid": "oE2E-console-tabs", "reason": "requested"},
        headers=machine,
    )
    handoff_id = made.json()["id"]
    context = chromium.new_context(viewport={"width": 1366, "height": 800})  # type: ignore[attr-defined]
    context.add_init_script(WATCH_POLICY)
    pages = [context.new_page() for _ in range(6)]
    log_in(pages[0], env, "console-tabs")
    for page in pages:
        page.goto(env["API_URL"] + f"/console/chats/{handoff_id}")
    refused = "#flash .banner.bad:has-text('实时更新已停止')"
    eventually(lambda: [p.locator(refused).count() for p in pages], lambda shown: sum(shown) == 1, 15)
    assert sum(p.locator(refused).count() for p in pages) == 1

    bystander = next(p for p in pages if p.locator(refused).count() == 0)
    leaving = next(p for p in pages if p is not bystander and p.locator(refused).count() == 0)
    leaving.click("button:has-text('退出')")
    leaving.wait_for_url(re.compile(r".*/console/login$"))
    bystander.wait_for_selector("#flash .banner.bad:has-text('登录已失效')", timeout=10_000)
    assert all(blocked(p) == [] for p in pages if p is not leaving)
    context.close()


# Records the browser notifications a page shows, as if the agent had allowed them.
NOTIFICATIONS = """
window.__notified = [];
window.Notification = function (title, options) {
  window.__notified.push(title + "：" + ((options && options.body) || ""));
  this.close = function () {};
};
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
"""


def test_new_work_finds_an_agent_who_is_on_another_page(running_stack: dict[str, str], chromium: object) -> None:
    """The agent is on the order board: a resident asking for a person is notified at once (the page's
    stream, not a poll), the title counts the waiting chat; once the agent holds it, the resident's next
    message is notified too."""
    env = running_stack
    openid = "oE2E-console-notify"
    token = staff_token(env, "console-notified", "agent")
    page = console_page(chromium)
    page.add_init_script(NOTIFICATIONS)  # type: ignore[attr-defined]
    log_in(page, env, "console-notified")
    page.goto(env["API_URL"] + "/console/orders")  # type: ignore[attr-defined]
    page.wait_for_selector("#alert-counts")  # type: ignore[attr-defined]
    phone(env, openid, "text", "我家暖气不热")
    assert "人工" in phone(env, openid, "text", "转人工")["reply"]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => window.__notified.some(n => n.startsWith('有会话等待接入'))", timeout=10_000
    )
    assert "个会话待接入" in page.title()  # type: ignore[attr-defined]
    staff = {"Authorization": f"Bearer {token}"}
    waiting = httpx.get(env["API_URL"] + "/api/v1/handoffs", params={"status": "waiting"}, headers=staff).json()
    handoff_id = next(h["id"] for h in waiting["items"] if h["resident_openid"] == openid)
    taken = httpx.post(f"{env['API_URL']}/api/v1/handoffs/{handoff_id}/take", headers=staff)
    assert taken.status_code == 200, taken.text
    phone(env, openid, "text", "师傅什么时候来")
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => window.__notified.some(n => n.startsWith('居民发来新消息'))", timeout=10_000
    )
    assert blocked(page) == []
    page.close()  # type: ignore[attr-defined]


FITS = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"


def test_the_desk_fits_a_laptop_a_phone_and_200_percent_zoom(running_stack: dict[str, str], chromium: object) -> None:
    """At 1366×768, at 200 % zoom (683 CSS pixels across) and on a 390×844 phone, no page scrolls
    sideways; on the phone the board is one card per order and the chat's reply box is on the first
    screen after the agent takes the chat."""
    env = running_stack
    token = staff_token(env, "console-sizes", "agent")
    openid = "oE2E-console-sizes"
    phone(env, openid, "text", "我家暖气漏水了，阳光小区3号楼2单元501，电话13800138000")
    assert "人工" in phone(env, openid, "text", "转人工")["reply"]
    staff = {"Authorization": f"Bearer {token}"}
    waiting = httpx.get(env["API_URL"] + "/api/v1/handoffs", params={"status": "waiting"}, headers=staff).json()
    handoff_id = next(h["id"] for h in waiting["items"] if h["resident_openid"] == openid)
    for width, height, scale in ((1366, 768, 1), (683, 384, 2), (390, 844, 3)):
        context = chromium.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": height}, device_scale_factor=scale
        )
        page = context.new_page()
        log_in(page, env, "console-sizes")
        for path in ("/console/chats", "/console/orders", f"/console/chats/{handoff_id}", "/console/callbacks"):
            page.goto(env["API_URL"] + path)
            page.wait_for_selector("#alert-counts")
            assert page.evaluate(FITS), f"{path} scrolls sideways at {width}×{height}"
            page.screenshot(path=str(SHOTS / f"console-{path.strip('/').replace('/', '-')}-{width}.png"))
        if width == 390:
            page.goto(env["API_URL"] + "/console/orders")
            assert page.locator("table.orders-board thead").is_hidden()
            page.goto(env["API_URL"] + f"/console/chats/{handoff_id}")
            if page.locator("button:has-text('接管会话')").count():
                page.click("button:has-text('接管会话')")
            page.wait_for_selector("#reply:not([disabled])")
            box = page.locator("#reply").bounding_box()
            assert box is not None and box["y"] + box["height"] <= height, box
        context.close()
