"""The bot's models (模型): the model in force and what each Rasa process runs; the latest candidate's
figures beside those of the model it was checked against, in one run; 训练新模型, 上线 with a reason and
回滚 for supervisors; every model and every rollout. Details: docs/bot.md, "Training, checking, rolling
out"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, PlainTextResponse

from api.console.pages import Desk, DeskDep, WritingDeskDep, validated
from api.deps import IdPath
from api.errors import Conflict, Forbidden
from api.models import BotModel
from api.schemas import ActivateBody
from api.services import bot_models
from api.services.trainer import Trainer
from api.settings import ROOT, Settings

router = APIRouter()

SOURCES = {"repository": "仓库模型", "candidate": "候选模型"}
STATUSES = {"training": "训练中", "ready": "可用", "failed": "失败"}
KINDS = {"rollout": "上线", "rollback": "回滚"}
COUNTS = (
    ("approved", "审核通过"),
    ("trained", "训练用"),
    ("held_out", "留出检查"),
    ("excluded_test_equal", "与测试集相同而排除"),
    ("excluded_test_near", "与测试集相近而排除"),
    ("near_held_out", "与留出样本相近而不训练"),
)


@dataclass(frozen=True)
class Line:
    """One figure of the comparison: the candidate's, the model in force's, and whether it is worse."""

    label: str
    candidate: str
    running: str
    worse: bool


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def comparison(figures: dict[str, Any]) -> list[Line]:
    """The candidate beside the model in force, set by set, as a supervisor reads them."""
    mine, theirs = figures.get("candidate") or {}, figures.get("running") or {}
    lines: list[Line] = []
    for name, label in (("test", "测试集"), ("held_out", "留出的审核样本")):
        a, b = mine.get(name), theirs.get(name)
        if not a or not b:
            continue
        for what, key, whole, higher_is_better in (
            ("准确率（最佳意图）", "top1", "total", True),
            ("答错率（已回答中）", "wrong", "answered", False),
            ("澄清率", "clarified", "total", False),
        ):
            x, y = _share(a[key], a[whole]), _share(b[key], b[whole])
            lines.append(
                Line(
                    f"{label}（{a['total']:g} 条）{what}",
                    f"{x:.1%}",
                    f"{y:.1%}",
                    x < y if higher_is_better else x > y,
                )
            )
    # counts out of a total: fewer declined out-of-domain messages, or fewer conversations passed, is worse
    for name, words, counted in (
        ("out_of_domain", "域外消息拒答", "declined"),
        ("conversations", "对话测试通过", "passed"),
    ):
        a, b = mine.get(name), theirs.get(name)
        if a and b:
            lines.append(
                Line(
                    words,
                    f"{a[counted]:g}/{a['total']:g}",
                    f"{b[counted]:g}/{b['total']:g}",
                    a[counted] < b[counted],
                )
            )
    return lines


def _settings(desk: Desk) -> Settings:
    settings: Settings = desk.settings
    return settings


def _page(desk: Desk) -> dict[str, Any]:
    session, settings = desk.session, _settings(desk)
    bot_models.fail_stale(session, settings, desk.now)
    in_force = bot_models.active(session, settings, desk.now)
    models = bot_models.listing(session)
    latest = next((m for m in models if m.source == "candidate"), None)
    by_id = {m.id: m for m in models}
    return {
        "in_force": in_force,
        "models": models,
        "by_id": by_id,
        "latest": latest,
        "lines": comparison(latest.figures) if latest and latest.status == "ready" else [],
        "refusals": bot_models.verdict(session, settings, latest, in_force) if latest else [],
        "previous": bot_models.previous(session, settings, desk.now),
        "rollouts": bot_models.rollouts(session),
        "pulls": bot_models.pulls(session),
        "training": any(m.status == "training" for m in models),
        "margin": settings.model_rollout_margin,
        "fingerprint_model": bot_models.fingerprint_model,
        "SOURCES": SOURCES,
        "STATUSES": STATUSES,
        "KINDS": KINDS,
        "COUNTS": COUNTS,
    }


def _supervisor(desk: Desk) -> None:
    if not desk.principal.may_approve:
        raise Forbidden("training and rolling out models are a supervisor's")


@router.get("/models", response_class=HTMLResponse)
def models_page(desk: DeskDep) -> HTMLResponse:
    return desk.render("models.html", **_page(desk))


@router.get("/models/panel", response_class=HTMLResponse)
def panel(desk: DeskDep) -> HTMLResponse:
    """The page's body, polled while a candidate trains."""
    return desk.render("_models.html", **_page(desk))


@router.post("/models/train", response_class=HTMLResponse)
def train(desk: WritingDeskDep) -> HTMLResponse:
    _supervisor(desk)
    trainer: Trainer | None = desk.trainer
    if trainer is None:
        raise Conflict("本环境没有启用模型训练（MODEL_TRAINER_ENABLED）", code="trainer_disabled")
    trainer.start(bot_models.start_training(desk.session, _settings(desk), desk.principal, desk.now, ROOT))
    return desk.render("_models.html", **_page(desk))


@router.post("/models/rollback", response_class=HTMLResponse)
def rollback(desk: WritingDeskDep) -> HTMLResponse:
    """Back to the model the latest rollout replaced, in one step."""
    _supervisor(desk)
    body = validated(ActivateBody, {"reason": desk.form.get("reason", "")})
    back = bot_models.previous(desk.session, _settings(desk), desk.now)
    if back is None:
        raise Conflict("没有可以回滚到的模型：还没有上线过候选模型")
    bot_models.activate(desk.session, _settings(desk), back.id, desk.principal, body.reason, desk.now)
    return desk.render("_models.html", **_page(desk))


@router.post("/models/{model_id}/activate", response_class=HTMLResponse)
def activate(model_id: IdPath, desk: WritingDeskDep) -> HTMLResponse:
    _supervisor(desk)
    body = validated(ActivateBody, {"reason": desk.form.get("reason", "")})
    bot_models.activate(desk.session, _settings(desk), model_id, desk.principal, body.reason, desk.now)
    return desk.render("_models.html", **_page(desk))


@router.get("/models/{model_id}/training-data", response_class=PlainTextResponse)
def training_data(model_id: IdPath, desk: DeskDep) -> PlainTextResponse:
    """What a candidate learned besides data/, and what it was checked on (Rasa NLU YAML)."""
    model: BotModel = bot_models.get(desk.session, model_id)
    text = (
        model.training_data + "\n" + model.held_out_data
        if model.source == "candidate"
        else "仓库模型：只用 data/ 训练\n"
    )
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")
