"""The bot's models through the API: the repository's build served before any candidate; a candidate
trained on the approved reviewed examples less a held-out share and less the untouched test sets'
messages; one training at a time; a trainer that dies leaves its training failed; a candidate worse than
the model in force is refused; rollout and rollback, each with who and why. The trainer is a fake here
(the end-to-end test tests/e2e/test_bot_models.py trains a real one)."""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from api.models import StaffAudit
from api.services import bot_models
from api.services.bot_models import Example, TrainingJob, examples_of, is_held_out, split_examples
from api.services.trainer import LocalTrainer
from api.settings import ROOT
from tests.api.conftest import Browser, FixedClock, add_staff_user

BASE = "0123456789abcdef"
FILE_ROUTE = "/api/v1/models/active/file"
# Wordings whose held-out answer is pinned: the hash must never change, or a wording a running model was
# trained on would be taken as held out of it.
HELD_OUT = ("我家暖气片发出怪声", "暖气片放气阀在哪")
TRAINED = ("暖气片咕噜咕噜响是怎么回事", "暖气管子里有流水声", "暖气费可以分期交吗", "今年供暖几号开始")


class FakeTrainer:
    """Records the jobs it is given; the test plays the trainer's part."""

    def __init__(self) -> None:
        self.jobs: list[TrainingJob] = []

    def start(self, job: TrainingJob) -> None:
        self.jobs.append(job)


@pytest.fixture
def base_model(tmp_path: Path) -> Path:
    path = tmp_path / "models" / f"{BASE}.tar.gz"
    path.parent.mkdir()
    path.write_bytes(b"the repository's build")
    return path


@pytest.fixture
def make_models_client(
    make_client: Callable[..., TestClient], base_model: Path, tmp_path: Path
) -> Callable[..., TestClient]:
    def build(**overrides: Any) -> TestClient:
        values = {"bot_base_model": str(base_model), "bot_models_dir": str(tmp_path / "candidates"), **overrides}
        made = make_client(**values)
        made.app.state.model_trainer = FakeTrainer()  # type: ignore[attr-defined]
        return made

    return build


@pytest.fixture
def client(make_models_client: Callable[..., TestClient]) -> TestClient:
    return make_models_client()


def trainer_of(client: TestClient) -> FakeTrainer:
    trainer: FakeTrainer = client.app.state.model_trainer  # type: ignore[attr-defined]
    return trainer


def approve(client: TestClient, auth: dict, supervisor: dict, text: str, intent: str) -> None:
    """A message the bot was unsure of, labelled and approved."""
    key = hashlib.sha256(text.encode()).hexdigest()
    item = client.post(
        "/api/v1/review-items", json={"message_key": key, "text": text, "reason": "fallback"}, headers=auth
    )
    item_id = item.json()["id"]
    labelled = client.post(f"/api/v1/review-items/{item_id}/label", json={"intent": intent}, headers=supervisor)
    assert labelled.status_code == 200, labelled.text
    approval = {"revision": labelled.json()["revision"]}
    assert client.post(f"/api/v1/review-items/{item_id}/approve", json=approval, headers=supervisor).status_code == 200


def approve_some(client: TestClient, auth: dict, supervisor: dict) -> None:
    for text in TRAINED[:2] + HELD_OUT[:1]:
        approve(client, auth, supervisor, text, "request_repair")


def figures(top1: int = 273, answered: int = 264, wrong: int = 6, passed: int = 40) -> dict[str, Any]:
    """One model's figures as the trainer reports them (290 test messages, 40 conversation tests)."""
    test = {"total": 290, "answered": answered, "clarified": 290 - answered, "wrong": wrong, "top1": top1}
    return {
        "test": test,
        "held_out": {"total": 1, "answered": 1, "clarified": 0, "wrong": 0, "top1": 1},
        "out_of_domain": {"total": 60, "declined": 57},
        "conversations": {"total": 40, "passed": passed},
    }


def finish(client: TestClient, auth: dict, job: TrainingJob, candidate: dict, running: dict | None = None) -> dict:
    """The trainer's part: the model written beside the job, then the figures of both models reported."""
    job.directory.mkdir(parents=True, exist_ok=True)
    (job.directory / "model.tar.gz").write_bytes(f"candidate {job.model_id}".encode())
    body = {
        "status": "ready",
        "progress": "完成",
        "percent": 100,
        "figures": {"candidate": candidate, "running": running or figures()},
        "training_seconds": 120.5,
    }
    done = client.post(f"/api/v1/models/{job.model_id}/progress", json=body, headers=auth)
    assert done.status_code == 200, done.text
    return dict(done.json())


def train(client: TestClient, who: dict) -> TrainingJob:
    started = client.post("/api/v1/models", headers=who)
    assert started.status_code == 201, started.text
    return trainer_of(client).jobs[-1]


def models(client: TestClient, who: dict) -> dict[str, Any]:
    listed = client.get("/api/v1/models", headers=who)
    assert listed.status_code == 200, listed.text
    return dict(listed.json())


def pull(client: TestClient, auth: dict, running: str = "", process: str = "rasa-1") -> Any:
    headers = {**auth, "X-Rasa-Process": process} | ({"If-None-Match": running} if running else {})
    return client.get(FILE_ROUTE, headers=headers)


# --- the training data -----------------------------------------------------------------------------


def example(text: str, intent: str = "request_repair") -> Example:
    return examples_of(f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - {text}\n')[0]


def test_the_held_out_share_is_fixed_by_the_wording() -> None:
    assert [is_held_out(example(t).key, 5) for t in HELD_OUT + TRAINED] == [True] * 2 + [False] * 4
    # the same wording, however it is written, gets the same answer
    assert is_held_out(example("我家 暖气片发出怪声！").key, 5)
    share = sum(is_held_out(str(n), 5) for n in range(10_000)) / 10_000
    assert 0.18 < share < 0.22


def test_the_split_drops_test_messages_and_what_is_near_the_held_out() -> None:
    untouched = frozenset({example("屋里冷得很能派人来看看吗").key})
    given = [
        example("屋里冷得很，能派人来看看吗？"),  # a test message, punctuated otherwise
        example("屋里冷得很能派人来看看吗啊"),  # near one
        example(HELD_OUT[0]),
        example(HELD_OUT[0] + "呀"),  # near the held-out wording: not trained on either
        example(TRAINED[0]),
        example(TRAINED[0] + "？"),  # the same wording again
        example(TRAINED[1]),
    ]
    split = split_examples(given, untouched, 5)
    assert [e.text for e in split.trained] == [TRAINED[0], TRAINED[1]]
    assert [e.text for e in split.held_out] == [HELD_OUT[0]]
    assert split.counts == {
        "approved": 7,
        "trained": 2,
        "held_out": 1,
        "excluded_test_equal": 1,
        "excluded_test_near": 1,
        "near_held_out": 1,
        "repeated": 1,
    }


def test_no_message_of_the_untouched_sets_is_trained_on(client: TestClient, auth: dict, supervisor: dict) -> None:
    from_test = examples_of((ROOT / "tests/nlu/test.yml").read_text(encoding="utf-8"))[0]
    from_wild = examples_of((ROOT / "tests/nlu/test_wild.yml").read_text(encoding="utf-8"))[-1]
    for text in (from_test.text, from_wild.text, *TRAINED, *HELD_OUT):
        approve(client, auth, supervisor, text, "request_repair")
    started = client.post("/api/v1/models", headers=supervisor)
    assert started.status_code == 201, started.text
    assert started.json()["counts"] | {"excluded_test_equal": 2} == started.json()["counts"]
    assert started.json()["counts"]["trained"] == 4 and started.json()["counts"]["held_out"] == 2
    job = trainer_of(client).jobs[-1]
    trained = {e.text for e in examples_of(job.training_data)}
    held = {e.text for e in examples_of(job.held_out_data)}
    assert trained == set(TRAINED) and held == set(HELD_OUT)
    assert yaml.safe_load(job.training_data)["version"] == "3.1"
    # both files are kept with the model, for a developer to read
    assert job.running_file.name == f"{BASE}.tar.gz" and job.directory.parent.name == "candidates"


def test_nothing_new_to_train_on_is_refused(client: TestClient, auth: dict, supervisor: dict) -> None:
    approve(client, auth, supervisor, HELD_OUT[0], "request_repair")
    refused = client.post("/api/v1/models", headers=supervisor)
    assert refused.status_code == 409 and refused.json()["code"] == "nothing_to_train"
    assert "留出检查 1 条" in refused.json()["message"]
    assert trainer_of(client).jobs == []


# --- serving, training, progress --------------------------------------------------------------------


def test_a_fresh_product_serves_the_repository_build(client: TestClient, auth: dict, agent: dict) -> None:
    first = pull(client, auth)
    assert first.status_code == 200 and first.content == b"the repository's build"
    assert first.headers["filename"] == f"{BASE}.tar.gz"
    again = pull(client, auth, running=first.headers["ETag"])
    assert again.status_code == 304
    listed = models(client, agent)
    [repository] = listed["items"]
    assert repository["source"] == "repository" and repository["active"] and listed["active_id"] == repository["id"]
    assert listed["processes"][0]["process"] == "rasa-1"
    assert listed["processes"][0]["running_model_id"] == repository["id"]


def test_nothing_is_served_without_a_build(make_client: Callable[..., TestClient], auth: dict) -> None:
    bare = make_client(bot_base_model=None)
    assert bare.get(FILE_ROUTE, headers=auth).status_code == 404


def test_the_last_model_served_is_served_while_the_database_is_down(
    client: TestClient, auth: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    etag = pull(client, auth).headers["ETag"]

    def down(*_args: object) -> None:
        raise OperationalError("SELECT", {}, Exception("the server is gone"))

    monkeypatch.setattr(bot_models, "served", down)
    answer = pull(client, auth)
    assert answer.status_code == 200 and answer.headers["ETag"] == etag


def test_two_train_clicks_start_one_training(
    client: TestClient, auth: dict, supervisor: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve_some(client, auth, supervisor)
    # both requests look before either inserts: the unique training slot lets one through
    both_looked = threading.Barrier(2, timeout=10)
    export = bot_models.review.export

    def slow_export(*args: Any) -> str:
        text = export(*args)
        both_looked.wait()
        return text

    monkeypatch.setattr(bot_models.review, "export", slow_export)
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(client.post("/api/v1/models", headers=supervisor).status_code))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 409]
    assert len(trainer_of(client).jobs) == 1
    monkeypatch.setattr(bot_models.review, "export", export)
    again = client.post("/api/v1/models", headers=supervisor)
    assert again.status_code == 409 and again.json()["code"] == "training_in_progress"


def test_the_trainer_reports_progress_then_figures(
    client: TestClient, auth: dict, supervisor: dict, clock: FixedClock
) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    clock.advance(seconds=30)
    said = {"status": "training", "progress": "训练中（已用 30 秒）", "percent": 20}
    assert client.post(f"/api/v1/models/{job.model_id}/progress", json=said, headers=auth).status_code == 200
    row = client.get(f"/api/v1/models/{job.model_id}", headers=auth).json()
    assert (row["status"], row["progress"], row["percent"]) == ("training", "训练中（已用 30 秒）", 20)
    assert row["updated_at"] == "2026-12-10T02:00:30Z"
    ready = finish(client, auth, job, figures())
    assert ready["status"] == "ready" and ready["training_seconds"] == 120.5
    assert ready["figures"]["running"]["conversations"] == {"total": 40, "passed": 40}
    late = client.post(f"/api/v1/models/{job.model_id}/progress", json=said, headers=auth)
    assert late.status_code == 409 and late.json()["code"] == "not_training"
    # the slot is free: the next training may start
    approve(client, auth, supervisor, TRAINED[2], "ask_payment")
    assert client.post("/api/v1/models", headers=supervisor).status_code == 201


def test_a_report_without_the_model_or_its_figures_is_refused(client: TestClient, auth: dict, supervisor: dict) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    ready = {"status": "ready", "progress": "完成", "percent": 100, "figures": {"candidate": figures()}}
    assert client.post(f"/api/v1/models/{job.model_id}/progress", json=ready, headers=auth).status_code == 422
    job.directory.mkdir(parents=True)
    (job.directory / "model.tar.gz").write_bytes(b"model")
    missing = client.post(f"/api/v1/models/{job.model_id}/progress", json=ready, headers=auth)
    assert missing.status_code == 422 and "running" not in missing.json()["message"]
    assert "conversations" in missing.json()["message"] or "test" in missing.json()["message"]


def test_a_trainer_that_stops_reporting_leaves_its_training_failed(
    client: TestClient, auth: dict, supervisor: dict, agent: dict, clock: FixedClock
) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    clock.advance(seconds=179)
    assert client.get(f"/api/v1/models/{job.model_id}", headers=agent).json()["status"] == "training"
    clock.advance(seconds=2)
    row = client.get(f"/api/v1/models/{job.model_id}", headers=agent).json()
    assert row["status"] == "failed" and "180 秒没有报告进度" in row["error"]
    assert client.post("/api/v1/models", headers=supervisor).status_code == 201


def test_a_trainer_that_exits_without_saying_so_leaves_its_training_failed(
    client: TestClient, auth: dict, supervisor: dict, agent: dict, clock: FixedClock
) -> None:
    approve_some(client, auth, supervisor)
    app = client.app  # type: ignore[attr-defined]
    # a "Python" that exits at once with code 3
    real = LocalTrainer(
        app.state.settings.model_copy(update={"bot_python": sys.executable}), app.state.session_factory, clock
    )
    real.command = lambda job_file: [sys.executable, "-c", "import sys; sys.exit(3)"]  # type: ignore[method-assign]
    app.state.model_trainer = real
    started = client.post("/api/v1/models", headers=supervisor)
    assert started.status_code == 201
    model_id = started.json()["id"]
    real.watchers[model_id].join(timeout=30)
    row = client.get(f"/api/v1/models/{model_id}", headers=agent).json()
    assert row["status"] == "failed" and "退出码 3" in row["error"]
    job = yaml.safe_load((Path(app.state.settings.bot_models_dir) / str(model_id) / "job.json").read_text())
    assert job["running_file"].endswith(f"{BASE}.tar.gz")


# --- rollout and rollback ---------------------------------------------------------------------------


def test_a_candidate_less_accurate_than_the_model_in_force_is_refused(
    make_models_client: Callable[..., TestClient], auth: dict, supervisor: dict, staff: Callable[[str], dict]
) -> None:
    strict = make_models_client(model_rollout_margin=0.01)
    approve_some(strict, auth, supervisor)
    job = train(strict, supervisor)
    # 6 fewer right of 290: 2.1 points lower, over the margin of 1 point
    finish(strict, auth, job, figures(top1=267))
    refused = strict.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "新样本"}, headers=supervisor)
    assert refused.status_code == 409 and refused.json()["code"] == "rollout_refused"
    assert "测试集准确率 92.1%，低于在用模型的 94.1%" in refused.json()["message"]
    assert models(strict, supervisor)["items"][0]["refusals"]
    # a wider margin lets the same candidate through
    lenient = make_models_client(model_rollout_margin=0.03)
    assert (
        lenient.post(
            f"/api/v1/models/{job.model_id}/activate", json={"reason": "新样本"}, headers=supervisor
        ).status_code
        == 200
    )


def test_a_candidate_more_often_confidently_wrong_is_refused(client: TestClient, auth: dict, supervisor: dict) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    # as accurate, but 12 wrong of 264 answered (4.5 %) against 6 (2.3 %)
    finish(client, auth, job, figures(wrong=12))
    refused = client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "新样本"}, headers=supervisor)
    assert refused.status_code == 409 and "答错率（已回答中）4.5%，高于在用模型的 2.3%" in refused.json()["message"]


def test_a_candidate_that_fails_a_conversation_test_is_refused(
    client: TestClient, auth: dict, supervisor: dict
) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    finish(client, auth, job, figures(top1=280, passed=39))
    refused = client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "新样本"}, headers=supervisor)
    assert refused.status_code == 409 and "对话测试通过 39/40，少于在用模型的 40/40" in refused.json()["message"]


def test_a_rollout_and_a_rollback_each_say_who_and_why(
    client: TestClient, auth: dict, supervisor: dict, agent: dict
) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    finish(client, auth, job, figures(top1=276))
    repository_id = models(client, agent)["active_id"]
    repository_etag = pull(client, auth).headers["ETag"]
    assert (
        client.post(
            f"/api/v1/models/{job.model_id}/activate", json={"reason": "x" * 501}, headers=supervisor
        ).status_code
        == 422
    )
    assert (
        client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "新样本"}, headers=agent).status_code
        == 403
    )
    rolled = client.post(
        f"/api/v1/models/{job.model_id}/activate", json={"reason": "新增12条审核样本"}, headers=supervisor
    )
    assert rolled.status_code == 200, rolled.text
    assert rolled.json() | {"at": None, "id": None} == {
        "id": None,
        "model_id": job.model_id,
        "previous_model_id": repository_id,
        "kind": "rollout",
        "reason": "新增12条审核样本",
        "by": rolled.json()["by"],
        "at": None,
    }
    # every Rasa process gets the candidate at its next pull
    served = pull(client, auth, running=repository_etag)
    assert served.status_code == 200 and served.content == f"candidate {job.model_id}".encode()
    assert served.headers["filename"] == f"candidate-{job.model_id}.tar.gz"
    listed = models(client, agent)
    assert listed["active_id"] == job.model_id and listed["previous_id"] == repository_id
    again = client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "再来"}, headers=supervisor)
    assert again.status_code == 409 and "已经在用" in again.json()["message"]
    # one step back, with no check: it was in force before
    back = client.post(
        f"/api/v1/models/{repository_id}/activate", json={"reason": "居民反映答非所问"}, headers=supervisor
    )
    assert back.status_code == 200 and back.json()["kind"] == "rollback"
    assert pull(client, auth, running=served.headers["ETag"]).content == b"the repository's build"
    listed = models(client, agent)
    assert listed["active_id"] == repository_id and listed["previous_id"] == job.model_id
    assert [(r["kind"], r["reason"]) for r in listed["rollouts"]] == [
        ("rollback", "居民反映答非所问"),
        ("rollout", "新增12条审核样本"),
    ]
    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        kept = session.scalars(select(StaffAudit).where(StaffAudit.action.like("model_%"))).all()
        assert [(a.action, a.detail) for a in kept][-2:] == [
            ("model_rollout", "新增12条审核样本"),
            ("model_rollback", "居民反映答非所问"),
        ]
    # and forward again: the candidate was in force before, so it returns without a check
    forward = client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "问题已查清"}, headers=supervisor)
    assert forward.status_code == 200 and forward.json()["kind"] == "rollback"


def test_a_candidate_checked_against_another_model_is_refused(client: TestClient, auth: dict, supervisor: dict) -> None:
    approve_some(client, auth, supervisor)
    first = train(client, supervisor)
    finish(client, auth, first, figures(top1=276))
    approve(client, auth, supervisor, TRAINED[2], "ask_payment")
    second = train(client, supervisor)
    finish(client, auth, second, figures(top1=280))
    assert (
        client.post(
            f"/api/v1/models/{first.model_id}/activate", json={"reason": "先上"}, headers=supervisor
        ).status_code
        == 200
    )
    # the second was compared with the repository's build, which is no longer in force
    refused = client.post(f"/api/v1/models/{second.model_id}/activate", json={"reason": "更好"}, headers=supervisor)
    assert refused.status_code == 409 and f"现在在用的是 #{first.model_id}" in refused.json()["message"]


def test_two_supervisors_switching_at_once_cannot_both_win(
    client: TestClient, auth: dict, supervisor: dict, staff: Callable[[str], dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    finish(client, auth, job, figures(top1=276))
    other = staff("supervisor")
    both_looked = threading.Barrier(2, timeout=10)
    verdict = bot_models.verdict

    def slow_verdict(*args: Any) -> list[str]:
        found = verdict(*args)
        both_looked.wait()
        return found

    monkeypatch.setattr(bot_models, "verdict", slow_verdict)
    answers: list[int] = []

    def go(who: dict) -> None:
        answers.append(
            client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "上线"}, headers=who).status_code
        )

    threads = [threading.Thread(target=go, args=(who,)) for who in (supervisor, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    monkeypatch.setattr(bot_models, "verdict", verdict)
    assert len(models(client, supervisor)["rollouts"]) == 1


def test_a_new_repository_build_is_in_force_until_a_candidate_is_trained_on_it(
    make_models_client: Callable[..., TestClient], client: TestClient, auth: dict, supervisor: dict, tmp_path: Path
) -> None:
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    finish(client, auth, job, figures(top1=276))
    assert (
        client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "上线"}, headers=supervisor).status_code
        == 200
    )
    # a release brings new data/: its own build is served, and the older candidate cannot return
    newer = tmp_path / "models" / "fedcba9876543210.tar.gz"
    newer.write_bytes(b"the next release's build")
    released = make_models_client(bot_base_model=str(newer))
    assert pull(released, auth).content == b"the next release's build"
    refused = released.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "回到旧的"}, headers=supervisor)
    assert refused.status_code == 409 and "另一版仓库数据" in refused.json()["message"]


# --- the console's page ------------------------------------------------------------------------------


@pytest.fixture
def console(make_models_client: Callable[..., TestClient], client: TestClient) -> Callable[[str], Browser]:
    """A logged-in browser of a new member of staff, on the app with the fake trainer."""
    count = 0

    def open_as(role: str) -> Browser:
        nonlocal count
        count += 1
        add_staff_user(client, f"{role}{count}", role)
        browser = Browser(make_models_client())
        assert browser.login(f"{role}{count}").status_code == 303
        return browser

    return open_as


def test_a_new_model_reaches_the_rasa_processes_one_at_a_time(
    client: TestClient, auth: dict, supervisor: dict, agent: dict, clock: FixedClock
) -> None:
    """Loading a model stops a process for a few seconds: the second process keeps its model until the
    first comes back running the new one, or until the first has been silent for SWITCH_SECONDS."""
    repository = pull(client, auth, process="rasa-1").headers["ETag"]
    assert pull(client, auth, process="rasa-2").headers["ETag"] == repository
    approve_some(client, auth, supervisor)
    job = train(client, supervisor)
    finish(client, auth, job, figures(top1=276))
    assert client.post(f"/api/v1/models/{job.model_id}/activate", json={"reason": "新样本"}, headers=supervisor)
    first = pull(client, auth, running=repository, process="rasa-1")
    assert first.status_code == 200 and first.content == f"candidate {job.model_id}".encode()
    candidate = first.headers["ETag"]
    waits = pull(client, auth, running=repository, process="rasa-2")
    assert waits.status_code == 304 and waits.headers["ETag"] == repository  # keeps its model for now
    assert pull(client, auth, running=repository, process="rasa-1").status_code == 200  # still loading: again
    assert pull(client, auth, process="rasa-3").status_code == 200  # a process that has no model gets it
    processes = {p["process"]: p for p in models(client, agent)["processes"]}
    assert processes["rasa-2"]["given_model_id"] == processes["rasa-2"]["running_model_id"] != job.model_id
    assert pull(client, auth, running=candidate, process="rasa-1").status_code == 304  # switched
    assert pull(client, auth, running=candidate, process="rasa-3").status_code == 304
    second = pull(client, auth, running=repository, process="rasa-2")
    assert second.status_code == 200 and second.headers["ETag"] == candidate
    assert pull(client, auth, running=candidate, process="rasa-2").status_code == 304
    # back to the build: rasa-2 is given it and never runs it (it keeps asking with the candidate's
    # fingerprint, as a process that cannot load the model does); the others wait for it no longer than
    # SWITCH_SECONDS from when it was first given it
    back = client.post(
        f"/api/v1/models/{models(client, agent)['previous_id']}/activate", json={"reason": "回滚"}, headers=supervisor
    )
    assert back.status_code == 200
    assert pull(client, auth, running=candidate, process="rasa-2").headers["ETag"] == repository
    clock.advance(seconds=bot_models.SWITCH_SECONDS - 1)
    assert pull(client, auth, running=candidate, process="rasa-2").headers["ETag"] == repository  # again
    assert pull(client, auth, running=candidate, process="rasa-1").status_code == 304
    clock.advance(seconds=2)
    late = pull(client, auth, running=candidate, process="rasa-1")
    assert late.status_code == 200 and late.headers["ETag"] == repository


def test_the_console_trains_compares_rolls_out_and_back(
    console: Callable[[str], Browser], auth: dict, supervisor: dict
) -> None:
    desk = console("supervisor")
    approve_some(desk.client, auth, supervisor)
    page = desk.get("/console/models")
    assert page.status_code == 200 and "在用模型" in page.text and "仓库模型" in page.text
    assert "训练新模型" in page.text and "还没有上线过候选模型" in page.text
    training = desk.post("/console/models/train")
    assert training.status_code == 200, training.text
    assert "训练中" in training.text and 'hx-trigger="every 3s"' in training.text and "disabled" in training.text
    job = trainer_of(desk.client).jobs[-1]
    finish(desk.client, auth, job, figures(top1=276, wrong=5))
    ready = desk.get("/console/models/panel").text
    assert 'hx-trigger="every 3s"' not in ready
    assert f"候选 #{job.model_id}" in ready and "在用 #1（同次运行）" in ready
    assert "<td>测试集（290 条）准确率（最佳意图）</td><td>95.2%</td><td>94.1%</td>" in " ".join(ready.split())
    assert "<td>对话测试通过</td><td>40/40</td><td>40/40</td>" in " ".join(ready.split())
    assert f"上线 #{job.model_id}" in ready
    assert desk.post(f"/console/models/{job.model_id}/activate", {"reason": ""}).status_code == 422
    repository = pull(desk.client, auth, process="rasa-1").headers["ETag"]
    pull(desk.client, auth, process="rasa-2")
    rolled = desk.post(f"/console/models/{job.model_id}/activate", {"reason": "新增3条审核样本"})
    assert rolled.status_code == 200 and "新增3条审核样本" in rolled.text and "回滚到 #1" in rolled.text
    pull(desk.client, auth, running=repository, process="rasa-1")
    pull(desk.client, auth, running=repository, process="rasa-2")
    switching = " ".join(desk.get("/console/models/panel").text.split())
    assert f"rasa-1 · #1 → #{job.model_id} 加载中" in switching
    assert f"rasa-2 · #1 · 等其他进程换好再换 #{job.model_id}" in switching
    back = desk.post("/console/models/rollback", {"reason": "居民反映答非所问"})
    assert back.status_code == 200 and "居民反映答非所问" in back.text
    assert models(desk.client, supervisor)["active_id"] == 1
    learned = desk.get(f"/console/models/{job.model_id}/training-data")
    assert TRAINED[0] in learned.text and HELD_OUT[0] in learned.text


def test_the_console_says_why_a_candidate_cannot_go_out(
    console: Callable[[str], Browser], auth: dict, supervisor: dict
) -> None:
    desk = console("supervisor")
    approve_some(desk.client, auth, supervisor)
    desk.post("/console/models/train")
    job = trainer_of(desk.client).jobs[-1]
    finish(desk.client, auth, job, figures(top1=260))
    page = desk.get("/console/models").text
    assert "不能上线：测试集准确率 89.7%，低于在用模型的 94.1%" in page and f"上线 #{job.model_id}</button>" not in page


def test_agents_see_the_models_but_neither_train_nor_roll_out(
    console: Callable[[str], Browser], auth: dict, supervisor: dict
) -> None:
    desk = console("agent")
    approve_some(desk.client, auth, supervisor)
    page = desk.get("/console/models")
    assert page.status_code == 200 and "训练新模型" not in page.text
    refused = desk.post("/console/models/train")
    assert refused.status_code == 403 and "无权" in refused.text
    assert trainer_of(desk.client).jobs == []
    assert desk.post("/console/models/rollback", {"reason": "试试"}).status_code == 403
