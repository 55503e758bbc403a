"""Residents as remembered by openid, and grid workers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.auth import MACHINE_ONLY, STAFF_OR_MACHINE, SUPERVISORS, PrincipalDep
from api.deps import NowDep, SessionDep
from api.errors import ErrorBody
from api.schemas import GridWorkerBind, GridWorkerCreate, GridWorkerPublic, GridWorkerRegistered, ResidentPublic
from api.services import people

router = APIRouter(tags=["people"])

OpenidPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/residents/{openid}", response_model=ResidentPublic, dependencies=[MACHINE_ONLY])
def read_resident(openid: OpenidPath, session: SessionDep) -> ResidentPublic:
    """Phone and addresses remembered for a WeChat user, newest address first: for the bot, which
    confirms them with that user instead of asking again. Staff see contact data through orders."""
    return ResidentPublic.model_validate(people.get_resident(session, openid))


@router.post(
    "/grid-workers",
    status_code=status.HTTP_201_CREATED,
    response_model=GridWorkerRegistered,
    dependencies=[SUPERVISORS],
)
def register_grid_worker(
    body: GridWorkerCreate, session: SessionDep, now: NowDep, principal: PrincipalDep
) -> GridWorkerRegistered:
    """Register a grid worker (11.4). Without an openid, the answer carries a one-time code (shown once)
    that the grid worker sends the bot as "绑定 CODE" to bind their WeChat."""
    worker, code = people.register_grid_worker(session, body, now, principal.name)
    shown = GridWorkerPublic.model_validate(worker).model_dump()
    return GridWorkerRegistered(
        **shown, bind_code=code, bind_code_expires_at=worker.bind_code_expires_at if code else None
    )


@router.post(
    "/grid-workers/bind",
    response_model=GridWorkerPublic,
    dependencies=[MACHINE_ONLY],
    responses={429: {"model": ErrorBody, "description": "too many wrong codes from this sender"}},
)
def bind_grid_worker(body: GridWorkerBind, session: SessionDep, now: NowDep) -> GridWorkerPublic:
    """The bot binds the sender of a one-time code to that grid worker (404 for a wrong or expired code)."""
    return GridWorkerPublic.model_validate(people.bind_grid_worker(session, body.openid, body.code, now))


@router.get("/grid-workers/{openid}", response_model=GridWorkerPublic, dependencies=[STAFF_OR_MACHINE])
def read_grid_worker(openid: OpenidPath, session: SessionDep) -> GridWorkerPublic:
    """A registered, active grid worker (the bot checks a sender with this)."""
    return GridWorkerPublic.model_validate(people.get_grid_worker(session, openid))
