"""The simulator's chat page in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's package)")
        pytest.skip("no chromium here: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


def test_a_resident_chats_on_the_page(running_stack: dict[str, str], browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(running_stack["API_URL"] + "/simulator/")
    page.fill("#openid", "oE2E-browser-1")
    page.dispatch_event("#openid", "change")

    page.click("text=关注")
    page.wait_for_selector(".msg.bot .bubble:has-text('欢迎关注')", timeout=30_000)

    page.fill("#text", "多交的暖气费怎么退")
    page.press("#text", "Enter")
    answer = page.wait_for_selector(".msg.bot .bubble:has-text('10.4')", timeout=30_000)
    assert "6月30日" in answer.text_content()
    assert page.locator(".msg.bot .tag", has_text="被动回复").count() >= 2

    page.click("summary:has-text('政策收费')")
    page.click("button:has-text('收费标准')")
    page.wait_for_selector(".msg.bot .bubble:has-text('9.2.1')", timeout=30_000)

    shots = ROOT / "var" / "test-reports"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "simulator-page.png"), full_page=True)
    page.close()
