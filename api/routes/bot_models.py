"""The bot's models over HTTP: the list with each model's figures, training a candidate, putting a model in
force (rollout or rollback), the trainer's reports, and the model file the Rasa processes pull (Rasa's
model server: endpoints.yml's ``models``). Details: docs/bot.md, "Training, checking, rolling out"."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from api.auth import MACHINE_ONLY, STAFF, SUPERVISORS, PrincipalDep, require_roles
from api.deps import IdPath, NowDep, SessionDep, SettingsDep, TrainerDep
from api.errors import Conflict, NotFound
from api.models import BotModel, BotModelPull, BotModelRollout
from api.schemas import ActivateBody, Strict, UtcDatetime
from api.services import bot_models
from api.services.principals import STAFF_ROLES, SUPERVISOR_ROLES, Role
from api.settings import ROOT, Settings

router = APIRouter(tags=["models"])
log = logging.getLogger(__name__)

ModelStatus = Literal["training", "ready", "failed"]


class RolloutPublic(BaseModel):
    id: int
    model_id: int
    previous_model_id: int | None
    kind: Literal["rollout", "rollback"]
    reason: str
    by: str
    at: UtcDatetime


class RasaProcessPublic(BaseModel):
    process: str = Field(description="the Rasa process's name (RASA_PROCESS)")
    running_model_id: int | None = Field(description="the model it runs (null: none loaded yet)")
    given_model_id: int | None = Field(description="the model it was last given")
    pulled_at: UtcDatetime


class BotModelPublic(BaseModel):
    id: int
    source: Literal["repository", "candidate"]
    status: ModelStatus
    active: bool = Field(description="the model in force, which every Rasa process loads")
    progress: str
    percent: int
    error: str | None
    created_by: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    finished_at: UtcDatetime | None
    training_seconds: float | None
    compared_with_id: int | None = Field(description="the model in force it was checked against")
    counts: dict[str, int] = Field(description="reviewed examples: approved, trained, held out, left out")
    figures: dict[str, dict[str, dict[str, int | float]]] = Field(
        description='{"candidate"|"running": {"test"|"held_out"|"out_of_domain"|"conversations": counts}}'
    )
    refusals: list[str] = Field(description="why it cannot be put in force now (empty: it can)")


class BotModelList(BaseModel):
    items: list[BotModelPublic]
    active_id: int | None
    previous_id: int | None = Field(description="the model a rollback returns to")
    margin: float = Field(description="MODEL_ROLLOUT_MARGIN")
    rollouts: list[RolloutPublic]
    processes: list[RasaProcessPublic]


class TrainingReport(Strict):
    """The trainer's report: progress while it trains, then ready with the figures, or failed."""

    status: ModelStatus
    progress: str = Field(min_length=1, max_length=255)
    percent: int = Field(ge=0, le=100)
    figures: dict[str, dict[str, dict[str, int | float]]] | None = None
    training_seconds: float | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    error: str | None = Field(default=None, max_length=2000)


def public(session: Session, settings: Settings, model: BotModel, in_force: BotModel | None) -> BotModelPublic:
    return BotModelPublic(
        id=model.id,
        source=model.source,  # type: ignore[arg-type]
        status=model.status,  # type: ignore[arg-type]
        active=in_force is not None and in_force.id == model.id,
        progress=model.progress,
        percent=model.percent,
        error=model.error,
        created_by=model.created_by,
        created_at=model.created_at,
        updated_at=model.updated_at,
        finished_at=model.finished_at,
        training_seconds=model.training_seconds,
        compared_with_id=model.compared_with_id,
        counts=model.counts,
        figures=model.figures,
        refusals=bot_models.verdict(session, settings, model, in_force),
    )


def rollout_public(rollout: BotModelRollout) -> RolloutPublic:
    return RolloutPublic.model_validate(rollout, from_attributes=True)


def process_public(pull: BotModelPull) -> RasaProcessPublic:
    return RasaProcessPublic(
        process=pull.process,
        running_model_id=bot_models.fingerprint_model(pull.running),
        given_model_id=bot_models.fingerprint_model(pull.served),
        pulled_at=pull.pulled_at,
    )


# --- routes ------------------------------------------------------------------------------------------


@router.get("/models", response_model=BotModelList, dependencies=[STAFF])
def list_models(settings: SettingsDep, session: SessionDep, now: NowDep) -> BotModelList:
    """Every model, newest first, with its figures and whether it is in force; the rollouts; what each
    Rasa process runs."""
    bot_models.fail_stale(session, settings, now)
    in_force = bot_models.active(session, settings, now)
    back = bot_models.previous(session, settings, now)
    return BotModelList(
        items=[public(session, settings, m, in_force) for m in bot_models.listing(session)],
        active_id=in_force.id if in_force else None,
        previous_id=back.id if back else None,
        margin=settings.model_rollout_margin,
        rollouts=[rollout_public(r) for r in bot_models.rollouts(session)],
        processes=[process_public(p) for p in bot_models.pulls(session)],
    )


@router.post(
    "/models",
    response_model=BotModelPublic,
    status_code=201,
    dependencies=[Depends(require_roles(*SUPERVISOR_ROLES, Role.MACHINE))],
)
def train(
    settings: SettingsDep, trainer: TrainerDep, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> BotModelPublic:
    """Train a candidate on the repository's data and the approved reviewed examples (a supervisor in the
    console; the machine token for `make retrain` on the server). One training at a time."""
    if trainer is None:
        raise Conflict("本环境没有启用模型训练（MODEL_TRAINER_ENABLED）", code="trainer_disabled")
    job = bot_models.start_training(session, settings, principal, now, ROOT)
    trainer.start(job)
    model = bot_models.get(session, job.model_id)
    session.refresh(model)
    return public(session, settings, model, bot_models.active(session, settings, now))


@router.get("/models/active/file", response_class=FileResponse, dependencies=[MACHINE_ONLY], responses={
    200: {"content": {"application/gzip": {}}, "description": "the model in force (Rasa's model server)"},
    304: {"description": "keep the model it runs (If-None-Match): in force, or another process is switching"},
})  # fmt: skip
def active_file(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    now: NowDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
    x_rasa_process: Annotated[str | None, Header(max_length=64)] = None,
) -> Response:
    """The model in force, for Rasa's model server pulls: ETag is its fingerprint, ``filename`` its name;
    304 when the process runs it already, or while another process is switching to it (one at a time:
    ``bot_models.may_switch``). Each pull records what the process runs and what it was given."""
    cache: dict[str, Any] = request.app.state.served_model
    try:
        found = bot_models.served(session, settings, now)
        if found is not None:
            cache["last"] = found
    except SQLAlchemyError as exc:
        # the database is down: the answer given last keeps a Rasa process that restarts on its model
        session.rollback()
        log.warning("the model in force could not be read (%s); serving the last one known", type(exc).__name__)
        found = cache.get("last")
    if found is None:  # Rasa takes a 404 as "no model yet" and asks again at its next pull
        raise NotFound("no model to serve: the repository's build is missing (run `make setup`)")
    running = (if_none_match or "").strip().strip('"')
    given = found.etag
    if x_rasa_process:
        try:
            if running != found.etag and not bot_models.may_switch(session, x_rasa_process, running, found, now):
                given = running  # another process is switching: this one keeps its model until then
            bot_models.record_pull(session, x_rasa_process, running, given, now)
        except SQLAlchemyError:
            session.rollback()
    if running == given:
        return Response(status_code=304, headers={"ETag": given})
    return FileResponse(
        found.path,
        media_type="application/gzip",
        headers={"ETag": found.etag, "filename": found.filename, "Cache-Control": "no-store"},
    )


@router.get(
    "/models/{model_id}",
    response_model=BotModelPublic,
    dependencies=[Depends(require_roles(*STAFF_ROLES, Role.MACHINE))],
)
def get_model(model_id: IdPath, settings: SettingsDep, session: SessionDep, now: NowDep) -> BotModelPublic:
    """One model, with its progress while it trains (`make retrain` follows it)."""
    bot_models.fail_stale(session, settings, now)
    model = bot_models.get(session, model_id)
    return public(session, settings, model, bot_models.active(session, settings, now))


@router.post("/models/{model_id}/activate", response_model=RolloutPublic, dependencies=[SUPERVISORS])
def activate(
    model_id: IdPath,
    body: ActivateBody,
    settings: SettingsDep,
    session: SessionDep,
    now: NowDep,
    principal: PrincipalDep,
) -> RolloutPublic:
    """Put a model in force (a rollout, or a rollback to one in force before), with a reason. A candidate
    worse than the model in force on the untouched test set is refused (409 ``rollout_refused``)."""
    rollout = bot_models.activate(session, settings, model_id, principal, body.reason, now)
    return rollout_public(rollout)


@router.post("/models/{model_id}/progress", response_model=BotModelPublic, dependencies=[MACHINE_ONLY])
def progress(
    model_id: IdPath, body: TrainingReport, settings: SettingsDep, session: SessionDep, now: NowDep
) -> BotModelPublic:
    """The trainer reports what it is doing, then the figures (ready) or the failure."""
    said = bot_models.Report(
        status=body.status,
        progress=body.progress,
        percent=body.percent,
        figures=body.figures,
        training_seconds=body.training_seconds,
        error=body.error,
    )
    model = bot_models.report(session, settings, model_id, said, now)
    return public(session, settings, model, bot_models.active(session, settings, now))
