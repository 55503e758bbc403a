"""The bot's models: the repository's build, candidates trained with the reviewed examples, the check of a
candidate against the model in force, rollout and rollback (docs/bot.md, "Training, checking, rolling
out").

- ``repository_build``: the model `make setup` trains from data/ (``BOT_BASE_MODEL``) has a row of its
  own, so that it is served before any candidate exists and can be returned to.
- ``start_training``: a supervisor (or `make retrain`) asks for a candidate. Its reviewed examples are
  the review queue's export at that moment, less one in ``MODEL_HELD_OUT_EVERY`` held out by a stable
  hash of the wording (to check it on), less any that is one of the untouched test sets' messages (they
  must never be trained on); both files are kept on the row. One training at a time (a unique slot).
- ``report``: the trainer (scripts/retrain.py, started by ``api.services.trainer.LocalTrainer``)
  reports its progress, then the figures of the candidate and of the model in force, measured in one run.
  A training that stops reporting is marked failed (``fail_stale``).
- ``activate``: a supervisor puts a model in force with a reason. A candidate never in force before must
  not be worse than the model in force on the untouched test set (accuracy, wrong answers among the
  answered; ``MODEL_ROLLOUT_MARGIN``) nor pass fewer conversation tests; a model that was in force
  before (a rollback) is always allowed. Each Rasa process pulls the model in force (``served``), one
  process at a time (``may_switch``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from api.db import insert_of
from api.errors import Conflict, NotFound, Unprocessable
from api.models import BotModel, BotModelPull, BotModelRollout
from api.services import audit, review
from api.services.principals import Principal
from api.settings import Settings
from api.views.wording import Example, examples_of, nearest
from heating_standard.localtime import LOCAL_TZ

SOURCES = ("repository", "candidate")
STATUSES = ("training", "ready", "failed")
# The untouched test sets (scripts/stack/'s NLU_TEST_SETS): no reviewed example that is one of their
# messages is ever trained on.
UNTOUCHED_SETS = ("tests/nlu/test.yml", "tests/nlu/test_wild.yml")
# What a candidate is checked on, in the order the console shows them.
CHECKED_SETS = ("test", "held_out", "out_of_domain", "conversations")
# The training time assumed for the first candidate's progress (a full training takes about 100 s on
# two cores; the trainer has one, and yields to the live bot).
FIRST_TRAINING_SECONDS = 180.0
CANDIDATE_FILE = "model.tar.gz"
# How long a Rasa process given a new model may take to come back running it before the next process
# gets it anyway (one that died while loading holds up the others no longer than this).
SWITCH_SECONDS = 120.0


# --- the reviewed examples a candidate is trained and checked on -----------------------------------


@lru_cache(maxsize=4)
def untouched_keys(root: Path) -> frozenset[str]:
    """The normalized messages of the untouched test sets (read once per process)."""
    keys: set[str] = set()
    for name in UNTOUCHED_SETS:
        keys.update(e.key for e in examples_of((root / name).read_text(encoding="utf-8")))
    return frozenset(keys)


def is_held_out(key: str, every: int) -> bool:
    """Whether a wording is held out of every candidate's training: the same answer for the same
    normalized wording, whoever trains and whenever (about one in ``every``)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % every == 0


def _near(key: str, others: Iterable[str]) -> bool:
    """Whether ``key`` is a near-duplicate of one of ``others``, as the review queue groups wordings
    (``api.views.wording.nearest``)."""
    return nearest(key, ((0, other) for other in others)) is not None


@dataclass
class TrainingSplit:
    """The reviewed examples of one candidate: trained on, held out to check it; and how many of the
    approved were left out and why."""

    trained: list[Example] = field(default_factory=list)
    held_out: list[Example] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def split_examples(examples: Sequence[Example], untouched: frozenset[str], every: int) -> TrainingSplit:
    """Split the approved examples: one that is a message of the untouched test sets (the same once
    normalized) is dropped, and so is a near-duplicate of one; one in ``every`` is held out by its hash;
    a near-duplicate of a held-out example is not trained on either (it would tell the candidate the
    answer it is checked on). The rest is trained on, each wording once."""
    split = TrainingSplit()
    equal = near_test = 0
    kept: list[Example] = []
    for example in examples:
        if example.key in untouched:
            equal += 1
        elif _near(example.key, untouched):
            near_test += 1
        else:
            kept.append(example)
    seen: set[str] = set()
    for example in kept:
        if example.key in seen:
            continue
        seen.add(example.key)
        (split.held_out if is_held_out(example.key, every) else split.trained).append(example)
    held_keys = [e.key for e in split.held_out]
    trained = [e for e in split.trained if not _near(e.key, held_keys)]
    split.counts = {
        "approved": len(examples),
        "trained": len(trained),
        "held_out": len(split.held_out),
        "excluded_test_equal": equal,
        "excluded_test_near": near_test,
        "near_held_out": len(split.trained) - len(trained),
        "repeated": len(kept) - len(seen),
    }
    split.trained = trained
    return split


def nlu_yaml(examples: Sequence[Example], header: str) -> str:
    """Examples as Rasa NLU training data, one block per intent, with a comment header."""
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example.line)
    out = ["".join(f"# {line}\n" for line in header.splitlines()), 'version: "3.1"\n', "nlu:\n"]
    for intent in sorted(by_intent):
        out.append(f"- intent: {intent}\n  examples: |\n")
        out.extend(f"    - {line}\n" for line in by_intent[intent])
    return "".join(out)


# --- the repository's build, and the model in force ------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def repository_build(session: Session, settings: Settings, now: datetime) -> BotModel | None:
    """The row of the repository's build in use (``BOT_BASE_MODEL``), made the first time it is seen;
    None without one (the model was never built: `make setup`)."""
    if not settings.bot_base_model:
        return None
    path = Path(settings.bot_base_model).resolve()
    digest = path.name.removesuffix(".tar.gz")
    known = session.scalars(select(BotModel).where(BotModel.repository_digest == digest)).first()
    if known is not None:
        return known
    if not path.exists():
        return None
    made = (
        insert_of(session)(BotModel)
        .values(
            source="repository",
            status="ready",
            base_digest=digest,
            repository_digest=digest,
            file=str(path),
            sha256=_sha256(path),
            progress="仓库模型（make setup 由 data/ 训练）",
            percent=100,
            counts={},
            training_data="",
            held_out_data="",
            figures={},
            created_by="make setup",
            created_at=now,
            updated_at=now,
            finished_at=now,
        )
        .on_conflict_do_nothing(index_elements=["repository_digest"])
    )
    session.execute(made)
    session.commit()
    return session.scalars(select(BotModel).where(BotModel.repository_digest == digest)).one()


def latest_rollout(session: Session, base_digest: str | None = None) -> BotModelRollout | None:
    """The latest rollout (of models trained on ``base_digest``'s repository, when given)."""
    query = select(BotModelRollout).order_by(BotModelRollout.id.desc()).limit(1)
    if base_digest is not None:
        query = query.join(BotModel, BotModel.id == BotModelRollout.model_id).where(BotModel.base_digest == base_digest)
    return session.scalars(query).first()


def active(session: Session, settings: Settings, now: datetime) -> BotModel | None:
    """The model in force: the latest rolled out of those trained on the repository's build in use, else
    that build itself (a release with new data/ or domain.yml runs its own build until a candidate is
    trained on it)."""
    base = repository_build(session, settings, now)
    if base is None:
        return None
    rollout = latest_rollout(session, base.base_digest)
    if rollout is None:
        return base
    return session.get(BotModel, rollout.model_id) or base


def in_force_at(session: Session, moment: datetime) -> BotModel | None:
    """The model that was in force at ``moment``, as ``active`` decided then: of the events before it, the
    latest of a repository build first served (a release runs its own build) and a rollout (or
    rollback). None before any model was served."""
    build = session.scalars(
        select(BotModel)
        .where(BotModel.source == "repository", BotModel.created_at <= moment)
        .order_by(BotModel.created_at.desc(), BotModel.id.desc())
        .limit(1)
    ).first()
    rollout = session.scalars(
        select(BotModelRollout)
        .where(BotModelRollout.at <= moment)
        .order_by(BotModelRollout.at.desc(), BotModelRollout.id.desc())
        .limit(1)
    ).first()
    if rollout is not None and (build is None or rollout.at >= build.created_at):
        return session.get(BotModel, rollout.model_id)
    return build


def get(session: Session, model_id: int) -> BotModel:
    found = session.get(BotModel, model_id)
    if found is None:
        raise NotFound(f"model {model_id} does not exist")
    return found


def model_path(model: BotModel, settings: Settings) -> Path | None:
    """Where the model's archive is (None while it has none)."""
    if not model.file:
        return None
    path = Path(model.file)
    return path if path.is_absolute() else Path(settings.bot_models_dir) / path


def candidate_directory(settings: Settings, model_id: int) -> Path:
    """The folder of one candidate: its model, what it learned (training.yml), what it was checked on."""
    return Path(settings.bot_models_dir) / str(model_id)


# --- training ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingJob:
    """What the trainer needs: where to work, the reviewed examples, and the model to check against."""

    model_id: int
    directory: Path
    training_data: str
    held_out_data: str
    running_id: int
    running_file: Path
    expected_seconds: float


def fail_stale(session: Session, settings: Settings, now: datetime) -> int:
    """Mark failed every training whose trainer has not reported for MODEL_TRAINING_STALE_SECONDS (it
    died, or the machine restarted): the slot is free again. Returns how many."""
    limit = settings.model_training_stale_seconds
    before = now - timedelta(seconds=limit)
    # looked for first: the console and `make retrain` ask every few seconds, and an UPDATE would take
    # SQLite's write lock each time
    if (
        session.scalars(select(BotModel.id).where(BotModel.status == "training", BotModel.updated_at < before)).first()
        is None
    ):
        return 0
    stale = session.execute(
        update(BotModel)
        .where(BotModel.status == "training", BotModel.updated_at < before)
        .values(
            status="failed",
            training_slot=None,
            error=f"训练进程已有 {limit:.0f} 秒没有报告进度，判定为中断",
            progress="已中断",
            updated_at=now,
            finished_at=now,
        )
        .returning(BotModel.id)
    ).all()
    session.commit()
    return len(stale)


def fail_if_training(session: Session, model_id: int, error: str, now: datetime) -> bool:
    """Mark a training failed unless it finished (its trainer exited without saying so)."""
    changed = session.execute(
        update(BotModel)
        .where(BotModel.id == model_id, BotModel.status == "training")
        .values(
            status="failed", training_slot=None, error=error[:2000], progress="失败", updated_at=now, finished_at=now
        )
        .returning(BotModel.id)
    ).first()
    session.commit()
    return changed is not None


def _ready_to_train(session: Session, settings: Settings, now: datetime) -> tuple[BotModel, BotModel, Path]:
    """The repository's build, the model in force and its file; refused without a build, or while a
    candidate is training."""
    base = repository_build(session, settings, now)
    running = active(session, settings, now)
    running_file = model_path(running, settings) if running else None
    if base is None or running is None or running_file is None:
        raise Conflict("没有可用的仓库模型（BOT_BASE_MODEL）：先运行 make setup", code="no_base_model")
    busy = session.scalars(select(BotModel.id).where(BotModel.status == "training")).first()
    if busy is not None:
        raise Conflict(f"模型 #{busy} 正在训练，请等它完成后再训练", code="training_in_progress")
    return base, running, running_file


def _training_data_note(counts: dict[str, int], stamp: str, held_out_every: int) -> str:
    """The comment heading a candidate's reviewed examples: what was trained on, held out and left out."""
    return (
        f"The reviewed examples this candidate was trained on, besides data/ (exported {stamp} Beijing time).\n"
        f"Approved {counts['approved']}; trained {counts['trained']}; held out {counts['held_out']} (one in "
        f"{held_out_every} by the wording's hash; {counts['near_held_out']} near-duplicates of those\n"
        "not trained on either);\n"
        f"left out as messages of the untouched test sets: {counts['excluded_test_equal']} equal, "
        f"{counts['excluded_test_near']} near-duplicates."
    )


def start_training(
    session: Session, settings: Settings, principal: Principal, now: datetime, root: Path
) -> TrainingJob:
    """A candidate from the repository's data and the approved reviewed examples; one at a time."""
    fail_stale(session, settings, now)
    base, running, running_file = _ready_to_train(session, settings, now)
    split = split_examples(
        examples_of(review.export(session, now)), untouched_keys(root), settings.model_held_out_every
    )
    counts = split.counts
    if not split.trained:
        raise Conflict(
            f"没有可训练的新样本：审核通过 {counts['approved']} 条，留出检查 {counts['held_out']} 条，"
            f"与测试集相同或相近而排除 {counts['excluded_test_equal'] + counts['excluded_test_near']} 条",
            code="nothing_to_train",
        )
    stamp = now.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    trained_yaml = nlu_yaml(split.trained, _training_data_note(counts, stamp, settings.model_held_out_every))
    held_yaml = nlu_yaml(split.held_out, f"Reviewed examples held out of training to check the candidate ({stamp}).")
    last = session.scalars(
        select(BotModel.training_seconds)
        .where(BotModel.source == "candidate", BotModel.training_seconds.is_not(None))
        .order_by(BotModel.id.desc())
    ).first()
    model = BotModel(
        source="candidate",
        status="training",
        base_digest=base.base_digest,
        training_slot=1,
        progress="等待训练进程启动",
        percent=0,
        counts=counts,
        training_data=trained_yaml,
        held_out_data=held_yaml,
        figures={},
        compared_with_id=running.id,
        created_by=principal.name,
        created_at=now,
        updated_at=now,
    )
    session.add(model)
    try:
        session.flush()
    except IntegrityError:  # another request took the slot between the look above and this insert
        session.rollback()
        raise Conflict("已有模型正在训练，请等它完成后再训练", code="training_in_progress") from None
    audit.record(session, now, principal.name, "model_train", f"bot_model:{model.id}", f"compared with #{running.id}")
    session.commit()
    return TrainingJob(
        model_id=model.id,
        directory=candidate_directory(settings, model.id),
        training_data=trained_yaml,
        held_out_data=held_yaml,
        running_id=running.id,
        running_file=running_file,
        expected_seconds=float(last or FIRST_TRAINING_SECONDS),
    )


@dataclass(frozen=True)
class Report:
    """What the trainer says: progress while training, then ready (with figures) or failed."""

    status: str
    progress: str
    percent: int
    figures: dict[str, Any] | None = None
    training_seconds: float | None = None
    error: str | None = None


def report(session: Session, settings: Settings, model_id: int, said: Report, now: datetime) -> BotModel:
    """Record the trainer's report on a model still training; a finished or abandoned one refuses it."""
    model = get(session, model_id)
    values: dict[str, Any] = {"progress": said.progress[:255], "percent": said.percent, "updated_at": now}
    if said.status == "ready":
        path = candidate_directory(settings, model_id) / CANDIDATE_FILE
        if not path.exists():
            raise Unprocessable("status", f"the trained model is not at {path}")
        missing = [
            name
            for name in CHECKED_SETS
            for side in ("candidate", "running")
            if name not in (said.figures or {}).get(side, {})
        ]
        if missing:
            raise Unprocessable("figures", f"figures missing: {', '.join(sorted(set(missing)))}")
        values.update(
            status="ready",
            training_slot=None,
            file=f"{model_id}/{CANDIDATE_FILE}",
            sha256=_sha256(path),
            figures=said.figures,
            training_seconds=said.training_seconds,
            percent=100,
            finished_at=now,
        )
    elif said.status == "failed":
        values.update(status="failed", training_slot=None, error=(said.error or "训练失败")[:2000], finished_at=now)
    changed = session.execute(
        update(BotModel)
        .where(BotModel.id == model_id, BotModel.status == "training")
        .values(**values)
        .returning(BotModel.id)
    ).first()
    if not changed:
        session.rollback()
        raise Conflict(f"model {model_id} is not training (it is {model.status})", code="not_training")
    session.commit()
    session.refresh(model)
    return model


# --- checking and rolling out ------------------------------------------------------------------------


def _share(figures: dict[str, Any], numerator: str, denominator: str) -> float:
    total = float(figures.get(denominator) or 0)
    return float(figures.get(numerator) or 0) / total if total else 0.0


def accuracy(figures: dict[str, Any]) -> float:
    """Top-1 accuracy: the best intent is the one marked (before the fallback)."""
    return _share(figures, "top1", "total")


def wrong_among_answered(figures: dict[str, Any]) -> float:
    """Wrong answers among the messages answered, through the fallback (the confident-wrong rate)."""
    return _share(figures, "wrong", "answered")


def refusals(model: BotModel, in_force: BotModel, margin: float) -> list[str]:
    """Why a candidate may not replace the model in force (none: it may): it was not checked against
    that model, or on the untouched test set it is less accurate or more often wrong among the answered
    by more than ``margin``, or it passes fewer conversation tests."""
    if model.compared_with_id != in_force.id:
        return [f"它是与 #{model.compared_with_id} 比较的，而现在在用的是 #{in_force.id}：请重新训练，比较后再上线"]
    figures = model.figures or {}
    mine, theirs = figures.get("candidate") or {}, figures.get("running") or {}
    if "test" not in mine or "test" not in theirs:
        return ["没有与在用模型比较的检查结果"]
    found = []
    a, b = accuracy(mine["test"]), accuracy(theirs["test"])
    if a < b - margin - 1e-9:
        found.append(f"测试集准确率 {a:.1%}，低于在用模型的 {b:.1%}（允许差 {margin:.1%}）")
    a, b = wrong_among_answered(mine["test"]), wrong_among_answered(theirs["test"])
    if a > b + margin + 1e-9:
        found.append(f"测试集答错率（已回答中）{a:.1%}，高于在用模型的 {b:.1%}（允许差 {margin:.1%}）")
    mine_talks, their_talks = mine.get("conversations") or {}, theirs.get("conversations") or {}
    if int(mine_talks.get("passed", 0)) < int(their_talks.get("passed", 0)):
        found.append(
            f"对话测试通过 {mine_talks.get('passed', 0)}/{mine_talks.get('total', 0)}，"
            f"少于在用模型的 {their_talks.get('passed', 0)}/{their_talks.get('total', 0)}"
        )
    return found


def was_in_force(session: Session, model: BotModel) -> bool:
    """A repository build, or a model rolled out before: going back to it needs no check."""
    if model.source == "repository":
        return True
    return session.scalars(select(BotModelRollout.id).where(BotModelRollout.model_id == model.id)).first() is not None


def verdict(session: Session, settings: Settings, model: BotModel, in_force: BotModel | None) -> list[str]:
    """Why ``model`` cannot be put in force now (none: it can)."""
    if model.status != "ready":
        return ["只有训练完成的模型可以上线"]
    if in_force is None:
        return ["没有可用的仓库模型（BOT_BASE_MODEL）"]
    if model.id == in_force.id:
        return ["它已经在用"]
    if model.base_digest != in_force.base_digest:
        return ["它是在另一版仓库数据上训练的：请在当前版本上重新训练"]
    if was_in_force(session, model):
        return []
    return refusals(model, in_force, settings.model_rollout_margin)


def activate(
    session: Session, settings: Settings, model_id: int, principal: Principal, reason: str, now: datetime
) -> BotModelRollout:
    """Put a model in force, with a reason; the Rasa processes load it at their next pull. A candidate
    never in force must pass the check (``refusals``); a model in force before may always return."""
    model = get(session, model_id)
    in_force = active(session, settings, now)
    refused = verdict(session, settings, model, in_force)
    if refused:
        raise Conflict("不能上线：" + "；".join(refused), code="rollout_refused")
    assert in_force is not None
    latest = latest_rollout(session)
    rollout = BotModelRollout(
        model_id=model.id,
        previous_model_id=in_force.id,
        follows=latest.id if latest else 0,
        kind="rollback" if was_in_force(session, model) else "rollout",
        reason=reason,
        by=principal.name,
        at=now,
    )
    session.add(rollout)
    try:
        session.flush()
    except IntegrityError:  # another supervisor switched models since this one looked
        session.rollback()
        raise Conflict("另一位班长刚刚切换了模型，请刷新后再决定", code="rollout_raced") from None
    audit.record(session, now, principal.name, f"model_{rollout.kind}", f"bot_model:{model.id}", reason[:500])
    session.commit()
    return rollout


def previous(session: Session, settings: Settings, now: datetime) -> BotModel | None:
    """The model a rollback returns to: the one the latest rollout replaced (of the build in use)."""
    base = repository_build(session, settings, now)
    rollout = latest_rollout(session, base.base_digest) if base else None
    if rollout is None or rollout.previous_model_id is None:
        return None
    return session.get(BotModel, rollout.previous_model_id)


# --- serving the model to the Rasa processes ----------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """The model in force as the Rasa processes pull it: the archive, its fingerprint, its file name
    (which Rasa's /status shows as ``model_file``)."""

    model_id: int
    path: Path
    etag: str
    filename: str


def served(session: Session, settings: Settings, now: datetime) -> Served | None:
    """The model every Rasa process should run, or None when there is none to serve."""
    model = active(session, settings, now)
    if model is None or not model.sha256:
        return None
    path = model_path(model, settings)
    if path is None or not path.exists():
        return None
    name = path.name if model.source == "repository" else f"candidate-{model.id}.tar.gz"
    return Served(model.id, path, f"{model.id}-{model.sha256[:16]}", name)


def may_switch(session: Session, process: str, running: str, found: Served, now: datetime) -> bool:
    """Whether the Rasa process ``process`` (running the model fingerprinted ``running``) may be given the
    model in force now. One process switches at a time: loading a model stops a process for a few
    seconds, during which the balancer's health check fails it, and two processes switching at the same
    beat left residents with no process to answer them. A process switches from when it is given the
    model until it asks again running it; one that never does (it died while loading, or keeps failing
    to load the model) holds up the others for ``SWITCH_SECONDS`` from when it was first given it. A
    process that runs no
    model from here (it just started, or runs the repository's build from disk) is given it at once.

    The model's row is locked while the decision is made and recorded (``record_pull`` commits), so
    two processes asking at the same moment are decided one after the other (PostgreSQL; the embedded
    SQLite layout runs one Rasa process)."""
    if fingerprint_model(running) is None:
        return True
    session.execute(select(BotModel.id).where(BotModel.id == found.model_id).with_for_update())
    since = now - timedelta(seconds=SWITCH_SECONDS)
    switching = select(BotModelPull.process).where(
        BotModelPull.process != process,
        BotModelPull.served == found.etag,
        BotModelPull.running != found.etag,
        BotModelPull.given_at > since,
    )
    return session.execute(switching.limit(1)).first() is None


def fingerprint_model(fingerprint: str | None) -> int | None:
    """The model a fingerprint names ("12-…" is model 12), or None (a process that has none yet)."""
    head = (fingerprint or "").strip('W/"').partition("-")[0]
    return int(head) if head.isdigit() else None


def record_pull(session: Session, process: str, running: str, given: str, now: datetime) -> None:
    """Remember what a Rasa process runs and what it was given (one row per process), and since when it
    has been given that (``given_at`` changes only when what it is given changes)."""
    values = {"running": running[:64], "served": given[:64], "pulled_at": now}
    inserted = insert_of(session)(BotModelPull).values(process=process[:64], given_at=now, **values)
    since = case(
        (BotModelPull.served == inserted.excluded.served, BotModelPull.given_at), else_=inserted.excluded.given_at
    )
    statement = inserted.on_conflict_do_update(index_elements=["process"], set_={**values, "given_at": since})
    session.execute(statement)
    session.commit()


# --- listing -----------------------------------------------------------------------------------------


def listing(session: Session) -> list[BotModel]:
    """Every model, newest first (what each candidate learned is read only when asked for)."""
    query = select(BotModel).options(defer(BotModel.training_data), defer(BotModel.held_out_data))
    return list(session.scalars(query.order_by(BotModel.id.desc())))


def rollouts(session: Session) -> list[BotModelRollout]:
    """Every rollout and rollback, newest first."""
    return list(session.scalars(select(BotModelRollout).order_by(BotModelRollout.id.desc())))


def pulls(session: Session) -> list[BotModelPull]:
    return list(session.scalars(select(BotModelPull).order_by(BotModelPull.process)))
