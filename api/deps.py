"""Dependencies shared by the JSON API's routes and the console's pages, typed: the session, the clock, the
use-case context, and what the app keeps for the whole process (settings, the operator file, the bot's
client, the trainer). Nothing else reads ``app.state``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from api.models import WorkOrder
from api.schemas import MAX_ID
from api.services.outbound import BotClient
from api.services.trainer import Trainer
from api.services.work_orders import Context, get_work_order
from api.settings import Settings
from heating_standard.operator import OperatorFile


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.session_factory() as session:
        yield session


def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests install a fixed one)."""
    now: datetime = request.app.state.clock()
    return now


SessionDep = Annotated[Session, Depends(get_session)]
# A database id in a path: 1 to MAX_ID (2**31-1), so a larger number is a 422 and not a database overflow.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
NowDep = Annotated[datetime, Depends(get_now)]


def app_settings(request: Request) -> Settings:
    """The process's settings."""
    settings: Settings = request.app.state.settings
    return settings


def operator_file(request: Request) -> OperatorFile:
    """The operator file read at the start (seasons, calendar corrections, promises)."""
    config: OperatorFile = request.app.state.operator_config
    return config


def bot_client(request: Request) -> BotClient:
    """The client of the Rasa server (the conversation side's HTTP API)."""
    bot: BotClient = request.app.state.bot
    return bot


def model_trainer(request: Request) -> Trainer | None:
    """The trainer of candidate models, None where training is off."""
    trainer: Trainer | None = request.app.state.model_trainer
    return trainer


SettingsDep = Annotated[Settings, Depends(app_settings)]
OperatorDep = Annotated[OperatorFile, Depends(operator_file)]
BotDep = Annotated[BotClient, Depends(bot_client)]
TrainerDep = Annotated["Trainer | None", Depends(model_trainer)]


def get_context(settings: SettingsDep, config: OperatorDep, now: NowDep) -> Context:
    return Context(
        now=now,
        config=config,
        backdate_window=timedelta(minutes=settings.backdate_window_minutes),
        supervisor_backdate_limit=timedelta(hours=settings.supervisor_backdate_hours),
        filed_number_check=timedelta(seconds=settings.filed_number_check_seconds),
    )


ContextDep = Annotated[Context, Depends(get_context)]


def order_in_path(order_id: IdPath, session: SessionDep) -> WorkOrder:
    """The work order the path names, or 404 (after the route's own role check, which FastAPI runs first)."""
    return get_work_order(session, order_id)


OrderDep = Annotated[WorkOrder, Depends(order_in_path)]
