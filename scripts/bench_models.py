"""Training, checking and rolling out a candidate model of the bot, measured on `make run`'s processes with a
second Rasa process beside the first (both pull the model in force from the backend, as in
`make run-scaled`).

Measures:

- training: the trainer's own training time (niced, one core) and the whole run with both models' checks;
- the live bot meanwhile: Rasa's NLU parse latency (``POST /model/parse``) before and during the training;
- rollout and rollback: from the supervisor's request until every Rasa process runs the model (its
  ``/status`` names the file), with the pull interval of ``.env.example``; and the slowest parse a
  resident met while a process loaded the new model (it loads it in its event loop);
- the replay: the reviewed messages read by the model in force before the cycle and by every Rasa
  process after its rollout, as residents meet them (the model with its fallback, ``POST /model/parse``):
  how many move from wrong to right, those trained on and those held out from training apart.

    .venv/api/bin/python scripts/bench_models.py [--write]   (part of ``make bench``)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

from scripts.bench_channel import percentile  # noqa: E402
from scripts.benchdoc import record, write_section  # noqa: E402

# Wordings a supervisor approved, written for the benchmark (none is an NLU set's message, nor in data/).
# The first nine the repository's build misreads (it fell back, or answered another question); the
# other seven it reads right, to see that a cycle breaks none.
APPROVED = [
    ("暖气管子里有流水声", "request_repair"),
    ("暖气管子里边老是咯噔咯噔的跟敲鼓似的", "request_repair"),
    ("回水管冰凉进水管热", "complain_room_temperature"),
    ("供暖公司啥时候来人放气", "request_repair"),
    ("暖气费交了咋还不热", "complain_room_temperature"),
    ("暖气片一直咚咚响吵得睡不着", "request_repair"),
    ("家里水压表指针掉到零了", "request_repair"),
    ("暖气片被装修工人碰漏了", "report_leak"),
    ("温度计显示才十六度", "complain_room_temperature"),
    ("暖气片咕噜咕噜响是怎么回事", "request_repair"),
    ("我家暖气片发出怪声", "request_repair"),
    ("暖气费可以分期交吗", "ask_payment"),
    ("今年供暖几号开始", "ask_heating_period"),
    ("家里地暖不热了", "complain_room_temperature"),
    ("暖气一开就哗哗响", "request_repair"),
    ("暖气管道冻裂了", "report_leak"),
]
PARSED = ["暖气不热怎么办", "暖气费多少钱一平", "今年几号供暖", "我要报修", "暖气漏水了", "物业电话多少"]


class Parses:
    """Rasa NLU parses sent one after another to one process, each one's time kept, until stopped."""

    def __init__(self, env: dict[str, str], url: str) -> None:
        self.env, self.url = env, url
        self.times: list[float] = []
        self.errors = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    answer = client.post(
                        self.url + "/model/parse",
                        params={"token": self.env["RASA_AUTH_TOKEN"]},
                        json={"text": PARSED[n % len(PARSED)]},
                    )
                    if answer.status_code != 200:
                        self.errors += 1
                except httpx.HTTPError:
                    self.errors += 1
                self.times.append(time.perf_counter() - started)
                n += 1
                time.sleep(0.05)

    def __enter__(self) -> Parses:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def reading(env: dict[str, str], url: str, text: str) -> str:
    """The intent a Rasa process reads in ``text``, its fallback included ("nlu_fallback")."""
    answer = httpx.post(url + "/model/parse", params={"token": env["RASA_AUTH_TOKEN"]}, json={"text": text}, timeout=30)
    answer.raise_for_status()
    return str((answer.json().get("intent") or {}).get("name"))


def replay(env: dict[str, str], url: str) -> list[bool]:
    """Whether the process reads each reviewed message as it was labelled."""
    return [reading(env, url, text) == intent for text, intent in APPROVED]


def held_out(every: int) -> list[bool]:
    """Which reviewed messages the backend holds out of training to check the candidate on."""
    from api.services.bot_models import is_held_out
    from api.views.wording import examples_of

    marks = []
    for text, intent in APPROVED:
        [example] = examples_of(f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - {text}\n')
        marks.append(is_held_out(example.key, every))
    return marks


def model_file(env: dict[str, str], url: str) -> str | None:
    try:
        status = httpx.get(url + "/status", params={"token": env["RASA_AUTH_TOKEN"]}, timeout=5)
    except httpx.HTTPError:
        return None
    return str(status.json().get("model_file")) if status.status_code == 200 else None


def switch(
    env: dict[str, str], rasa: list[str], supervisor: dict[str, str], model_id: int, file: str
) -> dict[str, Any]:
    """Put ``model_id`` in force; seconds until each Rasa process runs it, and the parses meanwhile."""
    with Parses(env, rasa[0]) as parses:
        time.sleep(1)
        started = time.monotonic()
        answer = httpx.post(
            f"{env['API_URL']}/api/v1/models/{model_id}/activate", json={"reason": "基准测试"}, headers=supervisor
        )
        answer.raise_for_status()
        reached: dict[str, float] = {}
        while len(reached) < len(rasa) and time.monotonic() - started < 300:
            for url in rasa:
                if url not in reached and model_file(env, url) == file:
                    reached[url] = time.monotonic() - started
            time.sleep(0.1)
        time.sleep(1)
    return {"seconds": max(reached.values()), "each": sorted(reached.values()), "parses": parses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()
    pull_seconds = stack.parse_env_file(ROOT / ".env.example")["RASA_MODEL_PULL_SECONDS"]
    work = Path(tempfile.mkdtemp(prefix="bench-models-"))
    rasa_2 = f"http://127.0.0.1:{stack.free_port()}"
    env = stack.isolated_env(
        work,
        {
            "API_TOKEN": "bench-api-token",
            "RASA_AUTH_TOKEN": "bench-rasa-token",
            "RASA_MODEL_PULL_SECONDS": pull_seconds,
            "MODEL_TRAINER_ENABLED": "true",
            "MODEL_ROLLOUT_MARGIN": "0.05",
        },
    )
    services = stack.build_services(
        ["api", "actions", "rasa-1", "rasa-2"], env, {"rasa-1": env["RASA_URL"], "rasa-2": rasa_2}
    )
    log_dir = stack.VAR / "test-reports" / "bench-models"
    log_dir.mkdir(parents=True, exist_ok=True)
    supervisor_process = stack.Supervisor(services, env, log_dir=log_dir)
    supervisor_process.start(timeout=300)
    rasa = [env["RASA_URL"], rasa_2]
    try:
        from tests.e2e.conftest import staff_token

        supervisor = {"Authorization": f"Bearer {staff_token(env, 'bench-supervisor', 'supervisor')}"}
        machine = {"Authorization": f"Bearer {env['API_TOKEN']}"}
        for text, intent in APPROVED:
            key = hashlib.sha256(text.encode()).hexdigest()
            item = httpx.post(
                env["API_URL"] + "/api/v1/review-items",
                json={"message_key": key, "text": text, "reason": "fallback"},
                headers=machine,
            ).json()["id"]
            base = f"{env['API_URL']}/api/v1/review-items/{item}"
            labelled = httpx.post(base + "/label", json={"intent": intent}, headers=supervisor)
            labelled.raise_for_status()
            approval = {"revision": labelled.json()["revision"]}
            httpx.post(base + "/approve", json=approval, headers=supervisor).raise_for_status()
        repository_file = Path(env["BOT_BASE_MODEL"]).name
        before = replay(env, rasa[0])
        with Parses(env, rasa[0]) as idle:
            time.sleep(20)
        started = time.monotonic()
        with Parses(env, rasa[0]) as training_parses:
            answer = httpx.post(env["API_URL"] + "/api/v1/models", headers=supervisor)
            answer.raise_for_status()
            model_id = answer.json()["id"]
            while True:
                model = httpx.get(f"{env['API_URL']}/api/v1/models/{model_id}", headers=supervisor).json()
                if model["status"] != "training":
                    break
                time.sleep(1)
        whole = time.monotonic() - started
        if model["status"] != "ready":
            print(json.dumps(model, ensure_ascii=False))
            return 1
        out = switch(env, rasa, supervisor, model_id, f"candidate-{model_id}.tar.gz")
        after = [replay(env, url) for url in rasa]
        back = switch(env, rasa, supervisor, model["compared_with_id"], repository_file)
    finally:
        supervisor_process.stop()

    def ms(values: list[float], share: float) -> float:
        return percentile(values, share) * 1000

    counts = model["counts"]
    apart = held_out(int(stack.parse_env_file(ROOT / ".env.example")["MODEL_HELD_OUT_EVERY"]))

    def right(marks: list[bool], held: bool | None = None) -> str:
        chosen = [m for m, h in zip(marks, apart, strict=True) if held is None or h == held]
        return f"{sum(chosen)}/{len(chosen)}"

    moved = [b for b, a in zip(before, after[0], strict=True) if not b and a]
    lines = [
        f"Command: `make bench` (`scripts/bench_models.py --write`). Machine: {platform.machine()}, "
        f"2 cores, Python {platform.python_version()}; `make run`'s processes with a second Rasa process, both "
        f"pulling the model in force every {pull_seconds} s (`RASA_MODEL_PULL_SECONDS`); measured "
        f"{datetime.now(UTC):%Y-%m-%d}.",
        "",
        f"- Training a candidate ({counts['approved']} approved examples: {counts['trained']} trained on, "
        f"{counts['held_out']} held out), niced on one core: **{model['training_seconds']:.0f} s** of training; "
        f"**{whole:.0f} s** from the request to the figures, both models checked (test set, held-out, "
        "out-of-domain, conversation tests).",
        f"- The live bot meanwhile (NLU parses one after another on one Rasa process): p50 "
        f"{ms(training_parses.times, 0.5):.0f} ms, p95 {ms(training_parses.times, 0.95):.0f} ms "
        f"({len(training_parses.times)} parses, {training_parses.errors} errors); idle before: p50 "
        f"{ms(idle.times, 0.5):.0f} ms, p95 {ms(idle.times, 0.95):.0f} ms.",
        f"- Rollout: every Rasa process ran the candidate **{out['seconds']:.1f} s** after the supervisor's request "
        f"(each: {', '.join(f'{s:.1f}' for s in out['each'])} s); the slowest parse meanwhile "
        f"{max(out['parses'].times) * 1000:.0f} ms (the process loads the model in its event loop), "
        f"{out['parses'].errors} errors of {len(out['parses'].times)}.",
        f"- Rollback: **{back['seconds']:.1f} s** (each: {', '.join(f'{s:.1f}' for s in back['each'])} s); the "
        f"slowest parse meanwhile {max(back['parses'].times) * 1000:.0f} ms, {back['parses'].errors} errors.",
        f"- Replay of the {len(APPROVED)} reviewed messages as residents meet them (the model with its "
        f"fallback): the build read **{right(before)}** right; after one review–train–rollout cycle every "
        f"Rasa process reads them ({', '.join(right(marks) for marks in after)} right: "
        f"{right(after[0], held=False)} of those trained on, {right(after[0], held=True)} of those held out "
        f"from training; the build read {right(before, held=False)} and {right(before, held=True)}): "
        f"**{len(moved)} moved from wrong to right**, "
        f"{sum(1 for b, a in zip(before, after[0], strict=True) if b and not a)} from right to wrong.",
        "",
        "A rollout reaches a process at its next pull (at most the pull interval), plus the download and the "
        "load of the model; the conversations are in the tracker store and go on. The candidate's own figures "
        "are not benchmarks (they depend on what was approved): the console shows them.",
    ]
    body = "\n".join(["## Training and rolling out models", "", *lines])
    print(body)
    if args.write:
        write_section("models", body)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
        figures = [
            ("training s", float(model["training_seconds"]), "s", "lower"),
            ("training and check s", whole, "s", "lower"),
            ("parse p95 ms while training", ms(training_parses.times, 0.95), "ms", "lower"),
            ("rollout s", out["seconds"], "s", "lower"),
            ("rollback s", back["seconds"], "s", "lower"),
            ("slowest parse ms during rollout", max(out["parses"].times) * 1000, "ms", "lower"),
            ("reviewed messages right after the cycle", float(sum(after[0])), "messages", "higher"),
        ]
        for line in record("models", figures, commit.stdout.strip(), datetime.now(UTC).isoformat(timespec="seconds")):
            print("WORSE:", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
