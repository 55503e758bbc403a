"""Call-backs under /api/v1 (10.1.6): the tasks, and the WeChat survey a supervisor sends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import STAFF, SUPERVISORS, PrincipalDep
from api.deps import BotDep, IdPath, NowDep, SessionDep
from api.schemas import (
    CallbackTaskList,
    CallbackTaskPublic,
)
from api.services import callbacks

router = APIRouter()


@router.get("/callbacks", response_model=CallbackTaskList, tags=["call-backs"], dependencies=[STAFF])
def list_callbacks(
    session: SessionDep,
    now: NowDep,
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|overdue|done)$")] = None,
) -> CallbackTaskList:
    items, total = callbacks.list_callbacks(session, status_, now)
    return CallbackTaskList(items=[CallbackTaskPublic.model_validate(t) for t in items], total=total)


@router.post(
    "/callbacks/{task_id}/survey", response_model=CallbackTaskPublic, tags=["call-backs"], dependencies=[SUPERVISORS]
)
def send_survey(
    task_id: IdPath, bot: BotDep, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> CallbackTaskPublic:
    """The bot asks the resident for process and result satisfaction on WeChat (a supervisor decides)."""
    task = callbacks.send_survey(session, task_id, bot, now, principal.name)
    return CallbackTaskPublic.model_validate(task)
