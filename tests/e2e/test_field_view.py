"""我的工单 on a 390×844 phone, in a real browser (Debian's chromium, driven by Playwright) against the
real processes: the desk dispatches a repair to a technician's account; the technician logs in on the
phone, sees the order with its arrival deadline, records arrival, quotes the paid repair (the resident
confirms it on the simulated WeChat phone, 10.2.2) and completes it with the visit's record (10.2.5)."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import ROOT, eventually, inbox, staff_token
from tests.e2e.test_console_page import FITS, WATCH_POLICY, blocked
from tests.e2e.test_walking_skeleton import phone

SCREENSHOT = ROOT / "docs" / "images" / "console-technician-390.png"


def test_a_technician_works_a_repair_on_the_phone(running_stack: dict[str, str], chromium: object) -> None:
    env = running_stack
    openid = "oE2E-field"
    phone(env, openid, "text", "你好")  # the resident has written: the 48-hour window is open
    technician = staff_token(env, "e2e-lishifu", "technician", display_name="李师傅")
    desk = {"Authorization": f"Bearer {staff_token(env, 'e2e-field-desk', 'agent')}"}
    me = httpx.get(env["API_URL"] + "/api/v1/auth/me", headers={"Authorization": f"Bearer {technician}"}).json()
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    repair = {
        "kind": "repair",
        "category": "equipment",
        "source": "wechat",
        "description": "卫生间暖气片阀门拧不动，电话13900002222",
        "resident_openid": openid,
        "phone": "13900002222",
        "address": "海景花园5号楼1单元302",
    }
    order = httpx.post(env["API_URL"] + "/api/v1/work-orders", json=repair, headers=machine).json()
    url = env["API_URL"] + f"/api/v1/work-orders/{order['id']}"
    assert httpx.post(f"{url}/actions/respond", headers=desk).status_code == 200
    sent = httpx.post(f"{url}/actions/dispatch", json={"technician_id": me["id"]}, headers=desk)
    assert sent.status_code == 200 and sent.json()["technician"] == "李师傅"

    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.add_init_script(WATCH_POLICY)
    page.goto(env["API_URL"] + "/console/login")
    page.fill("input[name=username]", "e2e-lishifu")
    page.fill("input[name=password]", "e2e-lishifu password")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/field$"))
    card = page.locator(f"article[data-number='{order['number']}']")
    assert "海景花园5号楼****" in card.inner_text() and "139****2222" in card.inner_text()
    assert "13900002222" not in page.content()  # masked as staff see it (12.1), the description too
    assert "到场" in card.locator(".next .countdown").inner_text()  # the arrival deadline counts down (10.2.4)
    assert page.evaluate(FITS), "the technician's view scrolls sideways on a phone"
    arrive = card.locator("button:has-text('到场')").bounding_box()
    assert arrive is not None and arrive["height"] >= 48 and arrive["width"] >= 300  # a large target

    card.locator("button:has-text('到场')").click()
    page.wait_for_selector(f"article[data-number='{order['number']}'] .state:has-text('已到场')")
    card = page.locator(f"article[data-number='{order['number']}']")
    card.locator("summary:has-text('报价')").click()
    card.locator("input[name=item_1]").fill("更换暖气片阀门")
    card.locator("input[name=material_1]").fill("铜阀DN20")
    card.locator("input[name=price_1]").fill("85")
    card.locator("input[name=item_2]").fill("人工费")
    card.locator("input[name=price_2]").fill("30")
    card.locator("button:has-text('提交报价')").click()
    page.wait_for_selector(f"article[data-number='{order['number']}'] .quote:has-text('待居民确认')")
    assert "115.00 元" in page.locator(f"article[data-number='{order['number']}'] .quote").inner_text()
    assert page.locator(f"article[data-number='{order['number']}'] summary:has-text('完工')").count() == 0

    # The resident confirms on the phone, as for a quote made at the desk (10.2.2).
    shown = eventually(lambda: [m for m in inbox(env, openid) if "【维修报价】" in m["text"]], bool)
    assert shown and "合计 115.00 元" in shown[0]["text"]
    assert "已确认工单" in phone(env, openid, "text", "1")["reply"]

    page.reload()
    card = page.locator(f"article[data-number='{order['number']}']")
    assert "居民已确认" in card.inner_text()
    card.locator("summary:has-text('完工')").click()
    card.locator("textarea[name=result]").fill("更换阀门，试压无渗漏，已清理现场")
    card.locator("label:has-text('满意') input[value=satisfied]").check()
    page.screenshot(path=str(SCREENSHOT))
    card.locator("button:has-text('提交完工记录')").click()
    page.wait_for_selector(f"article[data-number='{order['number']}'].done")
    done = page.locator(f"article[data-number='{order['number']}']").inner_text()
    assert "已完成" in done and "居民评价：满意" in done

    finished = httpx.get(url, headers=desk).json()
    assert finished["status"] == "completed" and finished["site_satisfaction"] == "satisfied"
    assert finished["technician"] == "李师傅" and finished["callback_due_at"] is not None
    events = httpx.get(f"{url}/events", headers=desk).json()
    assert [e["action"] for e in events if e["actor"] == "staff:e2e-lishifu"] == ["arrive", "quote", "complete"]
    assert blocked(page) == []
    context.close()
