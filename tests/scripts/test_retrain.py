"""scripts/retrain.py without training: the trainer gives itself low priority, one core and one thread per
library pool before anything heavy is imported; `make retrain` follows a training to its figures and
says plainly when the backend refuses or is not running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import retrain

ROOT = Path(__file__).resolve().parents[2]


def test_the_trainer_runs_niced_on_one_core_with_one_thread_per_pool() -> None:
    probe = (
        "import json, os; from scripts.retrain import limit_resources, THREAD_VARIABLES; before = os.nice(0); "
        "core = limit_resources(); "
        "print(json.dumps([before, os.nice(0), sorted(os.sched_getaffinity(0)), core, "
        "[os.environ[v] for v in THREAD_VARIABLES]]))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    before, after, cores, core, threads = json.loads(ran.stdout)
    assert after == min(19, before + retrain.NICENESS)
    assert cores == [core] and core == max(os.sched_getaffinity(0))
    assert set(threads) == {"1"} and "OMP_NUM_THREADS" in retrain.THREAD_VARIABLES
    assert {"TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"} <= set(
        retrain.THREAD_VARIABLES
    )


class FakeBackend:
    """Answers the calls `make retrain` makes, in order."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        self.url = "http://backend.test"
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        self.calls.append((method, path))
        return self.answers.pop(0)


def figures() -> dict[str, Any]:
    test = {"total": 290, "answered": 264, "clarified": 26, "wrong": 6, "top1": 273}
    return {
        "test": test,
        "held_out": {"total": 2, "answered": 2, "clarified": 0, "wrong": 0, "top1": 2},
        "out_of_domain": {"total": 60, "declined": 57},
        "conversations": {"total": 40, "passed": 40},
    }


def model(status: str, percent: int, progress: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"id": 7, "status": status, "percent": percent, "progress": progress, "compared_with_id": 1, **extra}


def test_make_retrain_follows_the_training_to_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    backend = FakeBackend(
        [
            (201, {"id": 7, "counts": {"trained": 8, "held_out": 2}}),
            model("training", 5, "训练中（已用 10 秒）"),
            model("training", 5, "训练中（已用 10 秒）"),
            model("training", 70, "检查候选模型"),
            model("ready", 100, "完成", figures={"candidate": figures(), "running": figures()}, refusals=[]),
        ]
    )
    assert retrain.request(backend, poll_seconds=0) == 0  # type: ignore[arg-type]
    said = capsys.readouterr().out
    assert said.count("训练中（已用 10 秒）") == 1 and "70% 检查候选模型" in said
    assert "测试集: candidate #7 准确率 94.1%，答错率（已回答中）2.3%，澄清 26/290" in said
    assert "对话测试: candidate #7 40/40 通过" in said and "may be rolled out" in said
    assert backend.calls[0] == ("POST", "/api/v1/models") and backend.calls[1] == ("GET", "/api/v1/models/7")


def test_make_retrain_says_why_it_cannot_train(capsys: pytest.CaptureFixture[str]) -> None:
    refused = FakeBackend([(409, {"code": "training_in_progress", "message": "模型 #6 正在训练，请等它完成后再训练"})])
    assert retrain.request(refused) == 1  # type: ignore[arg-type]
    assert "模型 #6 正在训练" in capsys.readouterr().out
    failed = FakeBackend([(201, {"id": 7, "counts": {}}), model("failed", 5, "失败", error="RuntimeError: boom")])
    assert retrain.request(failed, poll_seconds=0) == 1  # type: ignore[arg-type]
    assert "failed: RuntimeError: boom" in capsys.readouterr().out


def test_make_retrain_without_a_running_backend_says_to_start_it(capsys: pytest.CaptureFixture[str]) -> None:
    nobody = retrain.Backend("http://127.0.0.1:9", "token")  # the discard port: nothing listens
    assert retrain.request(nobody) == 2
    assert "make run" in capsys.readouterr().out
