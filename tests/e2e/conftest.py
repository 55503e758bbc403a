"""The three real processes, started by the same launcher as `make run`, on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

T = TypeVar("T")


def trained_candidate(base_model: str) -> Path:
    """Where tests/e2e/test_bot_models.py leaves the candidate it trained for real on the repository's
    build ``base_model`` (named by the build's inputs, so a candidate of another build is never taken),
    for the scaled layout's rollout (tests/e2e/fake_trainer.py hands it over instead of training again)."""
    return stack.VAR / "test-reports" / f"candidate-of-{Path(base_model).name}"


def eventually(fetch: Callable[[], T], done: Callable[[T], bool], seconds: float = 30) -> T:
    """``fetch()`` again every half second until ``done`` holds of its result or time runs out; the last
    result either way (the caller asserts on it)."""
    deadline = time.monotonic() + seconds
    result = fetch()
    while not done(result) and time.monotonic() < deadline:
        time.sleep(0.5)
        result = fetch()
    return result


def outage_now(
    communities: list[str], cause_code: str, repair_location: str, cause_note: str | None = None, area: int = 120000
) -> dict:
    """An outage as a supervisor reports it: begun an hour ago, expected to last 30 hours more."""
    now = datetime.now(UTC)
    report = {
        "communities": communities,
        "heated_area_m2": area,
        "started_at": (now - timedelta(hours=1)).isoformat(),
        "expected_restoration_at": (now + timedelta(hours=30)).isoformat(),
        "cause_code": cause_code,
        "repair_location": repair_location,
    }
    return report | ({"cause_note": cause_note} if cause_note else {})


def work_orders(env: dict[str, str], **filters: str) -> list[dict]:
    """The orders the backend lists for these filters (``resident_openid``, ``community`` ...)."""
    answer = httpx.get(
        env["API_URL"] + "/api/v1/work-orders", params=filters, headers={"Authorization": f"Bearer {env['API_TOKEN']}"}
    )
    return list(answer.json()["items"])


def orders_of(env: dict[str, str], openid: str) -> list[dict]:
    return work_orders(env, resident_openid=openid)


def channel_outbox(env: dict[str, str], openid: str, containing: str) -> list[dict]:
    """The messages the WeChat channel's outbox holds for ``openid`` whose text contains ``containing``."""
    answer = httpx.get(
        env["RASA_URL"] + "/webhooks/wechat/outbox",
        params={"openid": openid},
        headers={"Authorization": f"Bearer {env['RASA_AUTH_TOKEN']}"},
        timeout=60,  # a Rasa process loading a model answers once it is loaded
    )
    return [m for m in answer.json()["messages"] if containing in m["text"]]


def outbox_ids(env: dict[str, str], openid: str) -> set[int]:
    """The ids of the channel's outbox messages for ``openid`` so far."""
    return {int(m["id"]) for m in channel_outbox(env, openid, "")}


def tracker(env: dict[str, str], openid: str) -> dict:
    """The resident's conversation with every event, as Rasa's HTTP API gives it."""
    answer = httpx.get(
        f"{env['RASA_URL']}/conversations/{openid}/tracker",
        params={"token": env["RASA_AUTH_TOKEN"], "include_events": "ALL"},
    )
    return dict(answer.json())


def tracker_events(env: dict[str, str], openid: str) -> list[dict]:
    """Every event of the resident's conversation."""
    return list(tracker(env, openid).get("events") or [])


def finished_turn(env: dict[str, str], openid: str, message_id: str) -> list[str] | None:
    """What the bot said to the resident's message ``message_id``, once the conversation holds that turn
    finished (the bot listens again after it, or the conversation is paused: a person has the chat and
    the bot says nothing); None before."""
    conversation = tracker(env, openid)
    texts: list[str] | None = None
    done = bool(conversation.get("paused"))
    for event in conversation.get("events") or []:
        if event.get("event") == "user":
            if texts is not None:
                return texts
            if event.get("message_id") == message_id:
                texts = []
        elif texts is not None and event.get("event") == "bot" and event.get("text"):
            texts.append(event["text"])
        elif texts is not None and event.get("event") == "action" and event.get("name") == "action_listen":
            done = True
    return texts if texts is not None and done else None


def pushed_answer(env: dict[str, str], openid: str, message_id: str, before: set[int], seconds: float = 90) -> str:
    """The bot's answer to a message it did not answer within the platform's 5 seconds: it is pushed
    through the channel's outbox instead. Read once the conversation holds the finished turn and the
    outbox every message of it (the product may push wherever a turn is slow; tests accept either way)."""
    said = eventually(lambda: finished_turn(env, openid, message_id), lambda texts: texts is not None, seconds)
    assert said is not None, f"the bot never finished the turn of {message_id}"
    rows = eventually(
        lambda: [m for m in channel_outbox(env, openid, "") if int(m["id"]) not in before],
        lambda rows: len(rows) >= len(said),
        seconds,
    )
    return "\n\n".join(m["text"] for m in sorted(rows, key=lambda m: int(m["id"])))


def inbox(env: dict[str, str], openid: str) -> list[dict]:
    """What the simulator's phone has received from the platform for ``openid``."""
    return list(httpx.get(env["API_URL"] + "/simulator/api/inbox", params={"openid": openid}).json()["messages"])


def staff_token(env: dict[str, str], username: str, role: str, display_name: str | None = None) -> str:
    """A staff account made the way an operator makes one (`make admin`: the machine token may not),
    logged in; returns its session token."""
    password = f"{username} password"
    named = ["--display-name", display_name] if display_name else []
    made = subprocess.run(
        [stack.API_VENV.bin("python"), "-m", "api.cli", "create-admin", username, "--role", role, *named],
        cwd=ROOT,
        env={**env, "ADMIN_PASSWORD": password},
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    login = httpx.post(env["API_URL"] + "/api/v1/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    return str(login.json()["token"])


def start_product(env: dict[str, str], logs: str) -> stack.Supervisor:
    """`make run`'s three processes on ``env``, healthy; their logs in var/test-reports/<logs>/ (emptied
    first), for reading after a failure."""
    log_dir = stack.VAR / "test-reports" / logs
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    supervisor = stack.Supervisor(stack.build_services(["api", "actions", "rasa"], env), env, log_dir=log_dir)
    supervisor.start(timeout=300)
    return supervisor


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """API, action server and Rasa with their own SQLite database; yields their environment."""
    env = stack.isolated_env(
        tmp_path_factory.mktemp("e2e"),
        {
            "API_TOKEN": "e2e-api-token",
            "RASA_AUTH_TOKEN": "e2e-rasa-token",
            "WECHAT_TOKEN": "e2e-wechat-token",
            # compatible mode: the raw pushes below are plaintext, the simulator's phone encrypts
            "WECHAT_MODE": "compatible",
            "WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "WECHAT_APP_ID": "wx2c2769f8efd9abc2",
            "SCHEDULER_INTERVAL_SECONDS": "1",
        },
    )
    supervisor = start_product(env, "e2e-logs")
    env["E2E_SUPERVISOR_TOKEN"] = staff_token(env, "e2e-supervisor", "supervisor")
    rasa = next(s for s in supervisor.services if s.name == "rasa")
    assert rasa.proc is not None
    env["E2E_RASA_PID"] = str(rasa.proc.pid)
    try:
        yield env
    finally:
        supervisor.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's chromium driven by Playwright (Playwright's own browser download does not work here)."""
    if not Path(stack.CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's package)")
        pytest.skip("no chromium here: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=stack.CHROMIUM, args=list(stack.CHROMIUM_ARGS))
        yield browser
        browser.close()
