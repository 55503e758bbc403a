"""The staff console: how fast a resident's message reaches the agent's open chat, and how fast the
order board answers.

Starts the product (API, action server, Rasa) on free ports. An agent holds a chat in Debian's
chromium (Playwright); the resident sends messages on the simulated phone, and each is timed from the
moment the platform's push is answered to the moment the message shows in the agent's page (server-
sent events, then the transcript fragment). As a baseline, the same messages are timed when the page
instead polls the transcript every 2 seconds (htmx ``every 2s``), the usual way without a push
channel. A resident asking for a person ("转人工") is timed to the browser notification of an agent on
another page (the order board), against the same page without its stream (the top bar's 15 s poll).
Then the board (``/console/orders``, the fragment htmx asks for) is timed with 1,000 and 10,000 open orders.

    .venv/api/bin/python scripts/bench_console.py [--messages 15] [--handoffs 12] [--write]   (``make bench``)
"""

from __future__ import annotations

import argparse
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

from scripts.benchdoc import write_section  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def staff(env: dict[str, str], name: str, role: str) -> str:
    password = f"{name} password"
    subprocess.run(
        [stack.API_VENV.bin("python"), "-m", "api.cli", "create-admin", name, "--role", role],
        cwd=ROOT,
        env={**env, "ADMIN_PASSWORD": password},
        check=True,
        capture_output=True,
    )
    return password


def push(env: dict[str, str], openid: str, text: str) -> None:
    answer = httpx.post(
        env["API_URL"] + "/simulator/api/push", json={"openid": openid, "kind": "text", "content": text}, timeout=60
    )
    answer.raise_for_status()


def chat_latencies(page: object, env: dict[str, str], openid: str, count: int, label: str) -> list[float]:
    found = []
    for n in range(count):
        text = f"{label}消息{n}"
        push(env, openid, text)
        started = time.perf_counter()
        page.wait_for_selector(f".msg.from-resident:has-text('{text}')", timeout=20_000)  # type: ignore[attr-defined]
        found.append(time.perf_counter() - started)
    return found


# Records the browser notifications a page shows (the console asks for permission; here it is granted).
NOTIFICATIONS = """
window.__notified = [];
window.Notification = function (title) { window.__notified.push(title); this.close = function () {}; };
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
"""


def handoff_latencies(page: object, env: dict[str, str], count: int, label: str, spread: float) -> list[float]:
    """From a new resident's "转人工" being pushed to the agent's notification "有会话等待接入". Each resident
    comes a random 0–``spread`` seconds after the last notification, so that a poll's phase is not always
    the same."""
    found = []
    pace = random.Random(7)
    for n in range(count):
        time.sleep(pace.uniform(0, spread))
        before = page.evaluate("window.__notified.length")  # type: ignore[attr-defined]
        started = time.perf_counter()
        push(env, f"oBENCH-{label}-{n}", "转人工")
        page.wait_for_function(  # type: ignore[attr-defined]
            f"() => window.__notified.slice({before}).some(t => t === '有会话等待接入')", timeout=30_000
        )
        found.append(time.perf_counter() - started)
    return found


def board_timings(env: dict[str, str], cookies: dict[str, str], orders: int, runs: int = 15) -> list[float]:
    times = []
    with httpx.Client(base_url=env["API_URL"], cookies=cookies, timeout=60) as client:
        for _ in range(runs):
            started = time.perf_counter()
            answer = client.get("/console/orders", headers={"HX-Request": "true"})
            answer.raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def seed_orders(env: dict[str, str], total: int) -> None:
    """Open orders straight through the service (the API would take minutes for 10,000)."""
    code = f"""
import os
from datetime import UTC, datetime, timedelta
from api.settings import Settings
from api.db import make_engine, make_session_factory
from api.operator_config import load_operator_config, resolve_path
from api.services import work_orders
from api.schemas import WorkOrderCreate
settings = Settings()
factory = make_session_factory(make_engine(settings.sqlalchemy_url))
config = load_operator_config(resolve_path(settings.operator_config))
now = datetime.now(UTC)
with factory() as session:
    have = session.query(work_orders.WorkOrder).count()
    for n in range(have, {total}):
        ctx = work_orders.Context(now=now, config=config, backdate_window=timedelta(minutes=15),
                                  supervisor_backdate_limit=timedelta(hours=72))
        data = WorkOrderCreate(kind="repair", category="equipment", source="wechat", description="阀门坏了",
                               address=f"阳光小区{{n % 30 + 1}}号楼1单元101", resident_openid=f"oSEED{{n}}")
        work_orders.create_work_order(session, data, ctx, commit=(n % 500 == 499))
    session.commit()
"""
    subprocess.run([stack.API_VENV.bin("python"), "-c", code], cwd=ROOT, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=15)
    parser.add_argument("--handoffs", type=int, default=12)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if not Path(stack.CHROMIUM).exists():
        print("bench_console: chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = stack.isolated_env(Path(tmp), {"SCHEDULER_ENABLED": "false"})
        supervisor = stack.Supervisor(stack.build_services(["api", "actions", "rasa"], env), env, log_dir=Path(tmp))
        supervisor.start(timeout=300)
        try:
            password = staff(env, "bench-agent", "agent")
            openid = "oBENCH-console"
            push(env, openid, "转人工")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=stack.CHROMIUM, args=list(stack.CHROMIUM_ARGS))
                page = browser.new_page()
                page.goto(env["API_URL"] + "/console/login")
                page.fill("input[name=username]", "bench-agent")
                page.fill("input[name=password]", password)
                page.click("button[type=submit]")
                page.wait_for_url("**/console/chats")
                page.click("a.button >> nth=0")
                page.click("button:has-text('接管会话')")
                page.wait_for_selector("#reply:not([disabled])")
                live = chat_latencies(page, env, openid, args.messages, "推送")
                # Baseline: the same chat in a page without server-sent events, polling every 2 s.
                polling = browser.new_context(storage_state=page.context.storage_state())
                polling.add_init_script("window.EventSource = undefined;")
                other = polling.new_page()
                other.goto(page.url)
                other.evaluate(
                    """() => {
                        const t = document.getElementById('transcript');
                        t.setAttribute('hx-trigger', 'every 2s');
                        htmx.process(t);
                    }"""
                )
                polled = chat_latencies(other, env, openid, args.messages, "轮询")
                # A resident asks for a person while the agent is on the order board.
                told = {}
                for how, streamed in (("stream", True), ("poll", False)):
                    watcher = browser.new_context(storage_state=page.context.storage_state())
                    no_stream = "" if streamed else "window.EventSource = undefined;"
                    watcher.add_init_script(NOTIFICATIONS + no_stream)
                    board = watcher.new_page()
                    board.goto(env["API_URL"] + "/console/orders")
                    board.wait_for_selector("#alert-counts")
                    count = args.handoffs if streamed else max(3, args.handoffs // 2)
                    told[how] = handoff_latencies(board, env, count, how, 2.0 if streamed else 15.0)
                    watcher.close()
                cookies = {c["name"]: c["value"] for c in page.context.cookies()}
                browser.close()
            boards = {}
            for total in (1_000, 10_000):
                seed_orders(env, total)
                boards[total] = board_timings(env, cookies, total)
        finally:
            supervisor.stop()

    def ms(values: list[float], share: float) -> str:
        return f"{percentile(values, share) * 1000:.0f}"

    body = "\n".join(
        [
            "## Staff console",
            "",
            f"Command: `make bench` (scripts/bench_console.py). Machine: {platform.machine()}, 2 cores, "
            f"Python {platform.python_version()}, Debian chromium driven by Playwright; "
            f"measured {time.strftime('%Y-%m-%d')}.",
            "",
            f"A resident's message reaching the agent's open chat ({args.messages} messages each, from the "
            "platform's push being answered to the message showing in the page):",
            "",
            "| how the page learns of it | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
            f"| server-sent events (the console) | {ms(live, 0.5)} | {ms(live, 0.95)} | {max(live) * 1000:.0f} |",
            f"| baseline: polling every 2 s | {ms(polled, 0.5)} | {ms(polled, 0.95)} | {max(polled) * 1000:.0f} |",
            "",
            "A resident's \"转人工\" reaching an agent who is on another page (the order board), from the resident's "
            "message being pushed (the bot answers it and hands the chat over) to the browser notification "
            '"有会话等待接入":',
            "",
            "| how the page learns of it | residents | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|",
            f"| the top bar's stream (the console) | {len(told['stream'])} | {ms(told['stream'], 0.5)} | "
            f"{ms(told['stream'], 0.95)} | {max(told['stream']) * 1000:.0f} |",
            f"| baseline: the top bar polled every 15 s | {len(told['poll'])} | {ms(told['poll'], 0.5)} | "
            f"{ms(told['poll'], 0.95)} | {max(told['poll']) * 1000:.0f} |",
            "",
            "The order board (`/console/orders` as htmx asks for it, the first 200 open orders with their deadlines, "
            "SQLite, 15 requests each):",
            "",
            "| open orders | p50 ms | p95 ms |",
            "|---:|---:|---:|",
            *[f"| {total:,} | {ms(v, 0.5)} | {ms(v, 0.95)} |" for total, v in boards.items()],
        ]
    )
    print(body)
    if args.write:
        write_section("console", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
