"""Residents as remembered by openid, and grid workers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.auth import MACHINE_ONLY, STAFF_OR_MACHINE, SUPERVISORS
from api.routes.deps import NowDep, SessionDep
from api.schemas import GridWorkerCreate, GridWorkerPublic, ResidentPublic
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
    response_model=GridWorkerPublic,
    dependencies=[SUPERVISORS],
)
def register_grid_worker(body: GridWorkerCreate, session: SessionDep, now: NowDep) -> GridWorkerPublic:
    return GridWorkerPublic.model_validate(people.register_grid_worker(session, body, now))


@router.get("/grid-workers/{openid}", response_model=GridWorkerPublic, dependencies=[STAFF_OR_MACHINE])
def read_grid_worker(openid: OpenidPath, session: SessionDep) -> GridWorkerPublic:
    """A registered, active grid worker (the bot checks a sender with this)."""
    return GridWorkerPublic.model_validate(people.get_grid_worker(session, openid))
