"""A candidate model of the bot: trained on the repository's data and the reviewed examples, then checked
against the model in force in the same run (docs/bot.md, "Training, checking, rolling out").

    python scripts/retrain.py request            # `make retrain`: ask the backend for one, follow it
    python scripts/retrain.py train --job FILE   # the trainer, started by the backend (bot environment)

``request`` uses only the standard library: it asks the running backend (API_URL, with the machine token
API_TOKEN) to train, then prints the progress and the figures. The backend writes the job (what to train
on, the model in force and where it is) beside the candidate and starts ``train`` in the background
(``api.routes.bot_models.LocalTrainer``), whoever asked: a supervisor's "训练新模型" in the console
takes the same path.

``train`` first gives itself low priority (nice 10) and one core (the last one it may use), with every
library's thread pool at one thread, so that the live bot keeps the machine; it reports what it does to
the backend every few seconds (a training that stops reporting is marked failed there). It checks both
models on the untouched test set, the held-out reviewed examples, the out-of-domain messages and the
conversation tests (as `make test` runs them), and reports counts only: no message of an untouched set
is printed or sent.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NICENESS = 10
# The variables that size the thread pools of the libraries training loads (OpenMP, OpenBLAS, MKL,
# numexpr, Accelerate, TensorFlow): one thread each.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
# How often the trainer tells the backend it is alive (the backend gives up after
# MODEL_TRAINING_STALE_SECONDS, 180 s by default), and after how many failed reports in a row it stops.
HEARTBEAT_SECONDS = 10.0
FAILED_REPORTS_TO_STOP = 12
TEST_SET = "tests/nlu/test.yml"
OUT_OF_DOMAIN = "tests/nlu/out_of_domain.yml"
# The conversation tests, as `make test` runs them (`rasa test core --e2e --stories tests`).
STORIES = "tests"
FALLBACK, OUT_OF_SCOPE = "nlu_fallback", "out_of_scope"


def say(message: str) -> None:
    print(f"[retrain] {message}", flush=True)


# --------------------------------------------------------------------------- talking to the backend


class Backend:
    """The backend's API with the machine token (standard library only)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"{}")
            except ValueError:
                return error.code, {"message": str(error)}


class Abandoned(Exception):
    """The backend no longer takes this training (it was marked failed), or cannot be reached."""


class Progress:
    """What the trainer is doing, told to the backend at each step and every HEARTBEAT_SECONDS between."""

    def __init__(self, backend: Backend, model_id: int) -> None:
        self.backend = backend
        self.model_id = model_id
        self.step = "准备"
        self.percent = 0
        self.describe: Any = None  # a function giving the step's words now (the training's elapsed time)
        self.failures = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def send(self, body: dict[str, Any]) -> None:
        with self.lock:
            try:
                code, answer = self.backend.call("POST", f"/api/v1/models/{self.model_id}/progress", body)
            except OSError as error:
                code, answer = 0, {"message": str(error)}
            if code == 409:
                raise Abandoned(answer.get("message", "the backend no longer takes this training"))
            if code != 200:
                self.failures += 1
                say(f"the backend did not take the report ({code}): {answer.get('message', '')}")
                if self.failures >= FAILED_REPORTS_TO_STOP:
                    raise Abandoned(f"{self.failures} reports in a row failed")
                return
            self.failures = 0

    def at(self, percent: int, step: str, describe: Any = None) -> None:
        self.step, self.percent, self.describe = step, percent, describe
        say(f"{percent}% {step}")
        self.send({"status": "training", "progress": step, "percent": percent})

    def beat(self) -> None:
        """Runs in a thread: the current step again, so the backend sees the trainer alive. When the
        backend gives the training up, the trainer stops at once (the model would not be taken)."""
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            words, percent = self.step, self.percent
            if self.describe is not None:
                words, percent = self.describe()
            try:
                self.send({"status": "training", "progress": words[:255], "percent": percent})
            except Abandoned as reason:
                say(f"stopping: {reason}")
                os._exit(3)


# --------------------------------------------------------------------------- the trainer


def limit_resources() -> int:
    """Low priority, one core, one thread per library pool: the trainer yields to the live bot. Returns
    the core. Called before numpy, scikit-learn or TensorFlow are imported (they read the variables once)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.nice(NICENESS)
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def outcome_counts(found: Any) -> dict[str, int]:
    """An ``Outcome`` of scripts/nlu_outcomes.py as the backend keeps it."""
    return {
        "total": found.total,
        "answered": found.answered,
        "clarified": found.clarified,
        "wrong": found.wrong,
        "top1": found.top1,
    }


def check(model: Path, held_out: Path) -> dict[str, dict[str, int]]:
    """One model's figures: the untouched test set and the held-out reviewed examples through its fallback,
    the out-of-domain messages it declines, the conversation tests it passes."""
    import asyncio
    import tempfile

    from rasa.core.agent import load_agent
    from rasa.core.test import test as test_stories

    from scripts.nlu_baseline import examples
    from scripts.nlu_outcomes import as_decided, parse_all, quiet_rasa

    quiet_rasa()

    async def measure() -> dict[str, dict[str, int]]:
        agent = await load_agent(str(model))
        figures: dict[str, dict[str, int]] = {}
        for name, path in (("test", TEST_SET), ("held_out", str(held_out))):
            texts, truth = examples(path) if name == "test" or _has_examples(held_out) else ([], [])
            figures[name] = outcome_counts(as_decided(await parse_all(agent, texts), truth))
        texts, _ = examples(OUT_OF_DOMAIN)
        parsed = await parse_all(agent, texts)
        declined = sum(p["intent"]["name"] in (FALLBACK, OUT_OF_SCOPE) for p in parsed)
        figures["out_of_domain"] = {"total": len(texts), "declined": declined}
        with tempfile.TemporaryDirectory() as out:
            await test_stories(STORIES, agent, out_directory=out, e2e=True, disable_plotting=True, warnings=False)
            report = json.loads((Path(out) / "story_report.json").read_text(encoding="utf-8"))
        talks = report.get("conversation_accuracy") or {}
        figures["conversations"] = {"total": int(talks.get("total", 0)), "passed": int(talks.get("correct", 0))}
        return figures

    return asyncio.run(measure())


def _has_examples(path: Path) -> bool:
    import yaml

    return any(
        block.get("examples") for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []
    )


def train(job_file: Path, backend: Backend) -> int:
    """Train the job's candidate, check it and the model in force, report the figures (or the failure)."""
    core = limit_resources()
    job = json.loads(job_file.read_text(encoding="utf-8"))
    directory = Path(job["directory"])
    progress = Progress(backend, int(job["model_id"]))
    threading.Thread(target=progress.beat, daemon=True).start()
    say(f"model #{job['model_id']} on core {core} at nice {os.nice(0)}, in {directory}")
    try:
        progress.at(2, "准备训练数据")
        training = directory / "training.yml"
        held_out = directory / "held_out.yml"
        training.write_text(job["training_data"], encoding="utf-8")
        held_out.write_text(job["held_out_data"], encoding="utf-8")
        expected = float(job.get("expected_seconds") or 180)
        started = time.monotonic()

        def training_words() -> tuple[str, int]:
            spent = time.monotonic() - started
            return f"训练中（已用 {spent:.0f} 秒，预计约 {expected:.0f} 秒）", 5 + min(64, int(64 * spent / expected))

        progress.at(5, "训练中", training_words)
        from rasa.model_training import train as rasa_train

        from scripts.nlu_outcomes import quiet_rasa

        quiet_rasa()  # Rasa's debug lines (every rule state) would fill train.log

        result = rasa_train(
            domain="domain.yml",
            config="config.yml",
            training_files=["data", str(training)],
            output=str(directory),
            fixed_model_name="model",
            force_training=True,
        )
        seconds = time.monotonic() - started
        model = directory / "model.tar.gz"
        if result.code != 0 or not model.exists():
            raise RuntimeError(f"rasa train ended with code {result.code}")
        say(f"trained in {seconds:.0f} s")
        progress.at(70, f"训练完成（{seconds:.0f} 秒）；检查候选模型：测试集、留出样本、域外消息、对话测试")
        figures = {"candidate": check(model, held_out)}
        progress.at(85, f"检查在用模型 #{job['running_id']}：同样的测试")
        figures["running"] = check(Path(job["running_file"]), held_out)
        (directory / "figures.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
        progress.stopping.set()
        progress.send(
            {
                "status": "ready",
                "progress": f"完成：训练 {seconds:.0f} 秒",
                "percent": 100,
                "figures": figures,
                "training_seconds": round(seconds, 1),
            }
        )
        say(json.dumps(figures))
        return 0
    except Abandoned as reason:
        say(f"stopping: {reason}")
        return 3
    except Exception as error:  # the backend must hear of any failure, or the row waits to go stale
        progress.stopping.set()
        say(f"failed: {type(error).__name__}: {error}")
        with contextlib.suppress(Abandoned):
            progress.send(
                {
                    "status": "failed",
                    "progress": "失败",
                    "percent": progress.percent,
                    "error": f"{type(error).__name__}: {error}",
                }
            )
        raise


# --------------------------------------------------------------------------- `make retrain`

SET_NAMES = {"test": "测试集", "held_out": "留出的审核样本", "out_of_domain": "域外消息", "conversations": "对话测试"}


def describe(figures: dict[str, int]) -> str:
    """One set's figures in a line."""
    if "declined" in figures:
        return f"{figures['declined']}/{figures['total']} 拒答"
    if "passed" in figures:
        return f"{figures['passed']}/{figures['total']} 通过"
    total, answered = figures["total"] or 1, figures["answered"] or 1
    return (
        f"准确率 {figures['top1'] / total:.1%}，答错率（已回答中）{figures['wrong'] / answered:.1%}，"
        f"澄清 {figures['clarified']}/{figures['total']}"
    )


def request(backend: Backend, poll_seconds: float = 2.0) -> int:
    """Ask the backend for a candidate and follow it to its end; 0 when it is ready."""
    try:
        code, started = backend.call("POST", "/api/v1/models")
    except OSError as error:
        say(f"the backend does not answer at {backend.url} ({error}): start it first (make run)")
        return 2
    if code != 201:
        say(f"the backend refused ({code}): {started.get('message', started)}")
        return 1
    model_id = started["id"]
    say(f"model #{model_id}: {started['counts']}")
    seen = None
    while True:
        code, model = backend.call("GET", f"/api/v1/models/{model_id}")
        if code != 200:
            say(f"the backend answered {code}: {model.get('message', model)}")
            return 1
        now = (model["percent"], model["progress"], model["status"])
        if now != seen:
            say(f"#{model_id} {model['percent']}% {model['progress']}")
            seen = now
        if model["status"] == "failed":
            say(f"failed: {model['error']}")
            return 1
        if model["status"] == "ready":
            break
        time.sleep(poll_seconds)
    for name, label in SET_NAMES.items():
        say(f"{label}: candidate #{model_id} {describe(model['figures']['candidate'][name])}")
        say(f"{' ' * len(label)}  in force #{model['compared_with_id']} {describe(model['figures']['running'][name])}")
    if model["refusals"]:
        say("cannot be rolled out: " + "; ".join(model["refusals"]))
    else:
        say(f"may be rolled out: the console's 模型 page (/console/models), or POST /api/v1/models/{model_id}/activate")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("request", help="ask the backend for a candidate and follow it (make retrain)")
    trainer = sub.add_parser("train", help="train and check one candidate (started by the backend)")
    trainer.add_argument("--job", required=True, type=Path)
    args = parser.parse_args(argv)
    backend = Backend(os.environ.get("API_URL", "http://127.0.0.1:8000"), os.environ.get("API_TOKEN", ""))
    if args.command == "request":
        return request(backend)
    return train(args.job, backend)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
