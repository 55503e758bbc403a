"""The simulator's chat page in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_resident_chats_on_the_page(running_stack: dict[str, str], chromium: object) -> None:
    page = chromium.new_page()  # type: ignore[attr-defined]
    page.goto(running_stack["API_URL"] + "/simulator/")
    page.fill("#openid", "oE2E-browser-1")
    page.dispatch_event("#openid", "change")

    page.click("text=关注")
    page.wait_for_selector(".msg.bot .bubble:has-text('欢迎关注')", timeout=30_000)

    page.fill("#text", "多交的暖气费怎么退")
    page.press("#text", "Enter")
    answer = page.wait_for_selector(".msg.bot .bubble:has-text('10.3 第4条')", timeout=30_000)
    assert "6月30日" in answer.text_content()
    assert page.locator(".msg.bot .tag", has_text="被动回复").count() >= 2

    page.click("summary:has-text('政策收费')")
    page.click("button:has-text('收费标准')")
    page.wait_for_selector(".msg.bot .bubble:has-text('9.2.1')", timeout=30_000)

    shots = ROOT / "var" / "test-reports"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "simulator-page.png"), full_page=True)
    page.close()
