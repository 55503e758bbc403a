"""A rolling restart of the scaled layout under load (scripts/stack/rolling.py): residents write the whole
time while every backend, action server and Rasa server is drained, stopped, started again and given
traffic back, one at a time; then a new model is rolled out while they write on. Every message gets its
answer, no turn runs twice and every repair is filed once (0 lost, 0 duplicated).

The WeChat platform (the simulator) runs in a process of its own here, outside the layout: restarting
the backend that hosts it in `make run-scaled` would be restarting WeChat itself."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import eventually, stack, staff_token, tracker_events, trained_candidate
from tests.e2e.test_bot_models import KNOCKING
from tests.e2e.test_scaled import _needed

ORDER_NUMBER = re.compile(r"GD\d{14}")
TOKEN = "e2e-rolling-wechat-token"
PUSH = (
    "<xml><ToUserName><![CDATA[gh_rolling]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
    "<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content>"
    "<MsgId>{msg_id}</MsgId></xml>"
)
QUESTIONS = ["暖气费一平方多少钱", "今年什么时候开始供暖", "家里要多少度才算合格", "办理停热需要带什么材料"]


@dataclass
class Layout:
    env: dict[str, str]
    supervisor: stack.Supervisor
    platform: str  # the simulator's address (its inbox)


def platform_service(env: dict[str, str], work: Path) -> stack.Service:
    """A backend process that only plays the platform (no scheduler; its own empty database)."""
    port = stack.free_port()
    url = f"http://127.0.0.1:{port}"
    database = f"sqlite:///{work / 'platform.sqlite3'}"
    stack.run([stack.API_VENV.bin("python"), "-m", "alembic", "-c", "api/alembic.ini", "upgrade", "head"],
              env={**env, "DATABASE_URL": database})  # fmt: skip
    command = [stack.API_VENV.bin("uvicorn"), "--factory", "api.main:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log"]  # fmt: skip
    service = stack.Service("platform", command, url, "/health/live")
    service.env = {
        "DATABASE_URL": database,
        "SCHEDULER_ENABLED": "false",
        "SIMULATOR_ENABLED": "true",
        "MODEL_TRAINER_ENABLED": "false",
    }
    return service


@pytest.fixture(scope="module")
def layout() -> Iterator[Layout]:
    _needed("HAProxy", bool(shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()))
    work = Path(tempfile.mkdtemp(prefix="heating-e2e-rolling-"))
    env = stack.isolated_scaled_env(
        "heating_rolling",
        {
            "WECHAT_TOKEN": TOKEN,
            "API_TOKEN": "e2e-rolling-api-token",
            "RASA_AUTH_TOKEN": "e2e-rolling-rasa-token",
            "REDIS_URL": "redis://127.0.0.1:6379/7",
            "RASA_LOCK_REDIS_DB": "6",
            "RASA_MODEL_PULL_SECONDS": "2",
            "MODEL_TRAINER_ENABLED": "true",
            "BOT_PYTHON": str(Path(__file__).with_name("fake_trainer.py")),
            "BOT_MODELS_DIR": str(work / "models"),
        },
    )
    for db in ("6", "7"):
        stack.run(["redis-cli", "-n", db, "flushdb"], check=False)
    env["E2E_TRAINED_CANDIDATE"] = str(trained_candidate(env["BOT_BASE_MODEL"]))
    platform = platform_service(env, work)
    env["WECHAT_API_BASE_URL"] = platform.url + "/simulator/platform"
    env["SIMULATOR_ENABLED"] = "false"  # the layout's backends do not play the platform
    log_dir = stack.VAR / "test-reports" / "e2e-rolling-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    supervisor = stack.Supervisor([platform, *stack.scaled_services(env)], env, log_dir=log_dir)
    supervisor.start(timeout=400)
    try:
        yield Layout(env, supervisor, platform.url)
    finally:
        supervisor.stop()
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Sent:
    openid: str
    msg_id: str
    text: str
    answer: str = ""  # the passive reply, or what the platform received for it
    pushed: bool = False


@dataclass
class Load:
    sent: list[Sent] = field(default_factory=list)
    lost: list[Sent] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    repairs_confirmed: Counter[str] = field(default_factory=Counter)


def push(layout: Layout, client: httpx.Client, openid: str, text: str, msg_id: int) -> httpx.Response:
    ts, nonce = str(int(time.time())), str(msg_id % 10**9)
    signature = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
    params = {"signature": signature, "timestamp": ts, "nonce": nonce, "openid": openid}
    body = PUSH.format(openid=openid, ts=ts, text=text, msg_id=msg_id)
    return client.post(f"{layout.env['RASA_URL']}/webhooks/wechat/webhook", params=params, content=body.encode())


def resident(layout: Layout, load: Load, number: int) -> None:
    """Writes until told to stop: a question (even odds) or a repair in three messages, each message after
    the answer to the one before (the pushed one, when the reply said "success")."""
    rng = random.Random(number)
    openid = f"oROLLING{number:03d}"
    msg_id = 7 * 10**15 + number * 10**6
    with httpx.Client(timeout=90) as client:
        while not load.stop.is_set():
            if rng.random() < 0.5:
                script = [rng.choice(QUESTIONS)]
            else:
                script = [f"我家暖气阀门坏了 海滨花园{number}号楼1单元{rng.randint(1, 9)}01 电话1370000{number:04d}",
                          "明天上午", "对"]  # fmt: skip
            for text in script:
                msg_id += 1
                sent = Sent(openid, str(msg_id), text)
                before = len(inbox_of(layout, client, openid))
                try:
                    reply = push(layout, client, openid, text, msg_id)
                except httpx.HTTPError as exc:  # the balancer itself is never restarted: counted as lost
                    reply = httpx.Response(599, text=repr(exc))
                if reply.status_code != 200:
                    sent.answer = ""
                elif "<Content>" in reply.text:
                    sent.answer = reply.text
                else:  # answered later: the platform receives it
                    sent.pushed = True
                    arrived = eventually(
                        lambda: inbox_of(layout, client, openid), lambda m, seen=before: len(m) > seen, 90
                    )
                    sent.answer = "\n".join(m["text"] for m in arrived[before:])
                with load.lock:
                    load.sent.append(sent)
                    if not sent.answer:
                        load.lost.append(sent)
                if text == "对":
                    load.repairs_confirmed[openid] += 1
            time.sleep(rng.uniform(0.2, 1.0))


def inbox_of(layout: Layout, client: httpx.Client, openid: str) -> list[dict]:
    answer = client.get(f"{layout.platform}/simulator/api/inbox", params={"openid": openid})
    return list(answer.json()["messages"])


def roll_out_a_new_model(layout: Layout) -> int:
    """A supervisor trains a candidate (the stand-in trainer's) and puts it in force, as in the console;
    returns when both Rasa processes run it."""
    env = layout.env
    supervisor = {"Authorization": f"Bearer {staff_token(env, 'rolling-sup', 'supervisor')}"}
    api = env["API_URL"] + "/api/v1"
    # a wording the residents taught it, reviewed and approved: what a candidate is trained on
    machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
    report = {"message_key": hashlib.sha256(KNOCKING.encode()).hexdigest(), "text": KNOCKING, "reason": "fallback"}
    item = httpx.post(api + "/review-items", json=report, headers=machine, timeout=30).json()["id"]
    labelled = httpx.post(f"{api}/review-items/{item}/label", json={"intent": "request_repair"}, headers=supervisor)
    assert labelled.status_code == 200, labelled.text
    approval = {"revision": labelled.json()["revision"]}
    assert httpx.post(f"{api}/review-items/{item}/approve", json=approval, headers=supervisor).status_code == 200
    started = httpx.post(api + "/models", headers=supervisor, timeout=30)
    assert started.status_code == 201, started.text
    model_id = int(started.json()["id"])
    ready = eventually(
        lambda: httpx.get(f"{api}/models/{model_id}", headers=supervisor).json(),
        lambda model: model["status"] != "training",
        seconds=300,
    )
    assert ready["status"] == "ready", ready
    reason = {"reason": "滚动上线"}
    rolled = httpx.post(f"{api}/models/{model_id}/activate", json=reason, headers=supervisor, timeout=30)
    assert rolled.status_code == 200, rolled.text
    running = eventually(
        lambda: {
            p["process"]: p["running_model_id"]
            for p in httpx.get(api + "/models", headers=supervisor).json()["processes"]
        },
        lambda found: found == {"rasa-1": model_id, "rasa-2": model_id},
        seconds=300,
    )
    assert running == {"rasa-1": model_id, "rasa-2": model_id}
    return model_id


def test_a_rolling_restart_and_a_model_rollout_under_load_lose_and_repeat_nothing(layout: Layout) -> None:
    load = Load()
    writers = [threading.Thread(target=resident, args=(layout, load, n), daemon=True) for n in range(6)]
    for writer in writers:
        writer.start()
    try:
        eventually(lambda: len(load.sent), lambda n: n >= 10, seconds=120)
        replaced = stack.rolling_restart(layout.supervisor)
        assert replaced == ["api-1", "api-2", "actions-1", "actions-2", "rasa-1", "rasa-2"]
        during_restart = len(load.sent)
        roll_out_a_new_model(layout)  # each Rasa process pulls it and loads it while residents write
        time.sleep(5)
    finally:
        load.stop.set()
        for writer in writers:
            writer.join(timeout=200)
    assert not any(writer.is_alive() for writer in writers)

    assert during_restart >= 20 and len(load.sent) > during_restart
    assert load.lost == [], [f"{s.openid} {s.text}" for s in load.lost]  # 0 lost
    for openid in {s.openid for s in load.sent}:
        events = tracker_events(layout.env, openid)
        turns = Counter(e.get("message_id") for e in events if e.get("event") == "user" and e.get("message_id"))
        mine = {f"msg:{openid}:{s.msg_id}" for s in load.sent if s.openid == openid}
        assert set(turns) >= mine  # every message's turn was written ...
        assert [key for key in mine if turns[key] != 1] == []  # ... once: 0 duplicated
    filed = 0
    with httpx.Client(timeout=30) as client:
        machine = {"Authorization": f"Bearer {layout.env['API_TOKEN']}"}
        for openid in {s.openid for s in load.sent}:
            orders = client.get(
                f"{layout.env['API_URL']}/api/v1/work-orders",
                params={"resident_openid": openid, "limit": 200},
                headers=machine,
            ).json()["items"]
            told = {n for s in load.sent if s.openid == openid for n in ORDER_NUMBER.findall(s.answer)}
            assert sorted(o["number"] for o in orders) == sorted(told)  # each filed once, its number told
            assert len(orders) <= load.repairs_confirmed[openid]  # never more orders than confirmations
            filed += len(orders)
    assert filed >= 3  # repairs were filed across the restarts
